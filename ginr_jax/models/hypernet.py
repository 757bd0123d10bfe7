"""The transformer hypernetwork trunk (IPC Fig. 2, TransINR).

Data tokens (linear patch embedding + learned positional embedding) are
concatenated with learnable weight tokens and run through the pre-LN
transformer; the outputs at the weight tokens are returned. IPC reads V from
them, TransINR its weight groups.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from ginr_jax.models import transformer

# The official encoder's config fields (IPC, TransINR and LA-GINR): 9x9
# patches with 1-pixel padding (178 px -> 180 -> 400 tokens) and the 6-block
# width-768 transformer, its compute dtype float32.
ENCODER = dict(patch_size=9, patch_padding=1, width=768, depth=6,
               num_heads=12, mlp_dim=3072, dropout=0.1, dtype="float32")


class WeightTokenEncoder(nn.Module):
  """[B, T, P] data tokens -> [B, num_weight_tokens, width] output tokens.

  Attributes:
    num_weight_tokens: learnable tokens appended to the data tokens.
    width: token embedding size (768 in the papers).
    depth: transformer blocks.
    num_heads: attention heads.
    mlp_dim: hidden size of the transformer MLPs.
    dropout: residual dropout rate.
    dtype: compute dtype of the transformer ("bfloat16" for mixed
      precision); parameters and the returned tokens are float32.
  """

  num_weight_tokens: int
  width: int = 768
  depth: int = 6
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout: float = 0.1
  dtype: str = "float32"

  @nn.compact
  def __call__(self, tokens: jax.Array, train: bool) -> jax.Array:
    b, num_tokens, _ = tokens.shape
    x = transformer.Linear(self.width, self.dtype, name="patch_embed")(tokens)
    # N(0, 1) as the official pos_emb_latent and weight tokens.
    pos = self.param("pos_embed", nn.initializers.normal(1.0),
                     (num_tokens, self.width))
    weight_tokens = self.param("weight_tokens", nn.initializers.normal(1.0),
                               (self.num_weight_tokens, self.width))
    x = jnp.concatenate(
        [x + pos.astype(self.dtype), jnp.broadcast_to(
            weight_tokens, (b, *weight_tokens.shape)).astype(self.dtype)],
        axis=1)
    x = transformer.Encoder(self.depth, self.num_heads, self.mlp_dim,
                            self.dropout, self.dtype, name="transformer")(
                                x, train)
    return x[:, num_tokens:].astype(jnp.float32)
