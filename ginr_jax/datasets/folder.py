"""Your own images: any folder of JPEG, PNG or WebP files (`configs/folder.py`).

This file owns
  * finding the images: every *.jpg, *.jpeg, *.png and *.webp file (any
    case) under DATA_DIR, in subfolders too; hidden files and folders (names
    starting with ".") are left out;
  * the split: DATA_DIR/train and DATA_DIR/test (or val) when both are
    there; otherwise `test_fraction` (10%) of the files by a SHA-256 hash of
    their path relative to DATA_DIR -- the same on every machine, and a file
    never changes split when others are added or removed;
  * checking at start that every file of both splits decodes (JPEGs at 1/8
    scale, which still reads the whole file), on a thread pool: an unreadable
    file stops the run naming the first and the count, or with
    skip_bad_files is left out of its split, the count in the log;
  * the preprocessing: EXIF orientation applied (photos as a viewer shows
    them); RGB (grey and palette images expanded, the alpha channel of RGBA
    dropped, not composited, like the other image datasets); short side
    resized to R, smaller images upscaled (bilinear, logged with their count
    and the smallest); centre R x R crop; a random horizontal flip in
    training.
"""

import concurrent.futures
import functools
import hashlib
import os
import pathlib
import time

from absl import logging
import grain
from PIL import Image
from PIL import ImageOps

from ginr_jax import cli
from ginr_jax.datasets import images
from ginr_jax.datasets import preprocess

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
TRAIN_FOLDER = "train"
TEST_FOLDERS = ("test", "val")  # the first present is the test split
SPLITS = ("train", "test")


def image_files(folder: str) -> list[str]:
  """The image paths under `folder`, recursively, sorted."""
  found = []
  for root, dirs, names in os.walk(folder):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    found += [
        os.path.join(root, name)
        for name in names
        if not name.startswith(".") and name.lower().endswith(EXTENSIONS)
    ]
  return sorted(found)


def in_test_split(relative_path: str, test_fraction: float) -> bool:
  """Whether the hash split puts a file in the test split.

  Args:
    relative_path: the file's path relative to DATA_DIR, "/"-separated.
    test_fraction: the expected fraction of test files.

  Returns:
    The first 8 bytes of the path's SHA-256, as a fraction of 2**64, are
    below `test_fraction`.
  """
  digest = hashlib.sha256(relative_path.encode()).digest()
  return int.from_bytes(digest[:8], "big") < test_fraction * 2**64


def _not_found(problem: str) -> images.DatasetNotFoundError:
  return images.DatasetNotFoundError(f"folder: {problem}")


def split_files(data_dir: str,
                test_fraction: float = 0.1) -> dict[str, list[str]]:
  """{"train": paths, "test": paths} of the images under `data_dir`.

  Raises:
    DatasetNotFoundError: no such folder, no images, only one of train/ and
      test/, or an empty split.
  """
  root = os.path.abspath(data_dir)
  if not os.path.isdir(root):
    raise _not_found(f"no such folder: {root}; pass the folder of your "
                     "images as --config.input.data_dir=PATH.")
  train_dir = os.path.join(root, TRAIN_FOLDER)
  test_dirs = [
      os.path.join(root, name)
      for name in TEST_FOLDERS
      if os.path.isdir(os.path.join(root, name))
  ]
  if os.path.isdir(train_dir) != bool(test_dirs):
    there, missing = ((f"{os.path.basename(test_dirs[0])}/",
                       "train/") if test_dirs else
                      ("train/", "test/ (or val/)"))
    raise _not_found(f"{root} has a {there} subfolder but no {missing} "
                     "beside it; add one to split by subfolder, or rename "
                     f"{there} to split all the images by hash.")
  if test_dirs:
    where = {"train": train_dir, "test": test_dirs[0]}
    splits = {split: image_files(folder) for split, folder in where.items()}
  else:
    if not 0.0 < test_fraction < 1.0:
      raise cli.ConfigError(
          f"folder: test_fraction={test_fraction}; use a fraction in (0, 1).")
    files = image_files(root)
    where = {"train": root, "test": root}
    test = [
        in_test_split(
            pathlib.PurePath(os.path.relpath(p, root)).as_posix(),
            test_fraction) for p in files
    ]
    splits = {
        "train": [p for p, t in zip(files, test) if not t],
        "test": [p for p, t in zip(files, test) if t]
    }
  for split, files in splits.items():
    if files:
      continue
    if test_dirs or not any(splits.values()):
      raise _not_found(f"no {', '.join(EXTENSIONS)} images under "
                       f"{where[split]} (searched in subfolders too).")
    total = sum(map(len, splits.values()))
    raise _not_found(
        f"the hash split puts none of the {total} images under {root} in "
        f"the {split} split (test_fraction "
        f"{test_fraction:g}); add images, change "
        "--config.input.kwargs.test_fraction, or split them yourself into "
        "train/ and test/ subfolders.")
  return splits


