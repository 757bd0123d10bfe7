"""Image datasets read from disk: ImageNette, CelebA, FFHQ and TFDS sources.

This file owns
  * the on-disk layouts of the three folder datasets, their splits, and the
    checks that fail early (`DatasetNotFoundError`) when a layout is missing
    or malformed;
  * `make_*` functions returning `(source, transform)` as described in
    `ginr_jax.datasets.make`, their transforms made of `preprocess.py`'s ops.

Every transform returns `{"image": float32 (R, R, 3) in [0, 1]}`: RGB with no
mean/std normalisation, as `ToTensor()` gives in the official code.
"""

import functools
import os
import re
import threading

from absl import logging
import grain
import tensorflow_datasets as tfds

from ginr_jax import cli
from ginr_jax.datasets import preprocess

# Root of the folder datasets when `data_dir` is None. ginr-ipc keeps its data
# in `data/` beside the code; ours is relative to the working directory.
DEFAULT_DATA_DIR = "data"

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")

IMAGENETTE_FOLDER = "imagenette2-320"
# The tgz names its held-out split `val`; the papers report on it.
IMAGENETTE_SPLITS = {"train": "train", "test": "val"}
IMAGENETTE_LAYOUT = ("DATA_DIR/imagenette2-320/{train,val}/<class>/*.JPEG "
                     "(imagenette2-320.tgz extracted)")

CELEBA_FOLDER = "img_align_celeba"
# Official index ranges (inclusive); `test` is what the papers evaluate on.
CELEBA_SPLITS = {
    "train": (1, 162_770), "val": (162_771, 182_637), "test": (182_638, 202_599)
}
CELEBA_LAYOUT = ("DATA_DIR/img_align_celeba/000001.jpg ... 202599.jpg "
                 "(the aligned 178x218 CelebA JPEGs, flat)")

FFHQ_FOLDER = "ffhq"
FFHQ_NUM_TRAIN = 60_000
FFHQ_SPLITS = ("train", "test")
FFHQ_LAYOUT = (
    "DATA_DIR/ffhq/00000.png ... 69999.png (the 1024x1024 FFHQ PNGs, flat)")


class DatasetNotFoundError(cli.NotFoundError):
  """A dataset folder is missing or malformed, or a split is empty."""


class UnreadableFileError(cli.UserError):
  """An image file of a dataset cannot be decoded (truncated, corrupt)."""


def _not_found(name, problem, folder, layout, data_dir):
  return DatasetNotFoundError(
      f"{name}: {problem}: {os.path.abspath(folder)}\n"
      f"  expected layout: {layout}\n"
      f"  to prepare it, run: python -m ginr_jax.cli.prepare {name} "
      f"--data_dir={data_dir}")


def _existing(name, folder, layout, data_dir):
  """`folder`, or the error that names the layout and the prepare command."""
  if not os.path.isdir(folder):
    raise _not_found(name, "no such folder", folder, layout, data_dir)
  return folder


def _check_split(name, split, valid):
  if split not in valid:
    raise cli.ConfigError(
        f"{name}: unknown split {split!r}; valid splits: {', '.join(valid)}.")


# ----------------------------------------------------------------------------
# Folder datasets: listing files per split.


def _image_files(folder):
  """The names of the JPEG and PNG files in `folder`, sorted."""
  return sorted(
      entry.name
      for entry in os.scandir(folder)
      if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS))


def _indexed_files(folder, extension):
  """{int index: path} for the files named `<digits><extension>` in folder."""
  pattern = re.compile(r"(\d+)" + re.escape(extension))
  indexed = {}
  for entry in os.scandir(folder):
    match = pattern.fullmatch(entry.name)
    if match:
      indexed[int(match.group(1))] = entry.path
  return indexed


