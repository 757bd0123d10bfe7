"""Novel views of a test object along an orbit, as PNG frames and a GIF
(the command: `python -m ginr_jax.cli.orbit`).

A trained NVS run (configs/shapenet.py, configs/nvs_demo.py) encodes one
test object's support views and renders it from `frames` cameras evenly
spaced in azimuth on a circle of radius 4 around the origin (the generated
scenes' and ShapeNet renders' camera distance), looking at the origin.
`write_orbit` writes the GIF and a PNG strip with the support views in
front of the frames.
"""

import os

import jax.numpy as jnp
import numpy as np
from PIL import Image

from ginr_jax import cli
from ginr_jax import evaluators
from ginr_jax.datasets import scenes
from ginr_jax.tasks import views


def orbit_poses(frames: int, elevation_deg: float,
                radius: float = scenes.CAMERA_RADIUS) -> np.ndarray:
  """[frames, 3, 4] camera-to-world poses evenly spaced in azimuth."""
  azimuth = np.linspace(0, 2 * np.pi, frames, endpoint=False)
  elevation = np.radians(elevation_deg)
  eyes = radius * np.stack([
      np.cos(elevation) * np.cos(azimuth),
      np.cos(elevation) * np.sin(azimuth),
      np.full_like(azimuth, np.sin(elevation))
  ], -1)
  return np.stack([scenes.look_at(e) for e in eyes]).astype(np.float32)


def render_orbit(setup, params, example: dict[str, np.ndarray],
                 poses: np.ndarray) -> np.ndarray:
  """[frames, H, W, 3] views of one object (its support views in
  `example`) from `poses`, rendered `eval_coord_chunk` rays at a time."""
  if not isinstance(setup.task, views.Views):
    raise cli.ConfigError("orbit renders novel views: train an NVS config "
                          "(configs/shapenet.py, configs/nvs_demo.py); this "
                          f"run's task is {setup.task}.")
  size = example["query_image"].shape[-2]
  batch = {k: jnp.asarray(v)[None] for k, v in example.items()}
  latents, _ = setup.encode_fn(params, batch)
  frames = []
  for pose in poses:  # one frame at a time bounds the memory
    batch["query_pose"] = jnp.asarray(pose)[None, None]
    batch["query_image"] = jnp.ones((1, 1, size, size, 3))
    rays, _ = setup.task.eval_inputs(batch)
    pred = setup.predict_fn(params, latents, rays)
    frames.append(np.asarray(pred).reshape(size, size, 3))
  return np.stack(frames)


def write_orbit(out_dir: str, name: str, support: np.ndarray,
                frames: np.ndarray, fps: int = 12) -> tuple[str, str]:
  """(GIF path, PNG strip path): frames [n, H, W, 3] in [0, 1]."""
  os.makedirs(out_dir, exist_ok=True)
  images = [Image.fromarray(f) for f in evaluators.to_uint8(frames)]
  gif = os.path.join(out_dir, f"{name}.gif")
  images[0].save(gif, save_all=True, append_images=images[1:],
                 duration=int(1000 / fps), loop=0)
  png = os.path.join(out_dir, f"{name}.png")
  evaluators.save_grid(png, [np.concatenate([support, frames])])
  return gif, png
