"""Model FLOPs of a training step, counted from the config's shapes, and the
accelerators' dense peaks that turn them into model FLOPs utilisation (MFU).

What is counted: every matrix product of the forward pass -- the encoder's
patch embedding, each transformer block's q, k, v and output projections,
attention scores and values and MLP, and the weight / latent heads; the
decoder's per-instance weight composition (IPC's V U, TransINR's and
Hadamard's elementwise product) and hyponet layers, or LA-GINR's coordinate
features, cross-attention, modulations and heads -- at 2 FLOPs per
multiply-add. The backward pass is counted as 2x the forward, so a step is
3x the forward (the usual convention; XLA's backward skips the input
gradient of the first layers, which have no differentiable input).
Elementwise work (activations, LayerNorm, softmax, weight normalisation,
Fourier features, the loss) and the optimizer's update are not model FLOPs
and are left out.

Work that depends on the coordinates only is counted once per step when the
batch shares its coordinates (no jitter, no subsampling), as `jax.vmap`
computes it then (models/hyponet.py, models/la_ginr.py); with
`train.coord_subsample` each instance has floor(ratio * N) coordinates.

Counted for the models that encode in one pass (IPC, TransINR, LA-GINR) on
signals on a grid (images, audio); `Unsupported` says why for the others.
"""

import math
import re

from ginr_jax.models import hyponet as hyponet_lib
from ginr_jax.models import tokenizers
from ginr_jax.models import transinr


class Unsupported(ValueError):
  """A config whose model FLOPs this module does not count."""


def matmul(m: int, k: int, n: int) -> int:
  """FLOPs of an [m, k] @ [k, n] product: one multiply-add is 2."""
  return 2 * m * k * n


def transformer_forward(tokens: int, width: int, depth: int,
                        mlp_dim: int) -> int:
  """One instance's pre-LN blocks over `tokens` tokens."""
  projections = 4 * matmul(tokens, width, width)  # q, k, v, out
  attention = 2 * matmul(tokens, width, tokens)  # scores, then values
  mlp = matmul(tokens, width, mlp_dim) + matmul(tokens, mlp_dim, width)
  return depth * (projections + attention + mlp)


def encoder_forward(model: dict, model_name: str, signal_shape) -> int:
  """One instance's hypernetwork: patch embedding, transformer, heads."""
  *spatial, channels = signal_shape
  patch, width = model["patch_size"], model["width"]
  tokens = tokenizers.num_patches(spatial, patch, model["patch_padding"])
  patch_dim = channels * patch**len(spatial)
  if model_name == "ipc":
    shapes = hyponet_lib.HypoNet(**model["hyponet"]).layer_shapes
    fan_in, fan_out = shapes[model["modulated_layer"]]
    weight_tokens = model["rank"]
    heads = matmul(weight_tokens, width, fan_in)
    if model["composer_form"] == "instance_u":
      heads += matmul(weight_tokens, width, fan_out)
  elif model_name == "transinr":
    net = hyponet_lib.HypoNet(**model["hyponet"])
    counts = transinr.group_counts(net, model["groups"])
    weight_tokens = sum(counts)
    heads = sum(
        matmul(g, width, fan_in)
        for g, (fan_in, _) in zip(counts, net.layer_shapes))
  else:
    weight_tokens = model["num_latents"]
    heads = (0 if model.get("latent_projection") == "none" else matmul(
        weight_tokens, width, model["decoder"]["hidden_dim"]))
  return (matmul(tokens, patch_dim, width) + transformer_forward(
      tokens + weight_tokens, width, model["depth"], model["mlp_dim"]) + heads)


