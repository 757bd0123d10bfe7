"""The transformer hypernetwork trunk (IPC Fig. 2, TransINR).

Data tokens (linear patch embedding + learned positional embedding) are
concatenated with learnable weight tokens and run through the pre-LN
transformer; the outputs at the weight tokens are returned. IPC reads V from
them, TransINR its weight groups, LA-GINR its latent tokens; the three
models subclass `HypernetModel`.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from ginr_jax.models import tokenizers
from ginr_jax.models import transformer

# The official encoder's config fields (IPC, TransINR and LA-GINR): 9x9
# patches with 1-pixel padding (178 px -> 180 -> 400 tokens) and the 6-block
# width-768 transformer, its compute dtype float32.
ENCODER = dict(patch_size=9, patch_padding=1, width=768, depth=6, num_heads=12,
               mlp_dim=3072, dropout=0.1, dtype="float32", attention="auto")


class TransformerFields(nn.Module):
  """The transformer's fields, keyword-only (a subclass's own fields may
  then come without defaults).

  Attributes:
    width: token embedding size (768 in the papers).
    depth: transformer blocks.
    num_heads: attention heads.
    mlp_dim: hidden size of the transformer MLPs.
    dropout: residual dropout rate.
    dtype: compute dtype of the transformer ("bfloat16" for mixed
      precision); parameters and the returned tokens are float32.
    attention: how self-attention is computed (transformer.IMPLEMENTATIONS;
      "auto": cuDNN's fused attention on GPUs where it applies).
  """

  _: dataclasses.KW_ONLY
  width: int = 768
  depth: int = 6
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout: float = 0.1
  dtype: str = "float32"
  attention: str = "auto"


class WeightTokenEncoder(TransformerFields):
  """[B, T, P] data tokens -> [B, num_weight_tokens, width] output tokens,
  with the transformer of `TransformerFields`.

  Attributes:
    num_weight_tokens: learnable tokens appended to the data tokens.
  """

  num_weight_tokens: int

  @nn.compact
  def __call__(self, tokens: jax.Array, train: bool) -> jax.Array:
    b, num_tokens, _ = tokens.shape
    x = transformer.Linear(self.width, self.dtype, name="patch_embed")(tokens)
    # N(0, 1) as the official pos_emb_latent and weight tokens.
    pos = self.param("pos_embed", nn.initializers.normal(1.0),
                     (num_tokens, self.width))
    weight_tokens = self.param("weight_tokens", nn.initializers.normal(1.0),
                               (self.num_weight_tokens, self.width))
    x = jnp.concatenate([
        x + pos.astype(self.dtype),
        jnp.broadcast_to(weight_tokens,
                         (b, *weight_tokens.shape)).astype(self.dtype)
    ], axis=1)
    x = transformer.Encoder(self.depth, self.num_heads, self.mlp_dim,
                            self.dropout, self.dtype, self.attention,
                            name="transformer")(x, train)
    return x[:, num_tokens:].astype(jnp.float32)


class HypernetModel(TransformerFields):
  """The base of the models whose latents are the hypernetwork's outputs at
  its weight tokens (IPC, TransINR, LA-GINR): the encoder's fields (these
  and `TransformerFields`'), its construction and its pass over images.

  Attributes:
    patch_size: side of the non-overlapping square patches.
    patch_padding: zero padding on each image side before patching.
    patch_rank: spatial axes of a signal; 0: all between batch and channels.
      2 for NVS, whose [B, views, H, W, C] support views give their tokens
      one view after another.
  """

  _: dataclasses.KW_ONLY
  patch_size: int = 9
  patch_padding: int = 1
  patch_rank: int = 0

  def make_encoder(self, num_weight_tokens: int) -> WeightTokenEncoder:
    """The trunk with this model's transformer fields; a model's setup
    assigns it to `self.encoder` (its parameters' name)."""
    return WeightTokenEncoder(num_weight_tokens, width=self.width,
                              depth=self.depth, num_heads=self.num_heads,
                              mlp_dim=self.mlp_dim, dropout=self.dropout,
                              dtype=self.dtype, attention=self.attention)

  def weight_token_outputs(self, images: jax.Array, train: bool) -> jax.Array:
    """`self.encoder`'s outputs [B, num_weight_tokens, width] for images in
    [0, 1]; `train` enables dropout (needs a "dropout" rng)."""
    patches = tokenizers.patchify(images, self.patch_size, self.patch_padding,
                                  self.patch_rank)
    return self.encoder(patches, train)
