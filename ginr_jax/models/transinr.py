"""TransINR: every hyponet layer modulated through weight groups.

TransINR (Chen & Wang, ECCV'22) as the IPC paper trains it as its baseline;
`docs/faithfulness.md#transinr`. Layer l gets g_l = min(groups,
fan_out_l) weight tokens (64 groups for images: 64 x 4 + 3 = 259 tokens).
Each token's output is mapped by its layer's LayerNorm -> Linear(width,
fan_in) to a group vector; the [fan_in, g] group matrix is tiled along the
output units (unit j uses group j mod g) and multiplies the kept, shared base
weight elementwise:

    W_l = W_base_l * tile(G_l, fan_out / g)      then normalised per unit,

plus the shared bias. The latents (`encode`) are {layer_name: [B, g_l,
fan_in_l]}, one group vector per weight token.
"""

import jax
import jax.numpy as jnp

from ginr_jax import cli
from ginr_jax.models import hypernet
from ginr_jax.models import hyponet as hyponet_lib
from ginr_jax.models import transformer


def group_counts(hyponet: hyponet_lib.HypoNet, groups: int) -> list[int]:
  """g_l = min(groups, fan_out_l) per layer; each must divide fan_out_l."""
  counts = []
  for i, (_, fan_out) in enumerate(hyponet.layer_shapes):
    g = min(groups, fan_out)
    if fan_out % g:
      raise ValueError(f"groups={groups} does not divide fan_out={fan_out} of "
                       f"layer {i}; pick a divisor of the MLP width.")
    counts.append(g)
  return counts


class Model(hypernet.HypernetModel):
  """Images [B, H, W, C] -> weight-group modulated hyponets -> predictions;
  the encoder's fields are `hypernet.HypernetModel`'s.

  Attributes:
    hyponet: the coordinate MLP's shape.
    groups: weight groups per layer (capped at the layer's fan_out).
  """

  hyponet: hyponet_lib.HypoNet
  groups: int = 64

  def setup(self):
    self.counts = group_counts(self.hyponet, self.groups)
    self.encoder = self.make_encoder(sum(self.counts))
    shapes = self.hyponet.layer_shapes
    self.group_norms = [transformer.layer_norm() for _ in shapes]
    self.group_heads = [transformer.Linear(fan_in) for fan_in, _ in shapes]
    self.shared = self.param("hyponet", self.hyponet.init)

  def __call__(self, images: jax.Array, coords: jax.Array,
               train: bool = False) -> jax.Array:
    """Predictions [B, N, output_dim] at coords [N, D] or [B, N, D]."""
    return self.decode(self.encode(images, train), coords)

  def encode(self, images: jax.Array, train: bool = False):
    """{layer_name: group vectors [B, g_l, fan_in_l]} of images in [0, 1]."""
    tokens = self.weight_token_outputs(images, train)
    latents, start = {}, 0
    for i, g in enumerate(self.counts):
      y = tokens[:, start:start + g]
      latents[hyponet_lib.layer_name(i)] = self.group_heads[i](
          self.group_norms[i](y))
      start += g
    return latents

  def decode(self, latents, coords: jax.Array,
             return_activations: bool = False):
    """The hyponet of every instance at coords; see `HypoNet.apply_batch`."""
    return self.hyponet.apply_batch(self.hypo_params(latents), coords,
                                    return_activations)

  def hypo_params(self, latents):
    """Per-instance W_l = W_base_l * tile(G_l) for every layer."""
    params = {}
    for i, (_, fan_out) in enumerate(self.hyponet.layer_shapes):
      name = hyponet_lib.layer_name(i)
      g = jnp.swapaxes(latents[name], -1, -2)  # [B, fan_in, g]
      reps = fan_out // g.shape[-1]
      tiled = jnp.tile(g, (1,) * (g.ndim - 1) + (reps,))  # unit j: j mod g
      params[name] = {
          "w": self.shared[name]["w"] * tiled, "b": self.shared[name]["b"]
      }
    return params


NAME = "TransINR"
ARGS = dict(
    groups=64,  # weight groups per layer
    recipe="ipc"  # "ipc" (IPC's baseline) | "original" (TransINR's)
)
DECODER_PARAMS = ("hyponet",)


def configure(c, args: dict, hyponet: dict):
  """The official encoder and `hyponet` with args' groups (ARGS); TransINR's
  own recipe changes the Fourier sigma, dropout and the LR schedule."""
  if args["recipe"] not in ("ipc", "original"):
    raise cli.ConfigError(f"recipe={args['recipe']!r}; use ipc or original.")
  c.model = dict(hypernet.ENCODER, hyponet=hyponet, groups=args["groups"])
  if args["recipe"] == "original":  # docs/faithfulness.md#transinr
    c.model.hyponet.ff_sigma = 1024.0
    c.model.dropout = 0.0
    c.optim.schedule = "step"
    c.optim.decay_factor, c.optim.decay_at = 0.1, (0.8,)


def tiny(model):
  model["groups"] = 4


def variant(model) -> tuple:
  del model  # its groups are sizes
  return ()


def build(cfg: dict) -> Model:
  return Model(**{**cfg, "hyponet": hyponet_lib.HypoNet(**cfg["hyponet"])})