def imagenette_files(data_dir: str, split: str) -> list[str]:
  """Image paths of an ImageNette split, sorted by class then file name.

  Args:
    data_dir: folder holding `imagenette2-320/`.
    split: "train" or "test" (the `val` folder).

  Returns:
    A non-empty list of paths.

  Raises:
    DatasetNotFoundError: the split folder is missing or has no images.
  """
  _check_split("imagenette", split, tuple(IMAGENETTE_SPLITS))
  folder = _existing(
      "imagenette",
      os.path.join(data_dir, IMAGENETTE_FOLDER, IMAGENETTE_SPLITS[split]),
      IMAGENETTE_LAYOUT, data_dir)
  files = []
  for class_name in sorted(os.listdir(folder)):
    class_folder = os.path.join(folder, class_name)
    if os.path.isdir(class_folder):
      files += [
          os.path.join(class_folder, f) for f in _image_files(class_folder)
      ]
  if not files:
    raise _not_found("imagenette", "no images in class subfolders of", folder,
                     IMAGENETTE_LAYOUT, data_dir)
  return files


def celeba_files(data_dir: str, split: str) -> list[str]:
  """Paths of the CelebA images present in a split's official index range.

  Args:
    data_dir: folder holding `img_align_celeba/`.
    split: "train" (1-162,770), "val" (162,771-182,637) or "test"
      (182,638-202,599, the 19,962 images the papers evaluate on).

  Returns:
    A non-empty list of paths in index order. Files absent from the folder are
    absent from the split.

  Raises:
    DatasetNotFoundError: the folder is missing, holds no `<digits>.jpg`
      files, or has none in the split's range.
  """
  _check_split("celeba", split, tuple(CELEBA_SPLITS))
  folder = _existing("celeba", os.path.join(data_dir, CELEBA_FOLDER),
                     CELEBA_LAYOUT, data_dir)
  indexed = _indexed_files(folder, ".jpg")
  if not indexed:
    raise _not_found("celeba", "no <index>.jpg files in", folder, CELEBA_LAYOUT,
                     data_dir)
  low, high = CELEBA_SPLITS[split]
  files = [path for i, path in sorted(indexed.items()) if low <= i <= high]
  if not files:
    raise _not_found("celeba",
                     f"split {split!r} (indices {low}-{high}) is empty in",
                     folder, CELEBA_LAYOUT, data_dir)
  return files


def _read_list(list_file):
  with open(list_file) as f:
    # Lines may carry the folders of the nested FFHQ release; ours is flat.
    return [os.path.basename(line.strip()) for line in f if line.strip()]


def ffhq_files(data_dir: str, split: str, train_list: str | None = None,
               test_list: str | None = None) -> list[str]:
  """Paths of an FFHQ split.

  By default files 00000-59999 are `train` and 60000-69999 are `test`, a
  60,000 / 10,000 split by file name. The official code instead reads the
  taming-transformers lists `ffhqtrain.txt` / `ffhqvalidation.txt`, which
  look like a shuffled partition (copies of `ffhqtrain.txt` list names such
  as 67376.png), so the by-name split only matches them in size. Pass the
  lists as `train_list` / `test_list` to reproduce the official split.

  Args:
    data_dir: folder holding `ffhq/`.
    split: "train" or "test".
    train_list: optional text file of file names, one a line, for "train".
    test_list: the same for "test".

  Returns:
    A non-empty list of paths: in index order, or in the list's order.

  Raises:
    DatasetNotFoundError: the folder is missing or malformed, the split is
      empty, or a listed file is missing.
  """
  _check_split("ffhq", split, FFHQ_SPLITS)
  folder = _existing("ffhq", os.path.join(data_dir, FFHQ_FOLDER), FFHQ_LAYOUT,
                     data_dir)
  list_file = train_list if split == "train" else test_list
  if list_file:
    names = _read_list(list_file)
    present = set(os.listdir(folder))
    missing = [name for name in names if name not in present]
    if missing:
      raise _not_found(
          "ffhq",
          f"{len(missing)} files of {list_file} (e.g. {missing[0]}) are not in",
          folder, FFHQ_LAYOUT, data_dir)
    files = [os.path.join(folder, name) for name in names]
  else:
    indexed = _indexed_files(folder, ".png")
    if not indexed:
      raise _not_found("ffhq", "no <index>.png files in", folder, FFHQ_LAYOUT,
                       data_dir)
    in_train = split == "train"
    files = [
        path for i, path in sorted(indexed.items())
        if (i < FFHQ_NUM_TRAIN) == in_train
    ]
  if not files:
    raise _not_found("ffhq", f"split {split!r} is empty in", folder,
                     FFHQ_LAYOUT, data_dir)
  return files