def hyponet_forward(model: dict, model_name: str, coords: int, batch: int,
                    shared: bool) -> int:
  """IPC's or TransINR's B hyponets at `coords` coordinates each, with
  their weight composition."""
  net = hyponet_lib.HypoNet(**model["hyponet"])
  if model_name == "ipc":
    modulated = {model["modulated_layer"]}
    fan_in, fan_out = net.layer_shapes[model["modulated_layer"]]
    form = model["composer_form"]
    composition = {
        "shared_u": matmul(fan_in, model["rank"], fan_out),
        "instance_u": matmul(fan_in, model["rank"], fan_out),
        "hadamard": fan_in * fan_out,  # U * V(n): one multiply per weight
        "direct": 0
    }[form]
  else:  # every layer: W_base * tile(G), one multiply per weight
    modulated = set(range(net.n_layers))
    composition = sum(fi * fo for fi, fo in net.layer_shapes)
  flops = batch * composition
  instance_dependent = False
  for i, (fan_in, fan_out) in enumerate(net.layer_shapes):
    # A layer depends on the instance from the first modulated one on.
    instance_dependent = instance_dependent or i in modulated
    copies = batch if instance_dependent or not shared else 1
    flops += copies * matmul(coords, fan_in, fan_out)
  return flops


def la_ginr_decoder_forward(decoder: dict, latents: int, coords: int,
                            batch: int, shared: bool) -> int:
  """LA-GINR's decoder (models/la_ginr.py, Eq. 2-9) for B instances."""
  d, out = decoder["hidden_dim"], decoder["output_dim"]
  levels = len(decoder["sigmas"])
  multiband = decoder["multiband"]
  attention = decoder["token_aggregation"] == "attention"
  # Coordinate-only: q_v (Eq. 4), the bands' Linears (Eq. 6) and the
  # attention's query projection.
  coordinate = matmul(coords, decoder["freq_dim"], d)
  if multiband and decoder["freq_linear"]:
    coordinate += levels * matmul(coords, decoder["freq_dim"], d)
  if attention:
    coordinate += matmul(coords, d, d)
  instance = 0
  once = 0  # per step, independent of the batch
  if attention:
    instance += 2 * matmul(latents, d, d)  # keys, values
    instance += 2 * matmul(coords, latents, d)  # scores, then values
  else:  # w/o STA: m_v = ReLU(q_v normalize(V U) + b)
    instance += matmul(d, latents, d) + matmul(coords, d, d)
  if multiband:
    if decoder["mod_linear"] and attention:
      # Eq. 5's output projection folded into Eq. 7's Linears
      # (Decoder.level_modulations): one [d, L*d] product per coordinate
      # and the fold, once per step.
      instance += matmul(coords, d, levels * d)
      once += levels * matmul(d, d, d)
    elif decoder["mod_linear"]:
      instance += levels * matmul(coords, d, d)
    elif attention:
      instance += matmul(coords, d, d)  # Eq. 5's output projection
    instance += (levels - 1) * matmul(coords, d, d)  # Eq. 8
    instance += levels * matmul(coords, d, out)  # Eq. 9
  else:
    if attention:
      instance += matmul(coords, d, d)  # Eq. 5's output projection
    instance += decoder["mlp_layers"] * matmul(coords, d, d)
    instance += matmul(coords, d, out)
  return (1 if shared else batch) * coordinate + batch * instance + once


def train_step(config, signal_shape) -> dict[str, int]:
  """Model FLOPs of one training step of `config` on a global batch of
  signals [*spatial, C] of `signal_shape`: the encoder's, the decoder's
  and their sum, each forward + backward (3x the forward).

  Raises:
    Unsupported: a model family or task that is not counted.
  """
  name = config.model_name
  if name not in ("ipc", "transinr", "la_ginr"):
    raise Unsupported(f"model FLOPs are counted for ipc, transinr and "
                      f"la_ginr, not {name}")
  if config.task.name != "signal":
    raise Unsupported(f"model FLOPs are counted for signals on a grid, not "
                      f"task {config.task.name}")
  model = config.model.to_dict()
  batch = config.input.batch_size
  num_coords = math.prod(signal_shape[:-1])
  ratio = config.train.coord_subsample
  if ratio < 1.0:
    num_coords = int(num_coords * ratio)  # as coords.subsample_indices
  shared = not config.train.coord_jitter and ratio >= 1.0
  encoder = batch * encoder_forward(model, name, signal_shape)
  if name == "la_ginr":
    decoder = la_ginr_decoder_forward(model["decoder"], model["num_latents"],
                                      num_coords, batch, shared)
  else:
    decoder = hyponet_forward(model, name, num_coords, batch, shared)
  # Backward: 2x the forward.
  return {
      "encoder_flops_per_step": 3 * encoder,
      "decoder_flops_per_step": 3 * decoder,
      "model_flops_per_step": 3 * (encoder + decoder)
  }


