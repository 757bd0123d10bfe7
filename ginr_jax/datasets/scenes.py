"""Generated 3-D scenes in learnit's ShapeNet layout, ray-traced in numpy.

Each object is a few coloured spheres and boxes inside [-1, 1]^3, seen by
cameras on a sphere of radius 4 around it (inside the official near 2 / far
6), looking at the origin with the Blender convention of the real renders.
Pixels are traced analytically (nearest hit, Lambertian light plus ambient)
and written as RGBA PNGs, transparent where no primitive is hit, so the
loader and its tests (and, once NVS training exists, its `:tiny` configs and
demo) see exactly what the real data looks like:

  DATA_DIR/learnit_shapenet/<category>/<object>/transforms.json, r_<i>.png
  DATA_DIR/learnit_shapenet/<singular>_splits.json   {"train": [...], ...}

  python -m ginr_jax.cli.prepare scenes --data_dir=data

`make` serves the same objects without files, each view traced when it is
first read and then kept (the dataset "scenes": `:tiny` NVS configs, tests
and the NVS demo); its examples are those of `shapenet.load_example`, PNG
quantisation included.
"""

import collections
import colorsys
import functools
import json
import os
import threading

import grain
import numpy as np
from PIL import Image

from ginr_jax import cli
from ginr_jax import rendering
from ginr_jax.datasets import shapenet

CAMERA_ANGLE_X = 0.6911112070083618  # the real renders' field of view
CAMERA_RADIUS = 4.0
_LIGHT = np.asarray([0.4, 0.3, 0.87]) / np.linalg.norm([0.4, 0.3, 0.87])


def look_at(eye: np.ndarray) -> np.ndarray:
  """Camera-to-world [3, 4] for a camera at `eye` looking at the origin, with
  world z up: camera x right, y up, looking along -z (Blender)."""
  forward = -eye / np.linalg.norm(eye)
  right = np.cross(forward, [0.0, 0.0, 1.0])
  right /= np.linalg.norm(right)
  up = np.cross(right, forward)
  return np.stack([right, up, -forward, eye], axis=1)


def camera_poses(rng: np.random.Generator, num_views: int) -> np.ndarray:
  """[V, 3, 4] poses at random azimuths and elevations in [-10, 60] deg."""
  azimuth = rng.uniform(0, 2 * np.pi, num_views)
  elevation = np.radians(rng.uniform(-10, 60, num_views))
  eyes = CAMERA_RADIUS * np.stack([
      np.cos(elevation) * np.cos(azimuth),
      np.cos(elevation) * np.sin(azimuth),
      np.sin(elevation)
  ], axis=-1)
  return np.stack([look_at(e) for e in eyes])


def random_object(rng: np.random.Generator, num_primitives: int = 3) -> list:
  """Spheres ("sphere", centre, radius, rgb) and axis-aligned boxes ("box",
  centre, half sizes, rgb) that fit inside [-1, 1]^3."""
  shapes = []
  for _ in range(num_primitives):
    size = rng.uniform(0.3, 0.6)
    centre = rng.uniform(-1 + size, 1 - size, 3)
    colour = rng.uniform(0.1, 0.95, 3)
    if rng.random() < 0.5:
      shapes.append(("sphere", centre, size, colour))
    else:
      shapes.append(("box", centre, size * rng.uniform(0.5, 1.0, 3), colour))
  return shapes


def vivid_colours(rng: np.random.Generator, count: int) -> np.ndarray:
  """[count, 3] saturated RGB colours: random hues, saturation and value
  in [0.6, 1] and [0.55, 1] (averages of such colours stay coloured, where
  those of uniform RGB colours tend to grey)."""
  return np.array([
      colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.6, 1.0),
                          rng.uniform(0.55, 1.0)) for _ in range(count)
  ])


def figure_object(rng: np.random.Generator) -> list:
  """One object of a category: a box body standing on the ground plane
  z = -1, built of four columns of different colours (its quarters in x and
  y) under a lid of a fifth, a sphere head on the lid and a sphere hand on
  one of the body's four sides, each part with its own size and colour.
  Like a ShapeNet category, every object has the same parts in the same
  places, so one view says much of what another view shows; what it does
  not, more views do: a camera sees at most three of the columns, and the
  lid hides the body's top, which would show all four."""
  half = np.array(
      [rng.uniform(0.4, 0.7),
       rng.uniform(0.4, 0.7),
       rng.uniform(0.3, 0.55)])
  body = np.array([0.0, 0.0, -1.0 + half[2]])
  colours = vivid_colours(rng, 7)
  column = half * [0.5, 0.5, 1.0]
  shapes = [("box", body + column * [sx, sy, 0], column, colour)
            for (sx, sy), colour in zip(((1, 1), (1, -1), (-1, 1),
                                         (-1, -1)), colours[:4])]
  lid_half = np.array([half[0] + 0.02, half[1] + 0.02, 0.06])
  lid = body + [0.0, 0.0, half[2] + lid_half[2]]
  head_r = rng.uniform(0.25, 0.45)
  head = lid + [0.0, 0.0, lid_half[2] + head_r]
  hand_r = rng.uniform(0.2, 0.3)
  side = int(rng.integers(4))
  axis, sign = side % 2, (1.0 if side < 2 else -1.0)
  hand = body.copy()
  hand[axis] += sign * (half[axis] + hand_r)
  return shapes + [("box", lid, lid_half, colours[4]),
                   ("sphere", head, head_r, colours[5]),
                   ("sphere", hand, hand_r, colours[6])]


