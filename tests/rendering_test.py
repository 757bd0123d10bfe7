"""Rays and volume rendering against closed forms and geometry."""

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import evaluators
from ginr_jax import rendering


def random_pose(seed: int) -> np.ndarray:
  """A camera-to-world [3, 4] matrix with a random rotation and centre."""
  rng = np.random.default_rng(seed)
  q, r = np.linalg.qr(rng.normal(size=(3, 3)))
  q = q * np.sign(np.diag(r))
  if np.linalg.det(q) < 0:
    q[:, 0] = -q[:, 0]
  return np.concatenate([q, rng.normal(size=(3, 1))], axis=1)


class RaysTest(absltest.TestCase):

  def test_principal_point_ray_is_the_camera_axis(self):
    pose = random_pose(0)
    origins, directions = rendering.poses_to_rays(pose, 5, 7, focal=3.0)
    # The centre pixel of an odd-sized image lies on the principal point:
    # its ray starts at the camera centre and points along the camera's -z.
    np.testing.assert_allclose(directions[2, 3], -pose[:, 2], atol=1e-6)
    np.testing.assert_allclose(origins[2, 3], pose[:, 3], atol=1e-6)

  def test_pixel_directions_follow_the_official_convention(self):
    origins, directions = rendering.poses_to_rays(
        np.eye(4)[:3], 4, 6, focal=2.0)
    # Pixel (row 0, col 5): x = 5.5, y = 0.5 -> ((5.5-3)/2, -(0.5-2)/2, -1).
    np.testing.assert_allclose(directions[0, 5], [1.25, 0.75, -1.0])
    self.assertEqual(origins.shape, (4, 6, 3))
    np.testing.assert_allclose(rendering.focal_length(128, 2 * np.arctan(0.5)),
                               128.0, rtol=1e-6)

  def test_batched_poses(self):
    poses = np.stack([random_pose(1), random_pose(2)])
    origins, directions = rendering.poses_to_rays(poses, 3, 3, 1.5)
    self.assertEqual(directions.shape, (2, 3, 3, 3))
    single = rendering.poses_to_rays(poses[1], 3, 3, 1.5)[1]
    np.testing.assert_allclose(directions[1], single, atol=1e-6)

  def test_plucker_is_the_same_anywhere_on_the_ray(self):
    rng = np.random.default_rng(3)
    o, d = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    t, scale = rng.normal(size=(10, 1)), rng.uniform(0.5, 3, (10, 1))
    np.testing.assert_allclose(rendering.plucker(o + t * d, scale * d),
                               rendering.plucker(o, d), atol=1e-5)
    # Different rays: different coordinates.
    self.assertGreater(
        float(
            jnp.abs(rendering.plucker(o + 0.1, d) -
                    rendering.plucker(o, d)).max()), 0.05)


