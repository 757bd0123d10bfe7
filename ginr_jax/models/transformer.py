"""Pre-LN transformer encoder of the official hypernetwork.

`official_code_facts.md` §1.4: identical pre-LN blocks, separate q/k/v
projections with bias, exact GELU, residual dropout after the attention
projection and after the MLP, no attention dropout and no final LayerNorm.
Linear and LayerNorm layers use PyTorch's default initialisation so that
training starts where the official code starts.
"""

import jax
import jax.numpy as jnp
import flax.linen as nn
import numpy as np


def torch_uniform_init(fan_in: int):
  """U(+-1/sqrt(fan_in)): torch.nn.Linear's default for weight and bias."""
  bound = 1.0 / np.sqrt(fan_in)

  def init(rng, shape, dtype=jnp.float32):
    return jax.random.uniform(rng, shape, dtype, -bound, bound)

  return init


class Linear(nn.Module):
  """Dense layer with torch.nn.Linear's default initialisation."""

  features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    init = torch_uniform_init(x.shape[-1])
    kernel = self.param("kernel", init, (x.shape[-1], self.features))
    bias = self.param("bias", init, (self.features,))
    return x @ kernel + bias


def layer_norm(name: str | None = None) -> nn.LayerNorm:
  return nn.LayerNorm(epsilon=1e-5, name=name)  # torch's default epsilon


class SelfAttention(nn.Module):
  """Multi-head self-attention, no mask (bidirectional)."""

  num_heads: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, t, d = x.shape
    if d % self.num_heads:
      raise ValueError(f"width {d} is not divisible by {self.num_heads} heads.")
    split = lambda y: y.reshape(b, t, self.num_heads, d // self.num_heads)
    q = split(Linear(d, name="query")(x))
    k = split(Linear(d, name="key")(x))
    v = split(Linear(d, name="value")(x))
    y = jax.nn.dot_product_attention(q, k, v)  # scale 1/sqrt(head_dim)
    return Linear(d, name="out")(y.reshape(b, t, d))


class Block(nn.Module):
  """x + Drop(Attn(LN(x))), then x + Drop(MLP(LN(x)))."""

  num_heads: int
  mlp_dim: int
  dropout: float

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    drop = nn.Dropout(self.dropout, deterministic=not train)
    y = SelfAttention(self.num_heads, name="attn")(layer_norm("ln_1")(x))
    x = x + drop(y)
    y = layer_norm("ln_2")(x)
    y = Linear(self.mlp_dim, name="mlp_in")(y)
    y = nn.gelu(y, approximate=False)
    y = Linear(x.shape[-1], name="mlp_out")(y)
    return x + drop(y)


class Encoder(nn.Module):
  """A stack of `depth` pre-LN blocks over [B, T, D] tokens."""

  depth: int = 6
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout: float = 0.1

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    for i in range(self.depth):
      x = Block(self.num_heads, self.mlp_dim, self.dropout,
                name=f"block_{i}")(x, train)
    return x
