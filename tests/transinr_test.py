"""TransINR: weight groups tiled over output units, times the base weight."""

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import coords
from ginr_jax.models import hyponet
from ginr_jax.models import transinr


def tiny_model(groups=2, output_dim=4):
  net = hyponet.HypoNet(hidden_dim=4, ff_dim=2, ff_sigma=4.0, n_layers=3,
                        output_dim=output_dim)
  return transinr.Model(hyponet=net, patch_size=8, patch_padding=0,
                        groups=groups, width=16, depth=1, num_heads=2,
                        mlp_dim=32, dropout=0.0)


class TransINRTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.model = tiny_model()
    self.images = jax.random.uniform(jax.random.key(1), (2, 16, 16, 3))
    self.x = coords.grid((16, 16)).reshape(-1, 2)
    self.variables = self.model.init(jax.random.key(0), self.images, self.x)

  def test_token_counts(self):
    full = hyponet.HypoNet()
    self.assertEqual(transinr.group_counts(full, 64), [64, 64, 64, 64, 3])
    self.assertEqual(sum(transinr.group_counts(full, 256)), 256 * 4 + 3)
    with self.assertRaisesRegex(ValueError, "does not divide fan_out=3"):
      transinr.group_counts(tiny_model(output_dim=3).hyponet, 2)

  def test_groups_tile_over_output_units_by_hand(self):
    g = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]])  # [g, in]
    latents = {hyponet.layer_name(i): jnp.asarray(g)[None] for i in range(3)}
    hypo = self.model.apply(self.variables, latents, method="hypo_params")
    base = self.variables["params"]["hyponet"]
    for name in ("layer_1", "layer_2"):
      w_base = np.asarray(base[name]["w"])
      # Output unit j uses group j mod 2: columns 0, 2 <- group 0; 1, 3 <- 1.
      expected = np.empty((4, 4))
      for j in range(4):
        for i in range(4):
          expected[i, j] = w_base[i, j] * g[j % 2, i]
      np.testing.assert_allclose(hypo[name]["w"][0], expected, rtol=1e-6)
      np.testing.assert_array_equal(hypo[name]["b"], base[name]["b"])

  def test_predictions_are_the_modulated_hyponet(self):
    latents = self.model.apply(self.variables, self.images, method="encode")
    self.assertEqual(latents["layer_0"].shape, (2, 2, 4))  # [B, g, fan_in]
    hypo = self.model.apply(self.variables, latents, method="hypo_params")
    pred = self.model.apply(self.variables, self.images, self.x)
    for b in range(2):
      single = jax.tree.map(lambda leaf: leaf[b]
                            if leaf.ndim == 3 else leaf, hypo)
      # The hyponet normalises W_base * tile(G) per unit, as the official.
      np.testing.assert_allclose(pred[b],
                                 self.model.hyponet.apply(single, self.x),
                                 atol=1e-5)


if __name__ == "__main__":
  absltest.main()