# ----------------------------------------------------------------------------
# Transforms and makers. Transforms are partials of module-level functions so
# grain can pickle them into worker processes.

# The unreadable files skipped so far by this process (skip_bad_files).
_skipped = set()
_skipped_lock = threading.Lock()


def _skip(path, error):
  with _skipped_lock:
    if path in _skipped:
      return
    _skipped.add(path)
    count = len(_skipped)
  logging.warning("Skipped unreadable image %s (%s); %d skipped so far.", path,
                  error, count)


def read_file(path, files, skip_bad_files=False):
  """`preprocess.load_image(path)` that names an unreadable file of the
  list `files`.

  Args:
    path: one of `files`.
    files: the split's paths (a file's index there is in the message).
    skip_bad_files: read the next readable file of `files` instead of an
      unreadable one (each skip is logged once, with a count).

  Raises:
    UnreadableFileError: PIL cannot decode `path` (and skip_bad_files is
      False), or no file of `files` is readable.
  """
  index = None
  for _ in range(len(files)):
    try:
      return preprocess.load_image(path)
    # PIL's errors for a damaged file: OSError ("image file is truncated",
    # UnidentifiedImageError), SyntaxError and ValueError from its parsers.
    except (OSError, SyntaxError, ValueError) as e:
      index = files.index(path) if index is None else index
      if not skip_bad_files:
        raise UnreadableFileError(
            f"Unreadable image {path} (index {index} of the {len(files)} "
            f"files of its split): {e}; replace or delete it, or pass "
            "--config.input.skip_bad_files=True to skip unreadable files."
        ) from e
      _skip(path, e)
      index = (index + 1) % len(files)
      path = files[index]
  raise UnreadableFileError(
      f"No readable image among the {len(files)} files of the split of "
      f"{files[0]}.")


def _transform_file(path, rng, *, files, image_size, augment, skip_bad_files):
  img = read_file(path, files, skip_bad_files)
  if augment:
    return {"image": preprocess.crop_flip_preprocess(img, image_size, rng)}
  return {"image": preprocess.eval_preprocess(img, image_size)}


def _make_folder(files, image_size, augment, skip_bad_files):
  transform = functools.partial(_transform_file, files=files,
                                image_size=image_size, augment=augment,
                                skip_bad_files=skip_bad_files)
  return grain.MapDataset.source(files), transform


def make_imagenette(*, split, train, image_size, data_dir=None,
                    skip_bad_files=False):
  """ImageNette 320px (`imagenette2-320.tgz`), as in the official code.

  train=True takes `RandomCrop(image_size)` from the 320-px-short-side image
  WITHOUT resizing, then a random horizontal flip; train=False resizes the
  short side to `image_size` and centre-crops. The two scales differ (zoomed
  crops versus whole downscaled images): an official quirk, kept on purpose.

  Args:
    split: "train" or "test" (the `val` folder).
    train: random augmentation (True) or deterministic eval preprocessing.
    image_size: side R of the square outputs.
    data_dir: folder holding `imagenette2-320/`; default `DEFAULT_DATA_DIR`.
    skip_bad_files: replace an unreadable file by the next readable one
      (logged) instead of failing with its name.

  Returns:
    (source of file paths, transform) as in `ginr_jax.datasets.make`.
  """
  files = imagenette_files(data_dir or DEFAULT_DATA_DIR, split)
  return _make_folder(files, image_size, train, skip_bad_files)


def make_celeba(*, split, train, image_size, data_dir=None,
                skip_bad_files=False):
  """Aligned CelebA: `Resize(R)` + `CenterCrop(R)`, never augmented.

  Args:
    split: "train", "val" or "test" (the official evaluation split).
    train: ignored; the official code does not augment CelebA.
    image_size: side R of the square outputs.
    data_dir: folder holding `img_align_celeba/`; default `DEFAULT_DATA_DIR`.
    skip_bad_files: as `make_imagenette`.

  Returns:
    (source of file paths, transform) as in `ginr_jax.datasets.make`.
  """
  del train  # Same preprocessing for training and evaluation.
  files = celeba_files(data_dir or DEFAULT_DATA_DIR, split)
  return _make_folder(files, image_size, False, skip_bad_files)


