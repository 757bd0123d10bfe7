"""The hypernetwork's self-attention against the formula, one head at a time."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

from ginr_jax.models import hypernet
from ginr_jax.models import transformer


def numpy_attention(p, x, heads):
  """softmax(Q_n K_n^T / sqrt(h)) V_n per head n, concatenated, projected."""
  lin = lambda name, y: y @ p[name]["kernel"] + p[name]["bias"]
  q, k, v = (lin(n, x) for n in ("query", "key", "value"))
  h = x.shape[-1] // heads
  outs = []
  for n in range(heads):
    cols = slice(n * h, (n + 1) * h)
    logits = q[:, cols] @ k[:, cols].T / np.sqrt(h)
    w = np.exp(logits - logits.max(-1, keepdims=True))
    outs.append(w / w.sum(-1, keepdims=True) @ v[:, cols])
  return lin("out", np.concatenate(outs, -1))


class SelfAttentionTest(parameterized.TestCase):

  @parameterized.parameters("auto", "xla", "einsum")
  def test_matches_per_head_formula(self, implementation):
    x = jax.random.normal(jax.random.key(0), (2, 7, 12))
    attn = transformer.SelfAttention(num_heads=3, implementation=implementation)
    params = attn.init(jax.random.key(1), x)["params"]
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    expected = [numpy_attention(p, np.asarray(xi, np.float64), 3) for xi in x]
    np.testing.assert_allclose(attn.apply({"params": params}, x),
                               np.stack(expected), rtol=1e-5, atol=1e-5)

  @parameterized.parameters(None, "bfloat16")
  def test_dot_product_attention_equals_the_einsum_path(self, dtype):
    x = jax.random.normal(jax.random.key(0), (3, 40, 64))
    make = lambda impl: transformer.SelfAttention(4, dtype, implementation=impl)
    params = make("einsum").init(jax.random.key(1), x)
    einsum = make("einsum").apply(params, x)
    xla = make("xla").apply(params, x)
    self.assertEqual(xla.dtype, einsum.dtype)
    # float32: to rounding; bfloat16: logits and softmax in float32 in both.
    tol = 1e-6 if dtype is None else 1e-2
    np.testing.assert_allclose(np.asarray(xla, np.float32),
                               np.asarray(einsum, np.float32), atol=tol)

  def test_the_encoder_passes_its_attention_to_every_block(self):
    tokens = jax.random.normal(jax.random.key(0), (2, 9, 12))
    make = lambda impl: hypernet.WeightTokenEncoder(
        4, width=16, depth=2, num_heads=2, mlp_dim=32, attention=impl)
    params = make("einsum").init(jax.random.key(1), tokens, False)
    einsum = make("einsum").apply(params, tokens, False)
    np.testing.assert_allclose(
        make("xla").apply(params, tokens, False), einsum, atol=1e-6)
    with self.assertRaisesRegex(ValueError, "flash"):
      make("flash").apply(params, tokens, False)

  def test_unknown_implementation_is_refused(self):
    with self.assertRaisesRegex(ValueError, "flash.*einsum"):
      transformer.SelfAttention(2, implementation="flash").init(
          jax.random.key(0), np.zeros((1, 3, 4), np.float32))

  def test_width_not_divisible_by_heads_is_refused(self):
    with self.assertRaisesRegex(ValueError, "not divisible by 5 heads"):
      transformer.SelfAttention(num_heads=5).init(
          jax.random.key(0), np.zeros((1, 3, 12), np.float32))


if __name__ == "__main__":
  absltest.main()