def random_primitives(rng: np.random.Generator) -> list:
  """2-4 primitives placed at random (`random_object`)."""
  return random_object(rng, int(rng.integers(2, 5)))


OBJECTS = {"random": random_primitives, "figure": figure_object}


def _hit(shape, origins, directions):
  """Distance t to the primitive along each ray (inf: missed) and normals."""
  kind, centre, size, _ = shape
  oc = origins - centre
  if kind == "sphere":
    a = np.sum(directions**2, -1)
    b = np.sum(oc * directions, -1)
    disc = b**2 - a * (np.sum(oc**2, -1) - size**2)
    t = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / a, np.inf)
    t = np.where(t > 0, t, np.inf)
    normals = oc + np.where(np.isfinite(t), t, 0.0)[..., None] * directions
    return t, normals / np.maximum(
        np.linalg.norm(normals, axis=-1, keepdims=True), 1e-9)
  with np.errstate(divide="ignore", invalid="ignore"):
    t0, t1 = (-size - oc) / directions, (size - oc) / directions
  near = np.max(np.minimum(t0, t1), -1)
  far = np.min(np.maximum(t0, t1), -1)
  t = np.where((near <= far) & (near > 0), near, np.inf)
  axis = np.argmax(np.minimum(t0, t1), -1)  # the face entered
  normals = np.zeros_like(directions)
  np.put_along_axis(
      normals, axis[..., None],
      -np.sign(np.take_along_axis(directions, axis[..., None], -1)), -1)
  return t, normals


def _nearest(shapes: list, pose: np.ndarray, size: int):
  """Index of the part each pixel's ray hits first ([size, size], -1 where
  it misses) and the part's normal there ([size, size, 3])."""
  focal = rendering.focal_length(size, CAMERA_ANGLE_X)
  origins, directions = (np.asarray(
      a, np.float64) for a in rendering.poses_to_rays(pose, size, size, focal))
  best = np.full((size, size), np.inf)
  part = np.full((size, size), -1)
  normal = np.zeros((size, size, 3))
  for i, shape in enumerate(shapes):
    t, normals = _hit(shape, origins, directions)
    closer = t < best
    best = np.where(closer, t, best)
    part[closer] = i
    normal[closer] = normals[closer]
  return part, normal


def part_ids(shapes: list, pose: np.ndarray, size: int) -> np.ndarray:
  """[size, size] index into `shapes` of the part each pixel shows, -1 for
  the background: which parts a view sees."""
  return _nearest(shapes, pose, size)[0]


def trace(shapes: list, pose: np.ndarray, size: int) -> np.ndarray:
  """RGBA uint8 [size, size, 4] image of the object from camera `pose`."""
  part, normal = _nearest(shapes, pose, size)
  hit = part >= 0
  light = 0.35 + 0.65 * np.clip(normal @ _LIGHT, 0, 1)
  colours = np.asarray([shape[3] for shape in shapes])
  rgba = np.zeros((size, size, 4))
  rgba[hit, :3] = colours[part[hit]] * light[hit, None]
  rgba[hit, 3] = 1.0
  return np.round(255 * rgba).astype(np.uint8)


def write_object(folder: str, shapes: list, poses: np.ndarray,
                 size: int) -> None:
  """One object folder: r_<i>.png per view and transforms.json."""
  os.makedirs(folder, exist_ok=True)
  frames = []
  for i, pose in enumerate(poses):
    Image.fromarray(trace(shapes, pose, size),
                    "RGBA").save(os.path.join(folder, f"r_{i}.png"))
    matrix = np.concatenate([pose, [[0, 0, 0, 1]]]).tolist()
    frames.append({"file_path": f"./r_{i}", "transform_matrix": matrix})
  with open(os.path.join(folder, "transforms.json"), "w") as f:
    json.dump({"camera_angle_x": CAMERA_ANGLE_X, "frames": frames}, f)


