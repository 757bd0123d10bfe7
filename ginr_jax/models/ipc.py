"""IPC: a transformer hypernetwork predicts the instance pattern composer V.

IPC paper §3.2-3.3 and Fig. 2; `official_code_facts.md` §1.3-1.5. One hyponet
layer (`modulated_layer`, the second by default) gets the per-instance weight

    W_m = V(n) @ U        V(n): [fan_in, r] per instance, U: [r, fan_out]

(the paper's W_m = U V(n) in column-vector notation), normalised per output
unit like every other layer. All other weights and every bias are shared.
V's r columns are the transformer's outputs at r learnable weight tokens,
mapped by LayerNorm -> Linear(width, fan_in).

Deviation from the official code: it also allocates a base weight for the
modulated layer that is never used (65,536 parameters for d = 256); we do not
create it, so the ImageNette model has 43,680,771 parameters, the official
count less that unused block.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax.models import hypernet
from ginr_jax.models import hyponet as hyponet_lib
from ginr_jax.models import tokenizers
from ginr_jax.models import transformer


class Model(nn.Module):
  """Images [B, H, W, C] -> per-instance hyponet weights.

  Attributes:
    hyponet: the coordinate MLP's shape.
    patch_size: side of the non-overlapping square patches.
    patch_padding: zero padding on each image side before patching.
    rank: r, the number of weight tokens and of columns of V.
    modulated_layer: index of the hyponet layer modulated by V.
    width: transformer width (= token embedding size).
    depth: number of transformer blocks.
    num_heads: attention heads.
    mlp_dim: hidden size of the transformer MLPs.
    dropout: residual dropout rate of the transformer.
  """

  hyponet: hyponet_lib.HypoNet
  patch_size: int = 9
  patch_padding: int = 1
  rank: int = 256
  modulated_layer: int = 1
  width: int = 768
  depth: int = 6
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout: float = 0.1

  def setup(self):
    if not 0 < self.modulated_layer < self.hyponet.n_layers:
      raise ValueError(
          f"modulated_layer={self.modulated_layer} must be a layer after the "
          f"first and at most {self.hyponet.n_layers - 1}.")
    fan_in, fan_out = self.hyponet.layer_shapes[self.modulated_layer]
    self.encoder = hypernet.WeightTokenEncoder(
        self.rank, self.width, self.depth, self.num_heads, self.mlp_dim,
        self.dropout)
    self.composer_norm = transformer.layer_norm()
    self.composer_head = transformer.Linear(fan_in)
    self.composer_u = self.param(
        "composer_u", nn.initializers.normal(1.0 / np.sqrt(self.rank * fan_in)),
        (self.rank, fan_out))
    self.shared = self.param(
        "hyponet", lambda rng: self.hyponet.init(
            rng, skip_weights=(self.modulated_layer,)))

  def __call__(self, images: jax.Array, train: bool = False):
    """Predicts hyponet weights for a batch of images.

    Args:
      images: [B, H, W, C] in [0, 1].
      train: enables dropout (needs a "dropout" rng).

    Returns:
      The hyponet weights pytree (`hyponet.py`): shared leaves without an
      instance axis, the modulated layer's "w" as [B, fan_in, fan_out].
    """
    return self.hypo_params(self.predict_composer(images, train))

  def predict_composer(self, images: jax.Array, train: bool = False
                       ) -> jax.Array:
    """The instance pattern composers V [B, fan_in, r] of the images."""
    patches = tokenizers.patchify(images, self.patch_size, self.patch_padding)
    y = self.encoder(patches, train)                        # [B, r, width]
    y = self.composer_head(self.composer_norm(y))           # [B, r, fan_in]
    return jnp.swapaxes(y, 1, 2)

  def hypo_params(self, v: jax.Array):
    """Hyponet weights with W_m = V @ U; V is [B, fan_in, r] or [fan_in, r]."""
    params = {name: dict(layer) for name, layer in self.shared.items()}
    params[hyponet_lib.layer_name(self.modulated_layer)]["w"] = (
        v @ self.composer_u)
    return params
