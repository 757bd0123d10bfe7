"""The hypernetwork's self-attention against the formula, one head at a time."""

from absl.testing import absltest
import jax
import numpy as np

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


class SelfAttentionTest(absltest.TestCase):

  def test_matches_per_head_formula(self):
    x = jax.random.normal(jax.random.key(0), (2, 7, 12))
    attn = transformer.SelfAttention(num_heads=3)
    params = attn.init(jax.random.key(1), x)["params"]
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    expected = [numpy_attention(p, np.asarray(xi, np.float64), 3) for xi in x]
    np.testing.assert_allclose(attn.apply({"params": params}, x),
                               np.stack(expected), rtol=1e-5, atol=1e-5)

  def test_width_not_divisible_by_heads_is_refused(self):
    with self.assertRaisesRegex(ValueError, "not divisible by 5 heads"):
      transformer.SelfAttention(num_heads=5).init(
          jax.random.key(0), np.zeros((1, 3, 12), np.float32))


if __name__ == "__main__":
  absltest.main()