# Dense (not 2:4-sparse) peak TFLOP/s per chip from the vendors' datasheets.
# "tf32" is NVIDIA's TF32 tensor-core figure, "fp32" its CUDA-core FP32 one;
# TPUs have only a bfloat16 matrix unit.
PEAK_TFLOPS = {
    "A100 SXM": dict(bf16=312.0, tf32=156.0, fp32=19.5),
    "H100 SXM": dict(bf16=989.4, tf32=494.7, fp32=66.9),
    "H200": dict(bf16=989.4, tf32=494.7, fp32=66.9),  # H100's compute
    "B200": dict(bf16=2250.0, tf32=1100.0, fp32=75.0),  # HGX, 1,000 W
    "TPU v4": dict(bf16=275.0),
    "TPU v5e": dict(bf16=197.0),
    "TPU v5p": dict(bf16=459.0),
}
# jax.devices()[0].device_kind -> PEAK_TFLOPS key, first match wins. The
# PCIe / NVL cards of the same names have lower peaks and stay unknown.
_CHIPS = ((r"a100-sxm", "A100 SXM"), (r"h100 (sxm|80gb hbm3)", "H100 SXM"),
          (r"^nvidia h200$", "H200"), (r"^nvidia b200$", "B200"),
          (r"^tpu v4$", "TPU v4"), (r"^tpu v5( lite|e)$",
                                    "TPU v5e"), (r"^tpu v5p?$", "TPU v5p"),
         )
# jax_default_matmul_precision values whose float32 products run on NVIDIA
# tensor cores in TF32 / on TPUs in one bfloat16 pass (None: JAX's default,
# which leans to speed), and those that compute true float32 on NVIDIA GPUs.
_FAST_FP32 = (None, "default", "tensorfloat32", "TF32_TF32_F32")
_TRUE_FP32 = ("highest", "float32", "F32_F32_F32")


def chip(device_kind: str) -> str | None:
  """The PEAK_TFLOPS key of a device kind, or None."""
  for pattern, name in _CHIPS:
    if re.search(pattern, device_kind.strip().lower()):
      return name
  return None


def peak_tflops(device_kind: str, dtype: str,
                matmul_precision: str | None) -> tuple[float | None, str]:
  """(dense peak TFLOP/s of one chip for `dtype`'s matmuls, which figure);
  (None, why) where the table has none.

  bfloat16 uses the bf16 figure. float32 uses, on NVIDIA GPUs, the TF32
  tensor-core figure under JAX's default matmul precision (TF32 on Ampere
  and later) and the FP32 one under "highest"; on TPUs the bf16 figure
  under the default precision (one bfloat16 pass).
  """
  name = chip(device_kind)
  if name is None:
    return None, (f"no peak for device kind {device_kind!r} in "
                  "flops.PEAK_TFLOPS; pass --peak_tflops")
  peaks = PEAK_TFLOPS[name]
  if dtype == "bfloat16":
    return peaks["bf16"], f"{name} bf16 dense"
  if dtype != "float32":
    return None, f"no peak for dtype {dtype}; pass --peak_tflops"
  tpu = "tf32" not in peaks
  if matmul_precision in _FAST_FP32:
    key = "bf16" if tpu else "tf32"
    return peaks[key], (f"{name} {key} dense (float32 matmuls at precision "
                        f"{matmul_precision or 'default'})")
  if matmul_precision in _TRUE_FP32 and not tpu:
    return peaks["fp32"], f"{name} fp32 (precision {matmul_precision})"
  return None, (f"no {name} peak for float32 at matmul precision "
                f"{matmul_precision}; pass --peak_tflops")