def generate(data_dir: str, category: str = "chairs", *,
             num_objects: dict[str, int] | None = None, num_views: int = 50,
             image_size: int = 128, seed: int = 0) -> str:
  """Writes a generated category in the learnit layout; returns its folder.

  Args:
    data_dir: root; objects go to DATA_DIR/learnit_shapenet/<category>/.
    category: "cars", "chairs" or "lamps" (any name ending in "s").
    num_objects: objects per split, default {"train": 24, "test": 8}.
    num_views: views per object (the real renders have 50; training uses
      the first 25).
    image_size: square image side (128 as the real renders).
    seed: the scenes and cameras are a function of it.
  """
  num_objects = num_objects or {"train": 24, "test": 8}
  root = os.path.join(data_dir, shapenet.FOLDER)
  splits = {}
  rng = np.random.default_rng(seed)
  for split, count in num_objects.items():
    splits[split] = []
    for i in range(count):
      name = f"{split}_{i:04d}"
      write_object(os.path.join(root, category, name), random_primitives(rng),
                   camera_poses(rng, num_views), image_size)
      splits[split].append(name)
  with open(shapenet.splits_file(data_dir, category), "w") as f:
    json.dump(splits, f)
  return os.path.join(root, category)


SPLITS = ("train", "test")


def scene(seed: tuple[int, ...], num_views: int, objects: str = "random"):
  """(primitives, [V, 3, 4] poses) of one object: a function of `seed`;
  `objects` "random" (2-4 primitives anywhere) or "figure"."""
  rng = np.random.default_rng(seed)
  return OBJECTS[objects](rng), camera_poses(rng, num_views)


class ViewCache:
  """Traced views (RGBA uint8) by key, kept up to `max_bytes`, the least
  recently read out first; safe across the input pipeline's threads."""

  def __init__(self, max_bytes: int):
    self.max_bytes = max_bytes
    self._views = collections.OrderedDict()
    self._bytes = 0
    self._lock = threading.Lock()

  def get(self, key, trace_view) -> np.ndarray:
    """The view of `key`, from `trace_view()` the first time."""
    with self._lock:
      if key in self._views:
        self._views.move_to_end(key)
        return self._views[key]
    rgba = trace_view()
    with self._lock:
      if key not in self._views:
        self._views[key] = rgba
        self._bytes += rgba.nbytes
      while self._bytes > self.max_bytes:
        _, old = self._views.popitem(last=False)
        self._bytes -= old.nbytes
    return rgba


# Training reads each object's views again every epoch, and tracing them
# took over half of the NVS demo's step on a CPU: keep them (all the views the
# demo reads, 32 px, take 48 MB).
_VIEWS = ViewCache(max_bytes=256 * 2**20)


@functools.lru_cache(maxsize=4096)
def _scene(seed: tuple[int, ...], num_views: int, objects: str):
  return scene(seed, num_views, objects)


def _example(index, rng, *, split_id, seed, num_views, image_size, n_support,
             n_query, train, objects="random"):
  key = (seed, split_id, int(index))
  shapes, poses = _scene(key, num_views, objects)
  support, query = shapenet.draw_views(rng, num_views, n_support, n_query,
                                       train)

  def view(i):
    rgba = _VIEWS.get((key, num_views, objects, int(i), image_size),
                      lambda: trace(shapes, poses[i], image_size))
    rgba = rgba.astype(np.float32) / 255.0
    return rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])

  return {
      "support_image": np.stack([view(i) for i in support]),
      "support_pose": poses[support].astype(np.float32),
      "query_image": np.stack([view(i) for i in query]),
      "query_pose": poses[query].astype(np.float32),
      "focal": np.float32(rendering.focal_length(image_size, CAMERA_ANGLE_X))
  }


def make(*, split: str, train: bool, image_size: int, n_support: int,
         n_query: int = 1, train_objects: int = 24, test_objects: int = 8,
         num_views: int = 50, seed: int = 0, objects: str = "random",
         data_dir=None, **unused_shapenet_kwargs):
  """Generated objects as a dataset, views traced on first reading.

  Args:
    split: "train" or "test" (different objects).
    train: draw views from the first 25 only, as the ShapeNet loader.
    image_size: side of the square views.
    n_support, n_query: views per example.
    train_objects, test_objects: objects in each split.
    num_views: cameras per object.
    seed: the objects are a function of (seed, split, index).
    objects: "random" (`random_object`) or "figure" (`figure_object`).
    data_dir, unused_shapenet_kwargs: ignored (the ShapeNet loader's
      category and repeats), so a ShapeNet config can swap this in.
  """
  del data_dir, unused_shapenet_kwargs
  if split not in SPLITS:
    raise ValueError(
        f"scenes: unknown split {split!r}; valid splits: {', '.join(SPLITS)}.")
  if objects not in OBJECTS:
    raise cli.ConfigError(
        f"input.kwargs.objects={objects!r}; use one of {tuple(OBJECTS)}.")
  count = train_objects if split == "train" else test_objects
  return grain.MapDataset.range(count), functools.partial(
      _example, split_id=SPLITS.index(split), seed=seed, num_views=num_views,
      image_size=image_size, n_support=n_support, n_query=n_query, train=train,
      objects=objects)
