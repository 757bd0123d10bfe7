"""ShapeNet renders in learnit's layout, read as the official IPC code does.

`docs/faithfulness.md#shapenet-views` (the official `LearnitShapenet`):

  DATA_DIR/learnit_shapenet/{cars,chairs,lamps}/<object>/transforms.json
  DATA_DIR/learnit_shapenet/<category>/<object>/r_<i>.png  (RGBA, 128 x 128)
  DATA_DIR/learnit_shapenet/{car,chair,lamp}_splits.json  {"train": [...],
      "test": [...]}  (object folder names; a path's last part is used)

- objects without transforms.json are skipped, as the official code does;
- each frame's image is RGBA / 255 composited on white, its pose the top
  3 x 4 of `transform_matrix` (camera-to-world, Blender axes); the focal
  length is 0.5 W / tan(0.5 camera_angle_x);
- an example draws n_support + n_query distinct views uniformly at random,
  in training from the first 25 views only, at test from all of them.

The real renders come with learnit (github.com/tancik/learnit, the ShapeNet
data linked from its README); `python -m ginr_jax.cli.prepare scenes`
writes generated objects in the same layout (`scenes.py`).
"""

import functools
import json
import os

import grain
import numpy as np
from PIL import Image

from ginr_jax import rendering
from ginr_jax.datasets import images

FOLDER = "learnit_shapenet"
CATEGORIES = ("cars", "chairs", "lamps")
TRAIN_VIEWS = 25  # training draws from the first 25 views only
_LAYOUT = ("learnit_shapenet/<category>/<object>/{transforms.json, *.png} "
           "and learnit_shapenet/<category without s>_splits.json")


def splits_file(data_dir: str, category: str) -> str:
  return os.path.join(data_dir, FOLDER,
                      f"{category.removesuffix('s')}_splits.json")


def _missing(problem: str, path: str, data_dir: str):
  return images.DatasetNotFoundError(
      f"shapenet: {problem}: {os.path.abspath(path)}\n"
      f"  expected layout: {_LAYOUT}\n"
      "  get learnit's ShapeNet renders (github.com/tancik/learnit, data "
      f"linked from its README) into {os.path.join(data_dir, FOLDER)}, or "
      "generate scenes in this layout: python -m ginr_jax.cli.prepare "
      f"scenes --data_dir={data_dir}")


def object_folders(data_dir: str, category: str, split: str) -> list[str]:
  """The folders of a split's objects that have a transforms.json."""
  path = splits_file(data_dir, category)
  if not os.path.isfile(path):
    raise _missing("no split file", path, data_dir)
  with open(path) as f:
    splits = json.load(f)
  if split not in splits:
    raise ValueError(
        f"shapenet: {path} has no split {split!r}; it has {', '.join(splits)}.")
  root = os.path.join(data_dir, FOLDER, category)
  folders = [
      os.path.join(root, os.path.basename(os.path.normpath(name)))
      for name in splits[split]
  ]
  folders = [
      f for f in folders if os.path.isfile(os.path.join(f, "transforms.json"))
  ]
  if not folders:
    raise _missing(f"no object of split {split!r} has a transforms.json", root,
                   data_dir)
  return folders


def read_transforms(folder: str) -> tuple[list[str], np.ndarray, float]:
  """(PNG paths, [V, 3, 4] float32 camera-to-world poses, camera_angle_x)."""
  with open(os.path.join(folder, "transforms.json")) as f:
    meta = json.load(f)
  paths = [
      os.path.join(folder,
                   os.path.basename(fr["file_path"]) + ".png")
      for fr in meta["frames"]
  ]
  poses = np.asarray([fr["transform_matrix"] for fr in meta["frames"]],
                     np.float32)[:, :3, :4]
  return paths, poses, float(meta["camera_angle_x"])


def load_view(path: str) -> np.ndarray:
  """[H, W, 3] float32 RGB composited on white: rgb a + (1 - a)."""
  rgba = np.asarray(Image.open(path).convert("RGBA"), np.float32) / 255.0
  return rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])


def draw_views(rng: np.random.Generator, num_views: int, n_support: int,
               n_query: int, train: bool) -> tuple[np.ndarray, np.ndarray]:
  """Distinct support and query view indices, uniformly at random (in
  training from the first TRAIN_VIEWS only). The query views are drawn
  first, so that from the same `rng` every number of support views predicts
  the same query views, and fewer support views are a subset of more."""
  pool = min(num_views, TRAIN_VIEWS) if train else num_views
  if n_support + n_query > pool:
    raise ValueError(f"shapenet: {n_support} support + {n_query} query views"
                     f" need {n_support + n_query} distinct views; the object"
                     f" has {pool} to draw from.")
  drawn = rng.permutation(pool)[:n_query + n_support]
  return drawn[n_query:], drawn[:n_query]


def load_example(folder: str, rng: np.random.Generator, *, n_support: int,
                 n_query: int, train: bool,
                 image_size: int | None = None) -> dict[str, np.ndarray]:
  """One object's drawn views: images [S|Q, H, W, 3], poses [S|Q, 3, 4]
  and the focal length in pixels; `image_size`, if given, is checked."""
  paths, poses, angle = read_transforms(folder)
  support, query = draw_views(rng, len(paths), n_support, n_query, train)
  views = {i: load_view(paths[i]) for i in (*support, *query)}
  height, width = views[support[0]].shape[:2]
  if height != width:
    raise ValueError(f"shapenet: {paths[support[0]]} is {height}x{width}; "
                     "the renders are square.")
  if image_size and height != image_size:
    raise ValueError(f"shapenet: {paths[support[0]]} is {height}x{width}, "
                     f"but input.image_size is {image_size}: set it to "
                     f"{height}.")
  return {
      "support_image": np.stack([views[i] for i in support]),
      "support_pose": poses[support],
      "query_image": np.stack([views[i] for i in query]),
      "query_pose": poses[query],
      "focal": np.float32(rendering.focal_length(width, angle))
  }


def make(*, split: str, train: bool, category: str, n_support: int,
         n_query: int = 1, train_repeat: int = 1, test_repeat: int = 100,
         data_dir: str | None = None, image_size: int | None = None):
  """A split's objects, each repeated, and the transform drawing views.

  The official repeats: train cars 2, chairs 1, lamps 3; test 100 (every
  test object evaluated with 100 random support/query draws; the evaluation
  pipeline seeds each draw by its position, so they are the same every
  evaluation).

  Returns:
    (grain.MapDataset of object folders, transform(folder, rng) -> dict of
    `load_example`).
  """
  data_dir = data_dir or images.DEFAULT_DATA_DIR
  if category not in CATEGORIES:
    raise ValueError(f"shapenet: unknown category {category!r}; use one of "
                     f"{', '.join(CATEGORIES)}.")
  repeat = train_repeat if split == "train" else test_repeat
  folders = object_folders(data_dir, category, split) * repeat
  return grain.MapDataset.source(folders), functools.partial(
      load_example, n_support=n_support, n_query=n_query, train=train,
      image_size=image_size)
