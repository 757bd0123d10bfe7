"""Learned Init / MAML: every hyponet weight adapted by the inner loop.

The baseline of IPC §4.4 (Tancik et al.'s Learned Init, MAML-style) as the
official code runs it (`docs/faithfulness.md#meta-learning`): the outer
parameters are an initial weight V_0 for every layer, W = V directly (then
weight-normalised like every hyponet layer), and the shared biases; each
instance adapts all its weights in the trainer's inner loop
(`ginr_jax/meta.py`).
V_0 ~ N(0, 1/sqrt(fan_in)), biases zero. With `adapt_biases` the biases are
adapted too (MAML over all MLP parameters).

Latents: {layer_name: {"w": [B, fan_in, fan_out] (, "b": [B, fan_out])}}.
"""

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax.models import hyponet as hyponet_lib


class Model(nn.Module):
  """Images (only their batch size) -> initial weights per instance.

  Attributes:
    hyponet: the coordinate MLP's shape.
    adapt_biases: the biases are latents too (adapted per instance).
  """

  hyponet: hyponet_lib.HypoNet
  adapt_biases: bool = False

  def setup(self):

    def init_latents(rng):
      latents = {}
      rngs = jax.random.split(rng, self.hyponet.n_layers)
      for i, (fan_in, fan_out) in enumerate(self.hyponet.layer_shapes):
        layer = {
            "w": jax.random.normal(rngs[i], (fan_in, fan_out)) / np.sqrt(fan_in)
        }
        if self.adapt_biases:
          layer["b"] = jnp.zeros((fan_out,))
        latents[hyponet_lib.layer_name(i)] = layer
      return latents

    self.init_latents = self.param("init_latents", init_latents)
    if not self.adapt_biases:
      self.biases = self.param(
          "hyponet", lambda rng: {
              name: {"b": layer["b"]} for name, layer in self.hyponet.init(
                  rng, skip_weights=tuple(range(self.hyponet.n_layers))).items(
                  )
          })

  def __call__(self, images: jax.Array, coords: jax.Array,
               train: bool = False) -> jax.Array:
    """Predictions of the unadapted initialisation."""
    return self.decode(self.encode(images, train), coords)

  def encode(self, images: jax.Array, train: bool = False):
    """The initial weights, repeated for each of the B images."""
    del train
    b = images.shape[0]
    # setup() froze the dict; latents are plain dicts like hyponet weights.
    return jax.tree.map(lambda x: jnp.broadcast_to(x, (b, *x.shape)),
                        flax.core.unfreeze(self.init_latents))

  def decode(self, latents, coords: jax.Array,
             return_activations: bool = False):
    params = {
        name: {**layer, **({} if self.adapt_biases else self.biases[name])}
        for name, layer in latents.items()
    }
    return self.hyponet.apply_batch(params, coords, return_activations)


NAME = "Learned Init"
ARGS = {}
DECODER_PARAMS = ("hyponet",)


def configure(c, args: dict, hyponet: dict):
  """`hyponet`, its weights adapted (its biases with adapt_biases)."""
  del args
  c.model = dict(hyponet=hyponet, adapt_biases=False)


def tiny(model):
  del model  # its sizes are the MLP's


def variant(model) -> tuple:
  return (model["adapt_biases"],)


def build(cfg: dict) -> Model:
  return Model(**{**cfg, "hyponet": hyponet_lib.HypoNet(**cfg["hyponet"])})
