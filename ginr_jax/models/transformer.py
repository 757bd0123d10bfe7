"""Pre-LN transformer encoder of the official hypernetwork.

`docs/faithfulness.md#transformer`: identical pre-LN blocks, separate q/k/v
projections with bias, exact GELU, residual dropout after the attention
projection and after the MLP, no attention dropout and no final LayerNorm.
Linear and LayerNorm layers use PyTorch's default initialisation so that
training starts where the official code starts.
"""

from collections.abc import Callable

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
  """Dense layer with torch.nn.Linear's default initialisation.

  Parameters are float32; `dtype` (e.g. "bfloat16") is the compute dtype of
  the product and of the output (None: the input's). `kernel_init` and
  `bias_init` replace torch's init where a module's own differs.
  """

  features: int
  dtype: str | None = None
  kernel_init: Callable | None = None
  bias_init: Callable | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    init = torch_uniform_init(x.shape[-1])
    kernel = self.param("kernel", self.kernel_init or init,
                        (x.shape[-1], self.features))
    bias = self.param("bias", self.bias_init or init, (self.features,))
    if self.dtype is not None:
      x, kernel, bias = (a.astype(self.dtype) for a in (x, kernel, bias))
    return x @ kernel + bias


def layer_norm(name: str | None = None,
               dtype: str | None = None) -> nn.LayerNorm:
  # torch's default epsilon; flax computes the statistics in float32.
  return nn.LayerNorm(epsilon=1e-5, dtype=dtype, name=name)


# How attention is computed: "xla" and "cudnn" are jax.nn.dot_product_attention's
# implementations, "einsum" the explicit softmax(q k^T) v in heads-major
# layout; "auto" is jax.nn.dot_product_attention's own choice on GPUs (cuDNN's
# fused kernel where it applies) and "einsum" elsewhere, where it is faster
# (fwd + bwd of one block on a 2-core CPU: dot_product_attention 1.21x the
# time at width 128 and 80 tokens, 1.33x at width 768 and 656 tokens).
IMPLEMENTATIONS = ("auto", "xla", "cudnn", "einsum")


def resolve(implementation: str) -> str | None:
  """"auto" as this backend runs it: None (dot_product_attention's own
  choice) on GPUs, "einsum" elsewhere."""
  if implementation == "auto":
    return None if jax.default_backend() == "gpu" else "einsum"
  return implementation


def attend(q: jax.Array, k: jax.Array, v: jax.Array,
           implementation: str = "auto") -> jax.Array:
  """softmax(q k^T) v per head: q [B, T, heads, h], already scaled, k and v
  [B, S, heads, h] -> [B, T, heads, h]; logits and softmax in float32."""
  if implementation not in IMPLEMENTATIONS:
    raise ValueError(f"attention implementation {implementation!r}: use one "
                     f"of {IMPLEMENTATIONS}.")
  implementation = resolve(implementation)
  if implementation != "einsum":
    return jax.nn.dot_product_attention(q, k, v, scale=1.0,
                                        implementation=implementation)
  # [B, heads, T, h]: heads-major operands make both products plain batched
  # matmuls for XLA (about 10% faster attention on CPU than [B, T, heads, h]).
  q, k, v = (a.transpose(0, 2, 1, 3) for a in (q, k, v))
  logits = jnp.einsum("bnth,bnsh->bnts", q, k,
                      preferred_element_type=jnp.float32)
  probs = jax.nn.softmax(logits, axis=-1).astype(v.dtype)
  return jnp.einsum("bnts,bnsh->bnth", probs, v).transpose(0, 2, 1, 3)


class SelfAttention(nn.Module):
  """Multi-head self-attention, no mask (bidirectional)."""

  num_heads: int
  dtype: str | None = None
  implementation: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, t, d = x.shape
    if d % self.num_heads:
      raise ValueError(f"width {d} is not divisible by {self.num_heads} heads.")
    h = d // self.num_heads
    split = lambda y: y.reshape(b, t, self.num_heads, h)
    q = split(Linear(d, self.dtype, name="query")(x) * (h**-0.5))
    k = split(Linear(d, self.dtype, name="key")(x))
    v = split(Linear(d, self.dtype, name="value")(x))
    y = attend(q, k, v, self.implementation)
    return Linear(d, self.dtype, name="out")(y.reshape(b, t, d))


class Block(nn.Module):
  """x + Drop(Attn(LN(x))), then x + Drop(MLP(LN(x)))."""

  num_heads: int
  mlp_dim: int
  dropout: float
  dtype: str | None = None
  attention: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    drop = nn.Dropout(self.dropout, deterministic=not train)
    y = SelfAttention(self.num_heads, self.dtype, self.attention,
                      name="attn")(layer_norm("ln_1", self.dtype)(x))
    x = x + drop(y)
    y = layer_norm("ln_2", self.dtype)(x)
    y = Linear(self.mlp_dim, self.dtype, name="mlp_in")(y)
    y = nn.gelu(y, approximate=False)
    y = Linear(x.shape[-1], self.dtype, name="mlp_out")(y)
    return x + drop(y)


class Encoder(nn.Module):
  """A stack of `depth` pre-LN blocks over [B, T, D] tokens, computed in
  `dtype` (None: the input's) with float32 parameters, attention by
  `attention` (IMPLEMENTATIONS)."""

  depth: int = 6
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout: float = 0.1
  dtype: str | None = None
  attention: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    if self.dtype is not None:
      x = x.astype(self.dtype)
    for i in range(self.depth):
      x = Block(self.num_heads, self.mlp_dim, self.dropout, self.dtype,
                self.attention, name=f"block_{i}")(x, train)
    return x
