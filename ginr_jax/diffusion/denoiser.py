"""The denoiser: a plain transformer over the R latent tokens (LA-GINR A.3).

The latent tokens have no 2-D grid (they are permutation-equivariant), so the
model is a stack of self-attention blocks over the R tokens with a learned
embedding per token position, conditioned on the timestep and the class.
It predicts x0 (App. A.3's x0-parameterisation).

The paper gives 24 blocks, width 1024, 16 heads and 458M parameters, not the
block design. A block of attention plus a 4x MLP is 12 d^2 (24 blocks:
302M); DiT's adaLN-Zero conditioning (Peebles & Xie 2023, the paper's [27])
adds 6 d^2 per block and lands at 458.6M, so that is the block used here
(`tests/diffusion_denoiser_test.py` checks the count):
  c      = MLP(sinusoidal(t)) + Embed(y)          (y = num_classes: no class)
  shift_1, scale_1, gate_1, shift_2, scale_2, gate_2 = Linear(SiLU(c))
  h      = h + gate_1 * Attn(LN(h) (1 + scale_1) + shift_1)
  h      = h + gate_2 * MLP(LN(h) (1 + scale_2) + shift_2)
  x0     = Linear(LN(h) (1 + scale) + shift)      (scale, shift from c)
with LayerNorms without affine parameters, the modulation and output
Linears zero-initialised (so each block starts as the identity and the
first prediction is the data mean, 0 after standardisation), the attention
of `models/transformer.py` (torch-default init) and Xavier-uniform MLPs as
DiT.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax.models import transformer


def timestep_features(t: jax.Array, dim: int,
                      max_period: float = 10_000.0) -> jax.Array:
  """Sinusoidal features [B, dim] of timesteps [B] (DiT's, cos first)."""
  half = dim // 2
  freqs = jnp.exp(-np.log(max_period) * jnp.arange(half) / half)
  angles = t.astype(jnp.float32)[:, None] * freqs
  return jnp.concatenate([jnp.cos(angles), jnp.sin(angles)], axis=-1)


def _norm(name: str) -> nn.LayerNorm:
  return nn.LayerNorm(epsilon=1e-6, use_bias=False, use_scale=False, name=name)


def _modulate(x: jax.Array, shift: jax.Array, scale: jax.Array):
  return x * (1.0 + scale[:, None]) + shift[:, None]


_xavier = nn.initializers.xavier_uniform()


class Block(nn.Module):
  """An adaLN-Zero transformer block over tokens [B, R, D], condition [B, D]."""

  num_heads: int
  mlp_ratio: int = 4
  dtype: str | None = None

  @nn.compact
  def __call__(self, h: jax.Array, c: jax.Array) -> jax.Array:
    d = h.shape[-1]
    mod = nn.Dense(6 * d, kernel_init=nn.initializers.zeros,
                   name="adaln")(nn.silu(c))
    shift1, scale1, gate1, shift2, scale2, gate2 = jnp.split(mod, 6, -1)
    y = transformer.SelfAttention(self.num_heads, self.dtype,
                                  name="attn")(_modulate(
                                      _norm("ln_1")(h), shift1, scale1))
    h = h + gate1[:, None] * y
    y = _modulate(_norm("ln_2")(h), shift2, scale2)
    y = nn.Dense(self.mlp_ratio * d, kernel_init=_xavier, dtype=self.dtype,
                 name="mlp_in")(y)
    y = nn.Dense(d, kernel_init=_xavier, dtype=self.dtype,
                 name="mlp_out")(nn.gelu(y, approximate=True))
    return h + gate2[:, None] * y


class Denoiser(nn.Module):
  """(x_t [B, R, d], t [B], y [B]) -> predicted x0 [B, R, d].

  Attributes:
    num_tokens: R, latent tokens per instance.
    token_dim: d, channels of a latent token.
    num_classes: class labels 0 .. num_classes - 1; label num_classes is the
      null class (dropped labels, the unconditional model).
    width: transformer width D.
    depth: number of blocks.
    num_heads: self-attention heads.
    mlp_ratio: MLP hidden size / D.
    freq_dim: sinusoidal features of the timestep.
    dtype: compute dtype of the blocks ("bfloat16": mixed precision).
  """

  num_tokens: int
  token_dim: int
  num_classes: int
  width: int = 1024
  depth: int = 24
  num_heads: int = 16
  mlp_ratio: int = 4
  freq_dim: int = 256
  dtype: str | None = None

  @nn.compact
  def __call__(self, x: jax.Array, t: jax.Array, y: jax.Array) -> jax.Array:
    d = self.width
    c = nn.Dense(d, kernel_init=_xavier,
                 name="time_in")(timestep_features(t, self.freq_dim))
    c = nn.Dense(d, kernel_init=_xavier, name="time_out")(nn.silu(c))
    c = c + nn.Embed(self.num_classes + 1, d, name="class_embed")(y)
    token_embed = self.param("token_embed", nn.initializers.normal(0.02),
                             (self.num_tokens, d))
    h = nn.Dense(d, kernel_init=_xavier, name="token_in")(x) + token_embed
    if self.dtype is not None:
      h = h.astype(self.dtype)
    for i in range(self.depth):
      h = Block(self.num_heads, self.mlp_ratio, self.dtype,
                name=f"block_{i}")(h, c)
    shift, scale = jnp.split(
        nn.Dense(2 * d, kernel_init=nn.initializers.zeros,
                 name="final_adaln")(nn.silu(c)), 2, -1)
    h = _modulate(_norm("final_ln")(h.astype(jnp.float32)), shift, scale)
    return nn.Dense(self.token_dim, kernel_init=nn.initializers.zeros,
                    name="token_out")(h)


def build(cfg: dict) -> Denoiser:
  return Denoiser(**cfg)