@functools.lru_cache(maxsize=None)
def _probe(path: str, mtime_ns: int, size_bytes: int):
  """((width, height), None) of a readable image, or (None, why not).

  Keyed by the file's modification time and size too, so that a file
  checked again after it changed is decoded again.
  """
  del mtime_ns, size_bytes  # Cache keys only.
  try:
    with Image.open(path) as img:
      size = img.size
      img.draft(None, (1, 1))  # JPEG: decode at 1/8 scale; others: full
      img.load()
    return size, None
  # PIL's errors for a damaged file (as images.read_file), and a pixel count
  # over its decompression-bomb limit.
  except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
    return None, str(e)


def probe_files(paths: list[str], num_threads: int = 8) -> dict:
  """{path: ((width, height), None) or (None, why it is unreadable)}."""

  def probe(path):
    stat = os.stat(path)
    return _probe(path, stat.st_mtime_ns, stat.st_size)

  with concurrent.futures.ThreadPoolExecutor(num_threads) as pool:
    return dict(zip(paths, pool.map(probe, paths)))


# Messages logged so far: every evaluation builds the test split again.
_logged = set()


def _log_once(level: int, message: str):
  if message not in _logged:
    _logged.add(message)
    logging.log(level, message)


def readable_splits(data_dir: str, test_fraction: float, image_size: int,
                    skip_bad_files: bool) -> dict[str, list[str]]:
  """`split_files` with every file of both splits checked (module
  docstring); unreadable ones left out when `skip_bad_files`.

  Raises:
    UnreadableFileError: an unreadable file (and not skip_bad_files), or a
      split left without a readable image.
  """
  root = os.path.abspath(data_dir)
  splits = split_files(root, test_fraction)
  paths = splits["train"] + splits["test"]
  _log_once(
      logging.INFO, f"folder: {len(splits['train'])} train and "
      f"{len(splits['test'])} test images under {root}; checking "
      "that each decodes.")
  start, misses = time.monotonic(), _probe.cache_info().misses
  probed = probe_files(paths)
  checked = _probe.cache_info().misses - misses
  if checked:
    logging.info("folder: checked %d image files in %.1f s.", checked,
                 time.monotonic() - start)
  bad = sorted((p, why) for p, (_, why) in probed.items() if why is not None)
  if bad and not skip_bad_files:
    raise images.UnreadableFileError(
        f"folder: {len(bad)} of the {len(paths)} images under {root} are "
        f"unreadable, the first {bad[0][0]} ({bad[0][1]}); replace or delete "
        "them, or pass --config.input.skip_bad_files=True to skip them.")
  if bad:
    _log_once(
        logging.WARNING, f"folder: skipped {len(bad)} unreadable "
        f"images of the {len(paths)} under {root}, the first "
        f"{bad[0][0]} ({bad[0][1]}).")
    skipped = {p for p, _ in bad}
    splits = {
        s: [p for p in files if p not in skipped] for s, files in splits.items()
    }
    for split, files in splits.items():
      if not files:
        raise images.UnreadableFileError(
            f"folder: no readable image in the {split} split under {root}.")
  small = sorted((min(size), p)
                 for p, (size, _) in probed.items()
                 if size and min(size) < image_size)
  if small:
    side, path = small[0]
    _log_once(
        logging.WARNING, f"folder: {len(small)} of the {len(paths)} "
        f"images are smaller than {image_size} px on their short side "
        f"and are upscaled (bilinear) to it; the smallest: {path} "
        f"({side} px).")
  return splits


def _transform(path, rng, *, files, image_size, augment, skip_bad_files):
  img = ImageOps.exif_transpose(images.read_file(path, files, skip_bad_files))
  image = preprocess.eval_preprocess(img, image_size)
  return {"image": preprocess.random_flip(image, rng) if augment else image}


def make(*, split, train, image_size, data_dir=None, skip_bad_files=False,
         test_fraction=0.1):
  """The images of a folder (module docstring).

  Args:
    split: "train" or "test".
    train: add the random horizontal flip.
    image_size: side R of the square outputs.
    data_dir: the folder of images; required.
    skip_bad_files: leave unreadable files out (counted in the log) instead
      of stopping with the first one's name.
    test_fraction: the hash split's fraction of test images, when there are
      no train/ and test/ subfolders.

  Returns:
    (source of file paths, transform) as in `ginr_jax.datasets.make`.

  Raises:
    cli.ConfigError: no data_dir, a bad split or test_fraction.
    DatasetNotFoundError: a missing folder or an empty split.
    UnreadableFileError: an unreadable file (without skip_bad_files).
  """
  if not data_dir:
    raise cli.ConfigError(
        "folder: pass the folder of your images as --config.input.data_dir=PATH."
    )
  if split not in SPLITS:
    raise cli.ConfigError(
        f"folder: unknown split {split!r}; valid splits: {', '.join(SPLITS)}.")
  files = readable_splits(data_dir, test_fraction, image_size,
                          skip_bad_files)[split]
  transform = functools.partial(_transform, files=files, image_size=image_size,
                                augment=train, skip_bad_files=skip_bad_files)
  return grain.MapDataset.source(files), transform
