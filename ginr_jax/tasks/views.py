"""Novel view synthesis: support views in, query views' rays out.

IPC §4.3 / Appendix A.3 and `docs/faithfulness.md#rendering`,
`#shapenet-views` and `#ray-sampling`; LA-GINR §4.2 / Appendix A.2. A batch
(the ShapeNet loader's) holds, per object, support and query views with
camera-to-world poses and the focal length:

  support_image [B, S, H, W, 3], support_pose [B, S, 3, 4],
  query_image [B, Q, H, W, 3], query_pose [B, Q, 3, 4], focal [B].

The encoder reads every support pixel with its ray, 9 channels: RGB plus
the ray's origin and (unnormalised) direction for volume rendering (the
official NVS encoder), RGB plus the ray's 6-D Plücker coordinates for light
fields (LA-GINR A.2; the channel order RGB first is our choice). Patched
view by view (the models' patch_rank = 2), the tokens of all support views
form one sequence.

The coordinates are query rays, [B, M, 6]:
  render="volume"       (origin, direction); the prediction is the volume
                        rendering of the decoder's (RGB logits, density) at
                        `num_points` stratified depths in [near, far] on a
                        white background (`rendering.py`); the decoder is a
                        field of 3-D points.
  render="light_field"  the Plücker coordinates; the decoder predicts the
                        colour of the ray directly (its output bias 0.5 as
                        for images: our choice).
Training supervises `num_rays` query rays per object (128): for the first
`adaptive_steps` steps half of them on the foreground (pixels not pure
white) and half uniform, as the official "adaptive random" sampler does
for epochs 0 and 1; uniform without replacement after that.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import cli
from ginr_jax import evaluators
from ginr_jax import rendering
from ginr_jax.datasets import scenes

RENDERS = ("volume", "light_field")


@dataclasses.dataclass(frozen=True)
class Views:
  """Support views -> latents; query rays -> colours.

  Attributes:
    support_shape: [S, H, W, 3] of one object's support views.
    query_shape: [Q, H, W, 3] of its query views.
    render: "volume" or "light_field" (module docstring).
    num_rays: query rays supervised per object in a training step.
    adaptive_steps: training steps with foreground-weighted ray sampling.
    num_points: samples per ray (volume rendering).
    near, far: the depth range sampled along rays.
    ray_scale: factor on the encoder's ray channels (not on the decoder's
      coordinates). 1: the official raw channels, whose camera origins (norm
      ~4) outweigh the RGB they are concatenated with; 1 / camera distance
      puts both in [-1, 1] (the NVS demo's choice).
  """

  support_shape: tuple[int, ...]
  query_shape: tuple[int, ...]
  render: str = "volume"
  num_rays: int = 128
  adaptive_steps: int = 0
  num_points: int = 128
  near: float = 2.0
  far: float = 6.0
  ray_scale: float = 1.0

  def __post_init__(self):
    if self.render not in RENDERS:
      raise cli.ConfigError(
          f"task.render={self.render!r}; use one of {RENDERS}.")
    rays = int(np.prod(self.query_shape[:-1]))
    if self.num_rays > rays:
      raise cli.ConfigError(
          f"task.num_rays={self.num_rays}, but the query views have {rays} rays."
      )

  @property
  def coord_dim(self) -> int:
    """What the decoder reads: 3-D points, or 6-D Plücker rays."""
    return 3 if self.render == "volume" else 6

  def rays(self, images, poses, focal):
    """Per-pixel (origins, directions) [B, V, H, W, 3] of views [B, V, ...]."""
    h, w = images.shape[2:4]
    focal = jnp.broadcast_to(focal[:, None], poses.shape[:2])
    return rendering.poses_to_rays(poses, h, w, focal)

  def ray_features(self, origins, directions):
    """Per-ray encoder channels / light-field coordinates, 6 each."""
    if self.render == "volume":
      return jnp.concatenate([origins, directions], axis=-1)
    return rendering.plucker(origins, directions)

  def init_inputs(self):
    return (jnp.zeros(
        (1, *self.support_shape[:-1], 9)), jnp.zeros((1, self.coord_dim)))

  def encoder_input(self, batch) -> jax.Array:
    """[B, S, H, W, 9]: RGB and the ray channels of every support pixel."""
    origins, directions = self.rays(batch["support_image"],
                                    batch["support_pose"], batch["focal"])
    rays = self.ray_features(origins, directions) * self.ray_scale
    return jnp.concatenate([batch["support_image"], rays], -1)

  def _all_rays(self, batch, which: str):
    images = batch[f"{which}_image"]
    origins, directions = self.rays(images, batch[f"{which}_pose"],
                                    batch["focal"])
    b = images.shape[0]
    coords = self.ray_features(origins, directions).reshape(b, -1, 6)
    return coords, images.reshape(b, -1, 3)

  def eval_inputs(self, batch):
    """Every query ray [B, Q*H*W, 6] and its colour [B, Q*H*W, 3]."""
    return self._all_rays(batch, "query")

  def support_inputs(self, batch):
    """Every support ray and its colour (what test-time optimisation fits)."""
    return self._all_rays(batch, "support")

  def train_inputs(self, rng: jax.Array, batch, step):
    """`num_rays` query rays per object and their colours."""
    coords, targets = self.eval_inputs(batch)
    indices = sample_rays(rng, targets, self.num_rays, adaptive=step
                          < self.adaptive_steps)
    take = lambda x: jnp.take_along_axis(x, indices[..., None], axis=1)
    return take(coords), take(targets)

  def predict(self, decode, latents, coords, rng=None):
    """Colours [B, M, 3] of rays [B, M, 6]; `rng` stratifies the depths."""
    if self.render == "light_field":
      return decode(latents, coords)
    b, m, _ = coords.shape

    def field(points):  # [B, M, P, 3]
      raw = decode(latents, points.reshape(b, -1, 3))
      return raw.reshape(*points.shape[:-1], raw.shape[-1])

    return rendering.render_rays(field, coords[..., :3], coords[..., 3:], rng,
                                 self.near, self.far, self.num_points)

  def write_artefacts(self, sample, encode, predict, out, *, upsample=(1,),
                      inner_steps: int = 0):
    """A grid of the sample's objects: their support views, then each
    query view's target and prediction (`evaluators.views_grid`).

    Args:
      sample: test objects, a batch of numpy arrays.
      encode: () -> the sample's latents.
      predict: (latents, rays [n, M, 6]) -> colours [n, M, 3].
      out: an `evaluators.Output`.
      upsample, inner_steps: unused; views are rendered at the query
        views' size, and have no inner loop.
    """
    del upsample, inner_steps
    pred = predict(encode(), self.eval_inputs(sample)[0])
    out.images({
        f"views_{out.step:08d}.png":
            ("images/views",
             evaluators.views_grid(sample,
                                   pred.reshape(sample["query_image"].shape)))
    })

  def dummy_batch(self, batch_size: int, rng: np.random.Generator):
    """Random views seen by cameras at distance 4 looking at the origin."""
    s, q = self.support_shape[0], self.query_shape[0]
    poses = np.stack([
        scenes.camera_poses(rng, s + q) for _ in range(batch_size)
    ]).astype(np.float32)
    size = self.support_shape[1]
    return {
        "support_image": rng.uniform(size=(batch_size, *self.support_shape)
                                    ).astype(np.float32),
        "support_pose": poses[:, :s],
        "query_image": rng.uniform(size=(batch_size, *self.query_shape)
                                  ).astype(np.float32), "query_pose": poses[:,
                                                                            s:],
        "focal": np.full((batch_size,),
                         rendering.focal_length(size, scenes.CAMERA_ANGLE_X),
                         np.float32)
    }


def other_support(batch: dict, shift: int = 1, first: int = 0) -> dict:
  """The batch with every object's support views (images and poses) from
  index `first` on replaced by those of the object `shift` places further
  on: predictions that do not get worse ignore what those views show."""
  out = dict(batch)
  for key in ("support_image", "support_pose"):
    x = batch[key]
    out[key] = jnp.concatenate(
        [x[:, :first], jnp.roll(x[:, first:], shift, axis=0)], axis=1)
  return out


def first_view_repeated(batch: dict) -> dict:
  """The batch with every support view replaced by the object's first: as
  many views as before, but no more information than one."""
  out = dict(batch)
  for key in ("support_image", "support_pose"):
    x = batch[key]
    out[key] = jnp.repeat(x[:, :1], x.shape[1], axis=1)
  return out


def sample_rays(rng: jax.Array, colours: jax.Array, num_rays: int,
                adaptive) -> jax.Array:
  """Ray indices [B, num_rays] per object, the official RaySubSampler.

  Args:
    rng: PRNG key.
    colours: [B, N, 3] target colours of all query rays.
    num_rays: rays per object.
    adaptive: (traced) bool: half the rays from the foreground (min over
      RGB < 1) without replacement, duplicating foreground rays at random
      where there are too few (uniform if there is none), the other half
      uniform without replacement; else `num_rays` uniform without
      replacement.
  """
  b, n, _ = colours.shape
  keys = jax.random.split(rng, 3)
  uniform = jax.vmap(lambda k: jax.random.permutation(k, n)[:num_rays])(
      jax.random.split(keys[0], b))
  half = num_rays // 2
  foreground = jnp.min(colours, axis=-1) < 1.0  # [B, N]
  # Foreground first, in random order: sort by noise + 2 on the background.
  score = jax.random.uniform(keys[1], (b, n)) + jnp.where(foreground, 0.0, 2.0)
  order = jnp.argsort(score, axis=-1)[:, :half]
  count = jnp.sum(foreground, axis=-1, keepdims=True)  # [B, 1]
  repeat = jnp.floor(
      jax.random.uniform(keys[2],
                         (b, half)) * jnp.maximum(count, 1)).astype(jnp.int32)
  slot = jnp.arange(half)
  pick = jnp.where((slot < count) | (count == 0), slot, repeat)
  adaptive_indices = jnp.concatenate(
      [jnp.take_along_axis(order, pick, axis=1), uniform[:, :num_rays - half]],
      axis=1)
  return jnp.where(adaptive, adaptive_indices, uniform)
