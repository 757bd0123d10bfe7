"""IPC: a transformer hypernetwork predicts the instance pattern composer V.

IPC paper §3.2-3.3 and Fig. 2; `docs/faithfulness.md#ipc` (and `#tokenizer`,
`#transformer`). One hyponet layer (`modulated_layer`, the second by
default) gets the per-instance weight

    W_m = V(n) @ U        V(n): [fan_in, r] per instance, U: [r, fan_out]

(the paper's W_m = U V(n) in column-vector notation), normalised per output
unit like every other layer. All other weights and every bias are shared.
V's r columns are the transformer's outputs at r learnable weight tokens,
mapped by LayerNorm -> Linear(width, fan_in).

`composer_form` selects the modulation of IPC Table 6 (the ablation):
  "shared_u"    W = V(n) U, the paper's method (default);
  "direct"      W = V(n): the r = fan_out token columns are the weight;
  "instance_u"  W = V(n) U(n): every token also gives a row of U(n);
  "hadamard"    W = U * V(n) elementwise, U shared [fan_in, fan_out] with the
                hyponet's base-weight init, r = fan_out.

The model's latents (`encode`) are one vector per weight token, [B, r, C]:
the columns of V (C = fan_in), followed by the rows of U(n) for
"instance_u" (C = fan_in + fan_out).

Deviation from the official code: it also allocates a base weight for the
modulated layer that is never used (65,536 parameters for d = 256); we do not
create it, so the ImageNette model has 43,680,771 parameters, the official
count less that unused block.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import cli
from ginr_jax.models import hypernet
from ginr_jax.models import hyponet as hyponet_lib
from ginr_jax.models import transformer

COMPOSER_FORMS = ("shared_u", "direct", "instance_u", "hadamard")


class Model(hypernet.HypernetModel):
  """Images [B, H, W, C] -> per-instance hyponet weights -> predictions;
  the encoder's fields are `hypernet.HypernetModel`'s.

  Attributes:
    hyponet: the coordinate MLP's shape.
    rank: r, the number of weight tokens and of columns of V.
    modulated_layer: index of the hyponet layer modulated by V (0-based; the
      paper's "second layer" is 1).
    composer_form: one of COMPOSER_FORMS (IPC Table 6).
  """

  hyponet: hyponet_lib.HypoNet
  rank: int = 256
  modulated_layer: int = 1
  composer_form: str = "shared_u"

  def setup(self):
    n_layers = self.hyponet.n_layers
    if not 0 <= self.modulated_layer < n_layers:
      raise ValueError(f"modulated_layer={self.modulated_layer} must be in "
                       f"[0, {n_layers - 1}] (0-based).")
    if self.composer_form not in COMPOSER_FORMS:
      raise ValueError(
          f"composer_form={self.composer_form!r}; use one of {COMPOSER_FORMS}.")
    fan_in, fan_out = self.hyponet.layer_shapes[self.modulated_layer]
    if self.composer_form in ("direct", "hadamard") and self.rank != fan_out:
      raise ValueError(
          f"composer_form={self.composer_form!r} predicts the whole "
          f"[{fan_in}, {fan_out}] weight: set rank={fan_out} (= fan_out of "
          f"layer {self.modulated_layer}), not {self.rank}.")
    self.encoder = self.make_encoder(self.rank)
    self.composer_norm = transformer.layer_norm()
    self.composer_head = transformer.Linear(fan_in)
    if self.composer_form == "shared_u":
      self.composer_u = self.param(
          "composer_u",
          nn.initializers.normal(1.0 / np.sqrt(self.rank * fan_in)),
          (self.rank, fan_out))
    elif self.composer_form == "instance_u":
      self.composer_u_head = transformer.Linear(fan_out)
    elif self.composer_form == "hadamard":
      self.composer_u = self.param(
          "composer_u", lambda rng: self.hyponet.init(rng)[
              hyponet_lib.layer_name(self.modulated_layer)]["w"])
    self.shared = self.hyponet.modulated_param(self, self.modulated_layer)

  def __call__(self, images: jax.Array, coords: jax.Array,
               train: bool = False) -> jax.Array:
    """Predictions [B, N, output_dim] at coords [N, D] or [B, N, D]."""
    return self.decode(self.encode(images, train), coords)

  def encode(self, images: jax.Array, train: bool = False) -> jax.Array:
    """Latents [B, r, C] of images [B, H, W, C] in [0, 1] (module docstring).

    `train` enables dropout (needs a "dropout" rng).
    """
    y = self.composer_norm(self.weight_token_outputs(images,
                                                     train))  # [B, r, width]
    v = self.composer_head(y)  # [B, r, fan_in]
    if self.composer_form == "instance_u":
      v = jnp.concatenate([v, self.composer_u_head(y)], axis=-1)
    return v

  def decode(self, latents: jax.Array, coords: jax.Array,
             return_activations: bool = False):
    """The hyponet of every instance at coords; see `HypoNet.apply_batch`."""
    return self.hyponet.apply_batch(self.hypo_params(latents), coords,
                                    return_activations)

  def hypo_params(self, latents: jax.Array):
    """Hyponet weights with the modulated layer's W from latents [B, r, C]."""
    fan_in = self.hyponet.layer_shapes[self.modulated_layer][0]
    v = jnp.swapaxes(latents[..., :fan_in], -1, -2)  # [B, fan_in, r]
    if self.composer_form == "shared_u":
      w = v @ self.composer_u
    elif self.composer_form == "direct":
      w = v
    elif self.composer_form == "instance_u":
      w = v @ latents[..., fan_in:]
    else:
      w = self.composer_u * v
    return hyponet_lib.with_weight(self.shared, self.modulated_layer, w)


NAME = "IPC"
ARGS = dict(
    form="shared_u",  # composer form (IPC Table 6), COMPOSER_FORMS
    layer=2,  # modulated layer, 1-based as IPC Table 7
    r=256  # rank r: weight tokens
)
DECODER_PARAMS = ("hyponet", "composer_u")


def configure(c, args: dict, hyponet: dict):
  """The official encoder, `hyponet` and V on args' layer (ARGS)."""
  layer = args["layer"] - 1
  shapes = hyponet_lib.HypoNet(**hyponet).layer_shapes
  if not 0 <= layer < len(shapes):
    raise cli.ConfigError(
        f"layer={args['layer']}: the MLP has layers 1-{len(shapes)}.")
  # The official code caps the weight tokens at fan_out.
  c.model = dict(hypernet.ENCODER, hyponet=hyponet,
                 rank=min(args["r"], shapes[layer][1]), modulated_layer=layer,
                 composer_form=args["form"])


def tiny(model):
  # r = 3 where the RGB output layer capped it; the whole weight of the
  # 16-wide tiny MLP for the forms that predict it.
  model["rank"] = (3 if model["rank"] == 3 else
                   (16 if model["composer_form"] in ("direct",
                                                     "hadamard") else 8))


def variant(model) -> tuple:
  return (model["composer_form"],
          hyponet_lib.edge_layer(model["modulated_layer"], model["hyponet"]))


def build(cfg: dict) -> Model:
  return Model(**{**cfg, "hyponet": hyponet_lib.HypoNet(**cfg["hyponet"])})
