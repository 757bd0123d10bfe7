"""Cameras, rays and volume rendering for novel view synthesis.

The official IPC conventions (`docs/faithfulness.md#rendering` and
`#shapenet-views`), which follow learnit's ShapeNet renders:
- poses are camera-to-world [3, 4] matrices in the Blender / OpenGL frame
  (x right, y up, the camera looks along -z); the focal length is
  0.5 W / tan(0.5 camera_angle_x), the same for both axes;
- a pixel's ray leaves the camera centre through the pixel centre
  (j + 0.5, i + 0.5) with direction R ((x - W/2) / f, -(y - H/2) / f, -1),
  not normalised, so the depth z along it is camera-space depth;
- 128 samples per ray at z = linspace(near, far) with near 2 and far 6, each
  moved by U[0, 1) (far - near) / (P - 1) in training, the same offsets for
  every instance of the batch (so the last may pass far);
- colour sigmoid(raw[:3]), density ReLU(raw[3]), delta_i = z_{i+1} - z_i with
  the last 1e-3 (not scaled by |d|), alpha = 1 - exp(-density delta), one
  pass (no hierarchical sampling), composited on a white background.

Light fields (LA-GINR §4.2) instead give each ray as its 6-D Plücker
coordinates and predict the colour directly.
"""

import jax
import jax.numpy as jnp
import numpy as np


def focal_length(width: int, camera_angle_x: float) -> float:
  """Focal length in pixels from the horizontal field of view."""
  return 0.5 * width / np.tan(0.5 * camera_angle_x)


def poses_to_rays(poses: jax.Array, height: int, width: int,
                  focal: float) -> tuple[jax.Array, jax.Array]:
  """Per-pixel ray origins and (unnormalised) directions.

  Args:
    poses: [..., 3, 4] camera-to-world matrices.
    height, width: image size in pixels.
    focal: focal length in pixels, a scalar or one per pose [...].

  Returns:
    (origins, directions), each [..., H, W, 3].
  """
  poses = jnp.asarray(poses)
  focal = jnp.asarray(focal, jnp.float32)[..., None, None]  # [..., 1, 1]
  x, y = jnp.meshgrid(
      jnp.arange(width) + 0.5,
      jnp.arange(height) + 0.5, indexing="xy")  # [H, W]
  x, y = jnp.broadcast_arrays(x, y, focal)[:2]  # [..., H, W]
  cam = jnp.stack([(x - 0.5 * width) / focal, -(y - 0.5 * height) / focal,
                   -jnp.ones_like(x)], axis=-1)  # [..., H, W, 3]
  rotation = poses[..., None, None, :3, :3]  # [..., 1, 1, 3, 3]
  directions = jnp.einsum("...ij,...j->...i", rotation, cam)
  origins = jnp.broadcast_to(poses[..., None, None, :3, 3], directions.shape)
  return origins, directions


def sample_depths(rng: jax.Array | None, num_rays: int, near: float, far: float,
                  num_points: int = 128) -> jax.Array:
  """Depths along each ray, [num_rays, P]: the official stratification.

  With `rng` (training), every depth moves by U[0, 1) (far - near) / (P - 1),
  drawn per ray and sample and shared by the instances of a batch; without,
  the evenly spaced depths.
  """
  z = jnp.broadcast_to(jnp.linspace(near, far, num_points),
                       (num_rays, num_points))
  if rng is None:
    return z
  step = (far - near) / (num_points - 1)
  return z + jax.random.uniform(rng, z.shape) * step


def points_on_rays(origins: jax.Array, directions: jax.Array,
                   depths: jax.Array) -> jax.Array:
  """o + z d: [..., R, 3] rays and [R, P] depths give [..., R, P, 3]."""
  return origins[..., None, :] + directions[..., None, :] * depths[..., None]


def volume_render(raw: jax.Array,
                  depths: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Composites raw network outputs along rays onto a white background.

  Args:
    raw: [..., P, 4] (colour logits, density) at each sample.
    depths: [..., P] sample depths, broadcastable to raw[..., 0].

  Returns:
    (rgb [..., 3], weights [..., P]); the weights sum to at most 1 and the
    rest of each ray's colour is white.
  """
  rgb = jax.nn.sigmoid(raw[..., :3])
  density = jax.nn.relu(raw[..., 3])
  depths = jnp.broadcast_to(depths, density.shape)
  delta = jnp.concatenate(
      [jnp.diff(depths, axis=-1),
       jnp.full_like(depths[..., :1], 1e-3)], -1)
  alpha = 1.0 - jnp.exp(-density * delta)
  # Exclusive cumulative product: the light that reaches sample i.
  survive = jnp.minimum(1.0 - alpha + 1e-10, 1.0)
  transmittance = jnp.cumprod(
      jnp.concatenate([jnp.ones_like(survive[..., :1]), survive[..., :-1]], -1),
      axis=-1)
  weights = alpha * transmittance
  colour = jnp.sum(weights[..., None] * rgb, axis=-2)
  return colour + (1.0 - jnp.sum(weights, -1, keepdims=True)), weights


def plucker(origins: jax.Array, directions: jax.Array) -> jax.Array:
  """6-D Plücker coordinates (d, o x d) of rays, with d normalised: the same
  for every point o on a ray and every positive scale of its direction."""
  d = directions / jnp.linalg.norm(directions, axis=-1, keepdims=True)
  return jnp.concatenate([d, jnp.cross(origins, d)], axis=-1)


def render_rays(field, origins: jax.Array, directions: jax.Array,
                rng: jax.Array | None, near: float = 2.0, far: float = 6.0,
                num_points: int = 128) -> jax.Array:
  """Colours of rays through a radiance field, in a single pass.

  Args:
    field: points [..., R, P, 3] -> raw outputs [..., R, P, 4] (e.g. the
      NeRF hyponet of each instance).
    origins, directions: [..., R, 3] rays.
    rng: stratification key (training), or None for evenly spaced samples.
    near, far, num_points: the depths sampled along every ray.

  Returns:
    [..., R, 3] colours on a white background.
  """
  depths = sample_depths(rng, origins.shape[-2], near, far, num_points)
  raw = field(points_on_rays(origins, directions, depths))
  return volume_render(raw, depths)[0]