def make_ffhq(*, split, train, image_size, data_dir=None, train_list=None,
              test_list=None, skip_bad_files=False):
  """FFHQ 1024px PNGs: `Resize(R)` + `CenterCrop(R)`, never augmented.

  Args:
    split: "train" or "test" (the validation split).
    train: ignored; the official code does not augment FFHQ.
    image_size: side R of the square outputs (178, 256, 512, 1024 in the
      official configs).
    data_dir: folder holding `ffhq/`; default `DEFAULT_DATA_DIR`.
    train_list: optional file-name list overriding the "train" split.
    test_list: optional file-name list overriding the "test" split.
    skip_bad_files: as `make_imagenette`.

  Returns:
    (source of file paths, transform) as in `ginr_jax.datasets.make`.
  """
  del train  # Same preprocessing for training and evaluation.
  files = ffhq_files(data_dir or DEFAULT_DATA_DIR, split, train_list, test_list)
  return _make_folder(files, image_size, False, skip_bad_files)


def _transform_tfds(example, rng, *, image_key, image_size, augment):
  img = preprocess.to_pil(example[image_key])
  if not augment:
    return {"image": preprocess.eval_preprocess(img, image_size)}
  if min(img.size) >= image_size:
    return {"image": preprocess.crop_flip_preprocess(img, image_size, rng)}
  # Too small for a full-resolution crop: take the whole (resized) image.
  return {
      "image": preprocess.random_flip(
          preprocess.eval_preprocess(img, image_size), rng)
  }


def make_tfds(*, split, train, image_size, data_dir=None, tfds_name,
              tfds_train_split="train", tfds_test_split=None,
              image_key="image"):
  """A prepared TFDS image dataset, read TF-free with `tfds.data_source`.

  Preprocessing: train=True takes a random full-resolution crop and flip when
  the image is at least `image_size` on its short side (the ImageNette
  recipe), else resizes + centre-crops and flips; train=False resizes the
  short side and centre-crops.

  Args:
    split: "train" or "test".
    train: random augmentation (True) or deterministic eval preprocessing.
    image_size: side R of the square outputs.
    data_dir: the TFDS data_dir; None for TFDS's default.
    tfds_name: e.g. "imagenette/320px-v2" or "celeb_a".
    tfds_train_split: the TFDS split read for split="train".
    tfds_test_split: the TFDS split read for split="test"; None picks "test"
      when the dataset has one (CelebA), else "validation" (ImageNette).
    image_key: feature holding the uint8 image (H, W, C), C in {1, 3, 4}.

  Returns:
    (source of decoded examples, transform) as in `ginr_jax.datasets.make`.

  Raises:
    DatasetNotFoundError: the dataset is not prepared in array_record format,
      or the split is empty.
  """
  _check_split("tfds", split, ("train", "test"))
  builder = tfds.builder(tfds_name, data_dir=data_dir or None)
  if tfds_test_split is None:
    tfds_test_split = "test" if "test" in builder.info.splits else "validation"
  tfds_split = tfds_train_split if split == "train" else tfds_test_split
  if image_key not in builder.info.features:
    raise ValueError(f"{tfds_name} has no feature {image_key!r}; features: "
                     f"{', '.join(builder.info.features)}.")
  how = (
      f"to prepare it, run (with TensorFlow installed, e.g. in another venv): "
      f"tfds build {tfds_name} --data_dir={builder.data_dir_root} "
      f"--file_format=array_record")
  try:
    data_source = builder.as_data_source(split=tfds_split)
  # tfds reports a missing, unconverted or split-less dataset in all of these.
  except (NotImplementedError, ValueError, KeyError, FileNotFoundError) as e:
    # For a missing dataset tfds blames the TFRECORD format; say what it is.
    problem = e if builder.is_prepared() else "the dataset is not prepared"
    raise DatasetNotFoundError(
        f"tfds: cannot read {tfds_name} split {tfds_split!r} from "
        f"{builder.data_dir}: {problem}\n  {how}") from e
  if not len(data_source):
    raise DatasetNotFoundError(
        f"tfds: {tfds_name} split {tfds_split!r} in {builder.data_dir} is "
        f"empty.\n  {how}")
  transform = functools.partial(_transform_tfds, image_key=image_key,
                                image_size=image_size, augment=train)
  return grain.MapDataset.source(data_source), transform
