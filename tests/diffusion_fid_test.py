"""FID: the Frechet distance against closed forms, the Inception weights
file's checks and the network's forward pass, and latent standardisation."""

import os

from absl.testing import absltest
import jax
import numpy as np

from ginr_jax.diffusion import fid
from ginr_jax.diffusion import latents


class FrechetTest(absltest.TestCase):

  def test_diagonal_gaussians(self):
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2)**2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    self.assertAlmostEqual(
        fid.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)), expected,
        places=6)

  def test_rotated_gaussians_and_identity(self):
    # S2 = Q S1 Q^T with S1 = diag(a): Tr sqrt(S1 S2) has no simpler form,
    # but rotating both keeps the distance (orthogonal invariance).
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    a = np.diag([1.0, 2.0, 3.0, 4.0])
    b = rng.normal(size=(4, 4))
    b = b @ b.T + np.eye(4)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    d = fid.frechet_distance(mu1, a, mu2, b)
    self.assertAlmostEqual(
        fid.frechet_distance(q @ mu1, q @ a @ q.T, q @ mu2, q @ b @ q.T), d,
        places=5)
    self.assertAlmostEqual(fid.frechet_distance(mu1, b, mu1, b), 0.0, places=5)

  def test_stats_of_samples(self):
    x = np.random.default_rng(1).normal(size=(20_000, 3)) * [1, 2, 3] + 5
    mu, sigma = fid.feature_stats(x)
    np.testing.assert_allclose(mu, 5.0, atol=0.05)
    np.testing.assert_allclose(np.diag(sigma), [1, 4, 9], rtol=0.05)

  def test_standin_extractor_separates_image_sets(self):
    rng = np.random.default_rng(2)
    extractor = fid.standin_extractor()
    a = rng.uniform(size=(64, 16, 16, 3)).astype(np.float32)
    b = rng.uniform(size=(64, 16, 16, 3)).astype(np.float32)
    dark = (0.2 * a).astype(np.float32)
    self.assertLess(fid.fid(extractor, a, b), fid.fid(extractor, a, dark))


class InceptionTest(absltest.TestCase):

  def test_missing_or_wrong_file_says_where_to_get_it(self):
    root = self.create_tempdir().full_path
    with self.assertRaisesRegex(FileNotFoundError, "mseitzer/pytorch-fid"):
      fid.load_inception(os.path.join(root, "none.npz"))
    wrong = os.path.join(root, "wrong.npz")
    np.savez(wrong, something=np.zeros(3))
    with self.assertRaisesRegex(ValueError, "Conv2d_1a_3x3.*pytorch-fid"):
      fid.load_inception(wrong)
    text = os.path.join(root, "text.npz")
    with open(text, "w") as f:
      f.write("not a zip")
    with self.assertRaisesRegex(ValueError, "not an .npz"):
      fid.load_inception(text)

  def test_forward_pass_from_a_file_in_torch_layout(self):
    rng = np.random.default_rng(0)
    shapes = fid.param_shapes()
    self.assertLen(fid.conv_shapes(), 94)  # torchvision's BasicConv2d's
    state = {}
    for key, shape in shapes.items():
      if key.endswith("running_var"):
        value = rng.uniform(0.5, 1.5, shape)
      elif key.endswith("conv.weight"):
        value = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
      else:
        value = rng.normal(0, 0.1, shape)
      state[key] = value.astype(np.float16)
    state["fc.weight"] = np.zeros((1008, 2048), np.float16)  # ignored
    path = os.path.join(self.create_tempdir().full_path, "w.npz")
    np.savez(path, **state)
    params = fid.load_inception(path)
    images = rng.uniform(size=(2, 32, 32, 3)).astype(np.float32)
    # 75 px, the smallest input the network takes, keeps the test cheap.
    feats = jax.jit(fid.inception_features, static_argnums=2)(params, images,
                                                              75)
    self.assertEqual(feats.shape, (2, fid.FEATURE_DIM))
    self.assertTrue(np.all(np.isfinite(feats)))
    self.assertTrue(np.all(np.asarray(feats) >= 0))  # after a ReLU
    self.assertGreater(float(np.abs(feats[0] - feats[1]).max()), 0.0)


class StandardiseTest(absltest.TestCase):

  def test_round_trip_and_unit_statistics(self):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(500, 4, 3)) * rng.uniform(0.1, 5, (4, 3)) + 2
    mean, std = z.mean(0), z.std(0)
    s = latents.standardize(z, mean, std)
    np.testing.assert_allclose(s.mean(0), 0.0, atol=1e-10)
    np.testing.assert_allclose(s.std(0), 1.0, rtol=1e-10)
    np.testing.assert_allclose(latents.unstandardize(s, mean, std), z,
                               atol=1e-12)

  def test_missing_dir_names_the_command(self):
    with self.assertRaisesRegex(FileNotFoundError,
                                "python -m ginr_jax.cli.export_latents"):
      latents.read_meta(self.create_tempdir().full_path)


if __name__ == "__main__":
  absltest.main()
