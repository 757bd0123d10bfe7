"""What the latents and neurons of a trained model encode, as PNGs (the
command: `python -m ginr_jax.cli.analysis`).

locality: for each chosen token k (the same tokens for every image, as the
paper's Fig. 12), the latents of a test image are decoded with token k
replaced by the zero vector -- a column of V for IPC, a latent token for
LA-GINR -- and |prediction - original prediction| (mean over channels) is
shown, rescaled to a maximum of 1. Rows: targets, reconstructions, then one
row per token. It also reports each map's footprint: the fraction of the
image that holds half of the total change (0.5 for a change spread evenly,
1/pixels for a single pixel), in locality.json and on stdout.

activations: one PNG per test image; the first row shows the target and the
reconstruction, then one row per hidden layer with the chosen neurons'
activations, each rescaled to [0, 1].
"""

import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import cli
from ginr_jax import coords as coords_lib
from ginr_jax import evaluators
from ginr_jax import input_pipeline
from ginr_jax import train


def make_render(model, shape: tuple[int, int], upsample: int, chunk: int):
  """jitted (params, latents) -> predictions on the upsampled pixel grid."""

  def render(params, latents):
    decode = functools.partial(model.apply, {"params": params}, method="decode")
    return evaluators.render(decode, latents, shape, upsample, chunk)

  return jax.jit(render)


def _check_images(setup):
  if getattr(setup.task, "key", None) != "image":
    raise cli.ConfigError(
        f"analysis draws maps over image pixels; this run's task is {setup.task}."
    )


def locality_maps(setup, params, images: np.ndarray, tokens, upsample: int):
  """(reconstructions, |change| maps [T, B, H', W']) when zeroing tokens of
  the test latents (after the inner loop for meta-learned models)."""
  _check_images(setup)
  model = setup.model
  latents, _ = train.encode(params, {"image": images}, model=model,
                            task=setup.task, meta=setup.meta)
  render = make_render(model, images.shape[1:3], upsample,
                       setup.config.eval_coord_chunk)
  return zeroed_token_maps(functools.partial(render, params), latents, tokens)


def zeroed_token_maps(render, latents, tokens):
  """(render(latents), |change| maps [T, B, *spatial]): the mean over
  channels of |render(latents with token k zeroed) - render(latents)| for
  each k in `tokens`.

  Args:
    render: latents -> predictions [B, *spatial, C].
    latents: [B, tokens, dim], one vector per token (IPC, LA-GINR).
    tokens: indices of the tokens to zero, one at a time.
  """
  if not isinstance(latents, jax.Array):
    raise cli.ConfigError(
        "Locality maps need one latent vector per token (IPC, LA-GINR); "
        f"this model's latents are a {type(latents).__name__}.")
  base = render(latents)
  maps = []
  for k in tokens:
    if not 0 <= k < latents.shape[1]:
      raise cli.ConfigError(f"Token {k} out of range: the model has "
                            f"{latents.shape[1]} latent tokens.")
    changed = render(latents.at[:, k].set(0.0))
    maps.append(jnp.abs(changed - base).mean(-1))
  return np.asarray(base), np.asarray(jnp.stack(maps))


def footprint(delta: np.ndarray) -> float:
  """Fraction of the pixels that hold half of the total |change|."""
  flat = np.sort(np.abs(delta).ravel())[::-1]
  total = flat.sum()
  if total == 0:
    return 0.0
  return float((np.searchsorted(np.cumsum(flat), 0.5 * total) + 1) / flat.size)


def heat(x: np.ndarray) -> np.ndarray:
  """[..., H, W] in [0, 1] -> RGB, black -> red -> yellow -> white."""
  x = np.clip(x, 0.0, 1.0)[..., None]
  return np.clip(np.concatenate([3 * x, 3 * x - 1, 3 * x - 2], -1), 0, 1)


def rescale_max(x: np.ndarray) -> np.ndarray:
  peak = x.max(axis=(-2, -1), keepdims=True)
  return x / np.where(peak > 0, peak, 1.0)


def spread_tokens(num_tokens: int, count: int = 8) -> list[int]:
  """`count` token indices spread evenly over 0 .. num_tokens - 1."""
  return np.linspace(0, max(num_tokens - 1, 0), count).astype(int).tolist()


def write_locality(config, setup, params, out_dir: str, tokens=None,
                   num_images: int = 4, upsample: int = 4) -> dict:
  images = input_pipeline.eval_sample(config.input, num_images)["image"]
  latents = jax.eval_shape(
      functools.partial(setup.model.apply, {"params": params}, method="encode"),
      images)
  if tokens is None:
    tokens = spread_tokens(getattr(latents, "shape", (0, 0))[1])
  recon, maps = locality_maps(setup, params, images, tokens, upsample)
  rows = [evaluators.upscale_nearest(images, upsample), recon]
  rows += [heat(rescale_max(m)) for m in maps]
  path = os.path.join(out_dir, "locality.png")
  evaluators.save_grid(path, rows)
  spans = [[footprint(m) for m in token_maps] for token_maps in maps]
  summary = {
      "model": config.model_name, "tokens": list(tokens), "footprint": spans,
      "mean_footprint": float(np.mean(spans)), "png": path
  }
  with open(os.path.join(out_dir, "locality.json"), "w") as f:
    json.dump(summary, f, indent=1)
  return summary


def write_activations(config, setup, params, out_dir: str, neurons,
                      num_images: int = 4, upsample: int = 4) -> list[str]:
  _check_images(setup)
  images = input_pipeline.eval_sample(config.input, num_images)["image"]
  grid = coords_lib.grid(images.shape[1:3], upsample=upsample)
  flat = jnp.asarray(grid.reshape(-1, 2))
  decode = jax.jit(lambda p, x: setup.model.
                   apply({"params": p},
                         train.encode(p, {"image": x}, model=setup.model, task=
                                      setup.task, meta=setup.meta)[0], flat,
                         return_activations=True, method="decode"))
  paths = []
  for i in range(num_images):  # one image at a time bounds the memory
    recon, hidden = decode(params, images[i:i + 1])
    width = hidden[0].shape[-1]
    if any(not 0 <= n < width for n in neurons):
      raise cli.ConfigError(
          f"Neurons {neurons} out of range: layers have {width}.")
    columns = max(len(neurons), 2)
    rows = [np.ones((columns, *grid.shape[:2], 3), np.float32)]
    rows[0][0] = evaluators.upscale_nearest(images[i:i + 1], upsample)[0]
    rows[0][1] = np.clip(np.asarray(recon[0]).reshape(*grid.shape[:2], 3), 0, 1)
    for h in hidden:
      maps = np.asarray(h[0][:, neurons]).T.reshape(-1, *grid.shape[:2])
      lo = maps.min(axis=(1, 2), keepdims=True)
      hi = maps.max(axis=(1, 2), keepdims=True)
      row = np.ones_like(rows[0])
      row[:len(neurons)] = heat((maps - lo) / np.where(hi > lo, hi - lo, 1))
      rows.append(row)
    path = os.path.join(out_dir, f"activations_{i}.png")
    evaluators.save_grid(path, rows)
    paths.append(path)
  return paths
