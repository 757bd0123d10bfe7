"""Meta-IPC: IPC without an encoder, V adapted by an inner loop.

IPC paper §3.3, Algorithm 1; `docs/faithfulness.md#meta-learning`. The outer
parameters are a learned initial composer V_0, the shared factor U and the
shared hyponet (its modulated layer's base weight is not used); every
instance starts from V_0 and the trainer's inner loop (`ginr_jax/meta.py`)
adapts its V by norm-scaled SGD on its own reconstruction error.

Latents are laid out like IPC's ([B, r, fan_in], the columns of V), so
IPC's test-time optimisation and analysis apply unchanged. Init as the
official code: V_0 ~ N(0, 1), U ~ N(0, 1/sqrt(r * fan_in)); r = min(rank,
fan_out).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax.models import hyponet as hyponet_lib


class Model(nn.Module):
  """Images (only their batch size) -> V_0 per instance -> the hyponet.

  Attributes:
    hyponet: the coordinate MLP's shape.
    rank: r, the columns of V (capped at the layer's fan_out, as official).
    modulated_layer: index of the hyponet layer with W = V U (0-based).
  """

  hyponet: hyponet_lib.HypoNet
  rank: int = 256
  modulated_layer: int = 1

  def setup(self):
    if not 0 <= self.modulated_layer < self.hyponet.n_layers:
      raise ValueError(f"modulated_layer={self.modulated_layer} must be in "
                       f"[0, {self.hyponet.n_layers - 1}].")
    fan_in, fan_out = self.hyponet.layer_shapes[self.modulated_layer]
    r = min(self.rank, fan_out)
    self.init_latents = self.param("init_latents", nn.initializers.normal(1.0),
                                   (r, fan_in))
    self.composer_u = self.param(
        "composer_u", nn.initializers.normal(1.0 / np.sqrt(r * fan_in)),
        (r, fan_out))
    self.shared = self.hyponet.modulated_param(self, self.modulated_layer)

  def __call__(self, images: jax.Array, coords: jax.Array,
               train: bool = False) -> jax.Array:
    """Predictions of the unadapted V_0 (the trainer adapts in between)."""
    return self.decode(self.encode(images, train), coords)

  def encode(self, images: jax.Array, train: bool = False) -> jax.Array:
    """V_0 for each of the B images, [B, r, fan_in]."""
    del train
    return jnp.broadcast_to(self.init_latents,
                            (images.shape[0], *self.init_latents.shape))

  def decode(self, latents: jax.Array, coords: jax.Array,
             return_activations: bool = False):
    return self.hyponet.apply_batch(self.hypo_params(latents), coords,
                                    return_activations)

  def hypo_params(self, latents: jax.Array):
    """Hyponet weights with W = V @ U from latents [B, r, fan_in]."""
    return hyponet_lib.with_weight(
        self.shared, self.modulated_layer,
        jnp.swapaxes(latents, -1, -2) @ self.composer_u)


NAME = "Meta-IPC"
ARGS = {}
DECODER_PARAMS = ("hyponet", "composer_u")


def configure(c, args: dict, hyponet: dict):
  """`hyponet` with V U on its second layer, r = 256 (the official)."""
  del args
  c.model = dict(hyponet=hyponet, rank=256, modulated_layer=1)


def tiny(model):
  model["rank"] = 8


def variant(model) -> tuple:
  return (hyponet_lib.edge_layer(model["modulated_layer"], model["hyponet"]),)


def build(cfg: dict) -> Model:
  return Model(**{**cfg, "hyponet": hyponet_lib.HypoNet(**cfg["hyponet"])})