class VolumeRenderingTest(absltest.TestCase):

  def test_constant_density_gives_the_closed_form_opacity(self):
    sigma, near, far, points = 0.3, 2.0, 6.0, 128
    z = rendering.sample_depths(None, 1, near, far, points)
    raw = jnp.zeros((1, points, 4)).at[..., 3].set(sigma)
    rgb, weights = rendering.volume_render(raw, z)
    # Total path length: (far - near) + the last delta of 1e-3.
    opacity = 1.0 - np.exp(-sigma * (far - near + 1e-3))
    np.testing.assert_allclose(weights.sum(), opacity, rtol=1e-5)
    # Colour sigmoid(0) = 0.5 where opaque, white elsewhere.
    np.testing.assert_allclose(rgb[0], 0.5 * opacity + (1 - opacity), rtol=1e-5)

  def test_empty_space_is_white_and_weights_never_exceed_one(self):
    z = rendering.sample_depths(None, 3, 2.0, 6.0, 16)
    rgb, weights = rendering.volume_render(jnp.full((3, 16, 4), -2.0),
                                           z)  # density ReLU(-2) = 0
    np.testing.assert_allclose(rgb, 1.0)
    np.testing.assert_allclose(weights, 0.0)
    raw = 10 * jax.random.normal(jax.random.key(0), (5, 3, 16, 4))
    rgb, weights = rendering.volume_render(raw, z)
    self.assertTrue(bool(jnp.all(weights >= 0)))
    self.assertTrue(bool(jnp.all(weights.sum(-1) <= 1 + 1e-6)))
    self.assertTrue(bool(jnp.all((rgb >= 0) & (rgb <= 1))))

  def test_opaque_first_sample_shows_its_colour(self):
    z = rendering.sample_depths(None, 1, 2.0, 6.0, 8)
    raw = (jnp.zeros((1, 8, 4)).at[0, 0].set(jnp.asarray([2.0, -1.0, 0.0,
                                                          1e4])).at[0, 1:,
                                                                    3].set(5.0))
    rgb, weights = rendering.volume_render(raw, z)
    np.testing.assert_allclose(rgb[0],
                               jax.nn.sigmoid(jnp.asarray([2.0, -1.0, 0.0])),
                               atol=1e-5)
    np.testing.assert_allclose(weights[0, 1:], 0.0, atol=1e-6)

  def test_stratified_depths_stay_in_their_bins(self):
    near, far, points = 2.0, 6.0, 5
    even = rendering.sample_depths(None, 4, near, far, points)
    np.testing.assert_allclose(even[2], [2.0, 3.0, 4.0, 5.0, 6.0])
    jittered = rendering.sample_depths(jax.random.key(1), 4, near, far, points)
    offset = jittered - even
    self.assertTrue(bool(jnp.all((offset >= 0) & (offset < 1.0))))
    self.assertGreater(float(offset.std()), 0.1)
    points_ = rendering.points_on_rays(jnp.zeros((2, 4, 3)), jnp.ones(
        (2, 4, 3)), jittered)
    self.assertEqual(points_.shape, (2, 4, points, 3))
    np.testing.assert_allclose(points_[1, 3, :, 0], jittered[3])


class RenderRaysTest(absltest.TestCase):

  def test_sphere_field_seen_through_its_centre_and_beside_it(self):
    """A dense red ball of radius 1 at the origin, camera at distance 4: the
    central ray is red, a ray passing 1.5 from the centre is white."""

    def field(points):
      inside = jnp.linalg.norm(points, axis=-1) < 1.0
      raw = jnp.zeros((*points.shape[:-1], 4))
      return (raw.at[..., 0].set(10.0).at[..., 1:3].set(-10.0).at[..., 3].set(
          jnp.where(inside, 50.0, 0.0)))

    origins = jnp.asarray([[0.0, 0.0, 4.0], [1.5, 0.0, 4.0]])
    directions = jnp.asarray([[0.0, 0.0, -1.0], [0.0, 0.0, -1.0]])
    rgb = rendering.render_rays(field, origins, directions, None)
    np.testing.assert_allclose(rgb[0], [1.0, 0.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(rgb[1], [1.0, 1.0, 1.0], atol=1e-6)
    jittered = rendering.render_rays(field, origins, directions,
                                     jax.random.key(0))
    np.testing.assert_allclose(jittered, rgb, atol=1e-3)

  def test_chunked_equals_one_pass(self):
    # Test views are rendered as evaluation does: per-object rays [B, R, 6]
    # `chunk` at a time (evaluators.predict_chunked).
    w = jax.random.normal(jax.random.key(1), (3, 4))
    field = lambda points: jnp.sin(points @ w)
    origins = jax.random.normal(jax.random.key(2), (2, 37, 3))
    directions = jax.random.normal(jax.random.key(3), (2, 37, 3))
    full = rendering.render_rays(field, origins, directions, None,
                                 num_points=16)
    chunked = evaluators.predict_chunked(
        lambda rays: rendering.render_rays(field, rays[..., :3], rays[..., 3:],
                                           None, num_points=16),
        jnp.concatenate([origins, directions], -1), chunk=8)
    np.testing.assert_allclose(chunked, full, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
  absltest.main()
