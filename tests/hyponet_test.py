"""The coordinate MLP against hand-computed values and per-instance loops."""

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import coords
from ginr_jax.models import hyponet


class FourierFeaturesTest(absltest.TestCase):

  def test_hand_computed(self):
    # ff_dim 4 over 2 axes: frequencies exp(linspace(0, ln 4, 2)) = (1, 4).
    net = hyponet.HypoNet(input_dim=2, ff_dim=4, ff_sigma=4.0)
    np.testing.assert_allclose(net.frequencies(), [1.0, 4.0], rtol=1e-6)
    x = np.array([[0.25, -0.5]], np.float32)
    # z = pi * [x0*1, x0*4, x1*1, x1*4] (dimension-major), then [cos z, sin z].
    z = np.pi * np.array([0.25, 1.0, -0.5, -2.0])
    expected = np.concatenate([np.cos(z), np.sin(z)])[None]
    np.testing.assert_allclose(net.fourier_features(x), expected, atol=1e-6)

  def test_frequencies_log_spaced_inclusive(self):
    net = hyponet.HypoNet(input_dim=2, ff_dim=128, ff_sigma=128.0)
    f = net.frequencies()
    self.assertLen(f, 64)
    np.testing.assert_allclose([f[0], f[-1]], [1.0, 128.0], rtol=1e-5)
    np.testing.assert_allclose(np.diff(np.log(f)), np.log(128) / 63, rtol=1e-4)

  def test_nerf_features_hand_computed(self):
    # The official NeRF hyponet: sigma 8, ff_dim 60 over xyz: 20 frequencies
    # 2**linspace(0, 8, 20), no pi; 120 features.
    net = hyponet.HypoNet(input_dim=3, output_dim=4, n_layers=6, ff_dim=60,
                          ff_sigma=8.0, output_bias=0.0, fourier="nerf")
    f = net.frequencies()
    np.testing.assert_allclose(f, 2.0**(8 * np.arange(20) / 19), rtol=1e-6)
    x = np.array([[0.1, -0.2, 0.3]], np.float32)
    z = (x[0][:, None] * f).reshape(-1)
    np.testing.assert_allclose(
        net.fourier_features(x)[0], np.concatenate([np.cos(z),
                                                    np.sin(z)]), atol=1e-5)
    self.assertEqual(net.layer_shapes[0], (120, 256))
    self.assertEqual(net.layer_shapes[-1], (256, 4))
    with self.assertRaisesRegex(ValueError, "use transinr or nerf"):
      hyponet.HypoNet(fourier="gaussian")

  def test_ff_dim_not_divisible_fails(self):
    with self.assertRaisesRegex(ValueError, "divisible by input_dim"):
      hyponet.HypoNet(input_dim=3, ff_dim=128)


class WeightNormTest(absltest.TestCase):

  def test_hand_computed(self):
    w = np.array([[3.0, 0.0], [4.0, 2.0]], np.float32)  # [fan_in, fan_out]
    np.testing.assert_allclose(hyponet.normalize_weight(w),
                               [[0.6, 0.0], [0.8, 1.0]], atol=1e-7)

  def test_batched_normalises_each_instance_over_fan_in(self):
    w = np.random.default_rng(0).normal(size=(3, 5, 4)).astype(np.float32)
    n = hyponet.normalize_weight(w)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(n[1], hyponet.normalize_weight(w[1]), rtol=1e-6)

  def test_zero_column_stays_finite(self):
    self.assertTrue(
        np.all(
            np.isfinite(hyponet.normalize_weight(np.zeros((3, 2),
                                                          np.float32)))))


class HypoNetTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.net = hyponet.HypoNet(hidden_dim=8, ff_dim=4, ff_sigma=8.0, n_layers=4,
                               output_bias=0.5)
    self.params = self.net.init(jax.random.key(0))

  def test_init_shapes_and_bounds(self):
    shapes = {
        k: {kk: v.shape for kk, v in d.items()} for k, d in self.params.items()
    }
    self.assertEqual(shapes["layer_0"], {"w": (8, 8), "b": (8,)})
    self.assertEqual(shapes["layer_3"], {"w": (8, 3), "b": (3,)})
    w = np.asarray(self.params["layer_3"]["w"])
    self.assertLessEqual(np.abs(w).max(), 1 / np.sqrt(3))  # 1/sqrt(fan_out)
    self.assertEqual(np.abs(self.params["layer_0"]["b"]).max(), 0.0)
    skipped = self.net.init(jax.random.key(0), skip_weights=(1,))
    self.assertEqual(set(skipped["layer_1"]), {"b"})

  def test_apply_matches_numpy_reference(self):
    x = coords.grid((3, 5)).reshape(-1, 2)
    params = jax.tree.map(np.asarray, self.params)
    params["layer_1"]["b"] = np.linspace(-1, 1, 8).astype(np.float32)
    h = np.asarray(self.net.fourier_features(x))
    for i in range(4):
      w = params[f"layer_{i}"]["w"]
      h = h @ (w / np.linalg.norm(w, axis=0)) + params[f"layer_{i}"]["b"]
      if i < 3:
        h = np.maximum(h, 0)
    np.testing.assert_allclose(self.net.apply(params, x), h + 0.5, atol=1e-5)

  def test_apply_batch_equals_loop_and_is_batch_independent(self):
    rng = np.random.default_rng(1)
    b = 3
    params = dict(self.params)
    params["layer_1"] = {
        "w": rng.normal(size=(b, 8, 8)).astype(np.float32),
        "b": params["layer_1"]["b"]
    }
    x = coords.grid((4, 4)).reshape(-1, 2)
    batched = self.net.apply_batch(params, x)
    self.assertEqual(batched.shape, (b, 16, 3))
    for i in range(b):
      single = dict(
          params,
          layer_1={"w": params["layer_1"]["w"][i], "b": params["layer_1"]["b"]})
      np.testing.assert_allclose(batched[i], self.net.apply(single, x),
                                 atol=1e-5)
    # An instance's prediction does not depend on the rest of the batch.
    one = dict(
        params,
        layer_1={"w": params["layer_1"]["w"][1:2], "b": params["layer_1"]["b"]})
    np.testing.assert_allclose(
        self.net.apply_batch(one, x)[0], batched[1], atol=1e-5)

  def test_instance_independent_layers_computed_once(self):
    b, n = 5, 16
    params = dict(self.params)
    params["layer_1"] = {"w": jnp.ones((b, 8, 8)), "b": jnp.zeros((8,))}
    x = jnp.asarray(coords.grid((4, 4)).reshape(-1, 2))
    jaxpr = jax.make_jaxpr(self.net.apply_batch)(params, x)
    dots = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "dot_general"]
    # Layer 0 (Fourier features @ W0) runs on the N shared coordinates only.
    self.assertEqual(dots[0].outvars[0].aval.shape, (n, 8))
    # Layer 1, modulated, runs once per instance.
    self.assertEqual(np.prod(dots[1].outvars[0].aval.shape), b * n * 8)

  def test_bad_leaf_shape_fails(self):
    params = dict(self.params)
    params["layer_2"] = {"w": jnp.ones((2, 2, 8, 8)), "b": jnp.zeros((8,))}
    with self.assertRaisesRegex(ValueError, "layer_2/w"):
      self.net.apply_batch(params, jnp.zeros((3, 2)))


class CoordsTest(absltest.TestCase):

  def test_grid_pixel_centres(self):
    g = coords.grid((2, 4))
    self.assertEqual(g.shape, (2, 4, 2))
    np.testing.assert_allclose(g[:, 0, 0], [-0.5, 0.5])  # rows
    np.testing.assert_allclose(g[0, :, 1], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(
        coords.grid((2,), upsample=2)[:, 0], [-0.75, -0.25, 0.25, 0.75])

  def test_jitter_within_half_pixel_and_per_instance(self):
    g = jnp.asarray(coords.grid((8, 8)).reshape(-1, 2))
    j = coords.jitter(jax.random.key(0), g, 3, cell=2 / 8)
    self.assertEqual(j.shape, (3, 64, 2))
    self.assertLessEqual(float(jnp.abs(j - g).max()), 0.125)
    self.assertGreater(float(jnp.abs(j[0] - j[1]).max()), 0.0)

  def test_subsample_distinct_per_instance(self):
    idx = np.asarray(coords.subsample_indices(jax.random.key(0), 2, 100, 0.1))
    self.assertEqual(idx.shape, (2, 10))
    for row in idx:
      self.assertLen(set(row.tolist()), 10)
    self.assertFalse(np.array_equal(idx[0], idx[1]))


if __name__ == "__main__":
  absltest.main()
