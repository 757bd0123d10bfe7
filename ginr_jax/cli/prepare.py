r"""Downloads ImageNette; explains and checks the manual CelebA/FFHQ steps;
writes generated scenes and the embedded photos as files.

This program owns getting the folder datasets onto disk:

  python -m ginr_jax.cli.prepare imagenette --data_dir=DATA
  python -m ginr_jax.cli.prepare celeba --data_dir=DATA
  python -m ginr_jax.cli.prepare ffhq --data_dir=DATA
  python -m ginr_jax.cli.prepare scenes --data_dir=DATA
  python -m ginr_jax.cli.prepare photos --data_dir=DATA
  python -m ginr_jax.cli.prepare imagenette_like --data_dir=DATA
  python -m ginr_jax.cli.prepare ffhq_like --data_dir=DATA

`scenes` writes generated objects (`scenes.py`) in learnit's ShapeNet layout
for cars, chairs and lamps, refusing to touch a category that exists.
`photos` writes random crops of the photographs that ship with scikit-image
(`embedded.py`) as PNG files, a folder of images for `configs/folder.py`
split by source photo: DATA/{train,test}/<photo>/<i>.png.
`imagenette_like` and `ffhq_like` write a few hundred files of the real
datasets' layout, size and format made of the same photos (`write_lookalike`),
to time the real decoding without the download (`cli/benchmark_input.py`).

`imagenette` streams imagenette2-320.tgz (about 330 MB) to a temporary file
inside DATA, extracts it there, moves `imagenette2-320/` into place and checks
the layout. CelebA and FFHQ sit behind accounts and Google Drive quotas, so
for them the program prints the manual steps and checks the layout when it is
present. Every run ends by printing the number of images per split; the exit
status is non-zero when the dataset is not ready.
"""

import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request

from absl import app
from absl import flags
import numpy as np
from PIL import Image

from ginr_jax import cli
from ginr_jax.datasets import embedded
from ginr_jax.datasets import images
from ginr_jax.datasets import preprocess
from ginr_jax.datasets import scenes
from ginr_jax.datasets import shapenet

_DATA_DIR = flags.DEFINE_string("data_dir", images.DEFAULT_DATA_DIR,
                                "Root folder of the datasets.")

IMAGENETTE_URL = (
    "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-320.tgz")

SPLITS = {
    "imagenette": tuple(images.IMAGENETTE_SPLITS),
    "celeba": tuple(images.CELEBA_SPLITS), "ffhq": images.FFHQ_SPLITS
}
_FILES = {
    "imagenette": images.imagenette_files, "celeba": images.celeba_files,
    "ffhq": images.ffhq_files
}

CELEBA_STEPS = """\
CelebA (202,599 aligned 178x218 JPEGs, 1.4 GB) must be downloaded by hand:
  1. Download img_align_celeba.zip ("Align&Cropped Images") from
     https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Google Drive), or
     the Kaggle copy jessicali9530/celeba-dataset.
  2. Unzip it so that the images are {data_dir}/img_align_celeba/000001.jpg
     ... 202599.jpg. The Kaggle archive nests img_align_celeba/ twice: move
     the inner folder up.
Splits follow the official index ranges: train 1-162770, val 162771-182637,
test 182638-202599 (the one evaluated).
"""

FFHQ_STEPS = """\
FFHQ (70,000 1024x1024 PNGs, 89 GB) must be downloaded by hand:
  1. Follow https://github.com/NVlabs/ffhq-dataset: `python download_ffhq.py
     --images` gives images1024x1024/<thousands>/<NNNNN>.png.
  2. Flatten it into {data_dir}/ffhq/:
       mkdir -p {data_dir}/ffhq
       find images1024x1024 -name '*.png' -exec mv -t {data_dir}/ffhq {{}} +
By default files 00000-59999 are train and 60000-69999 test. The official
split is the taming-transformers lists data/ffhqtrain.txt and
data/ffhqvalidation.txt (a shuffled 60,000 / 10,000 partition); to use it,
pass their paths as train_list= / test_list= to the ffhq dataset.
"""


def validate(name: str, data_dir: str) -> dict[str, int]:
  """Checks a folder dataset's layout.

  Args:
    name: "imagenette", "celeba" or "ffhq".
    data_dir: root folder of the datasets.

  Returns:
    {split: number of images}.

  Raises:
    DatasetNotFoundError: the layout is missing or malformed, or a split is
      empty; the message says where it looked and what it expected.
  """
  return {split: len(_FILES[name](data_dir, split)) for split in SPLITS[name]}


def download(url: str, path: str, chunk_bytes: int = 1 << 20) -> None:
  """Streams `url` to the file `path`, printing progress.

  Args:
    url: what to fetch.
    path: where to write it.
    chunk_bytes: read size.

  Raises:
    OSError: the transfer failed or ended short of the announced size.
  """
  with (urllib.request.urlopen(url, timeout=60) as response, open(path, "wb") as
        f):
    total = int(response.headers.get("Content-Length") or 0)
    done, shown = 0, -1
    while chunk := response.read(chunk_bytes):
      f.write(chunk)
      done += len(chunk)
      # One line per 5% (or per 64 chunks when the size is unknown).
      step = done * 20 // total if total else done // (64 * chunk_bytes)
      if step != shown:
        shown = step
        progress = f"{done / 1e6:.0f} MB"
        if total:
          progress += f" of {total / 1e6:.0f} MB ({100 * done // total}%)"
        print("  " + progress, flush=True)
  if total and done != total:
    raise OSError(f"{url}: got {done} of {total} bytes.")


def prepare_imagenette(data_dir: str, url: str = IMAGENETTE_URL):
  """Downloads and extracts ImageNette into `data_dir/imagenette2-320`.

  Does nothing when a valid copy is already there.

  Args:
    data_dir: root folder of the datasets; created if needed.
    url: where to fetch imagenette2-320.tgz.

  Returns:
    {split: number of images}.

  Raises:
    DatasetNotFoundError: a malformed copy is in the way, or the archive did
      not hold the expected layout.
  """
  target = os.path.join(data_dir, images.IMAGENETTE_FOLDER)
  if os.path.exists(target):
    # A malformed copy raises here: we do not delete the user's files.
    counts = validate("imagenette", data_dir)
    print(f"{target} is already prepared.")
    return counts
  os.makedirs(data_dir, exist_ok=True)
  # Working inside data_dir keeps the final move on one file system, so the
  # target appears complete or not at all.
  with tempfile.TemporaryDirectory(dir=data_dir, prefix=".prepare-") as tmp:
    archive = os.path.join(tmp, os.path.basename(url))
    print(f"Downloading {url}", flush=True)
    download(url, archive)
    print(f"Extracting {archive}", flush=True)
    with tarfile.open(archive) as tar:
      tar.extractall(tmp, filter="data")
    extracted = os.path.join(tmp, images.IMAGENETTE_FOLDER)
    validate("imagenette", tmp)
    shutil.move(extracted, target)
  return validate("imagenette", data_dir)


def prepare_scenes(data_dir: str) -> dict[str, int]:
  """Generated objects for every ShapeNet category; objects per category."""
  for category in shapenet.CATEGORIES:  # check all before writing any
    path = shapenet.splits_file(data_dir, category)
    if os.path.exists(path):
      raise cli.ExistsError(
          f"{path} exists; generate scenes into another --data_dir.")
  counts = {}
  for seed, category in enumerate(shapenet.CATEGORIES):
    folder = scenes.generate(data_dir, category, seed=seed)
    counts[category] = len(os.listdir(folder))
  return counts


# Crops per photo of each split: 7 x 250 train and 2 x 125 test images.
PHOTO_CROPS = {"train": 250, "test": 125}


def prepare_photos(data_dir: str, crops: dict[str, int] = PHOTO_CROPS,
                   short_side: int = 256, crop_sides: tuple[int,
                                                            int] = (64, 192),
                   seed: int = 0) -> dict[str, int]:
  """The embedded photos as folders of random crops; images per split.

  Each photo is downscaled to a `short_side` (`embedded.photo`); each of
  its `crops[split]` crops is a uniformly placed window with a height and
  width drawn in `crop_sides`, so that resizing them to one size gives
  several scales.

  Raises:
    cli.ExistsError: `data_dir` exists and is not empty.
  """
  if os.path.isdir(data_dir) and os.listdir(data_dir):
    raise cli.ExistsError(
        f"{data_dir} is not empty; write the photos into another --data_dir.")
  rng = np.random.default_rng(seed)
  for split, names in embedded.PHOTOS.items():
    for name in names:
      photo = embedded.photo(name, short_side)
      folder = os.path.join(data_dir, split, name)
      os.makedirs(folder)
      for i in range(crops[split]):
        h, w = rng.integers(crop_sides[0], crop_sides[1] + 1, size=2)
        top = rng.integers(photo.shape[0] - h + 1)
        left = rng.integers(photo.shape[1] - w + 1)
        Image.fromarray(photo[top:top + h, left:left + w]).save(
            os.path.join(folder, f"{i:04d}.png"))
  return {
      split: len(names) * crops[split]
      for split, names in embedded.PHOTOS.items()
  }


# The ten ImageNette classes (WordNet ids), as the class folders are named.
IMAGENETTE_CLASSES = ("n01440764", "n02102040", "n02979186", "n03000684",
                      "n03028079", "n03394916", "n03417042", "n03425413",
                      "n03445777", "n03888605")
# Images per split of the look-alike datasets.
LOOKALIKE_COUNTS = {
    "imagenette": {"train": 200, "test": 50}, "ffhq": {"train": 120, "test": 8}
}
# Aspect ratios (width / height) of the look-alike ImageNette images and their
# shares: ImageNet's photos are mostly 4:3 landscape.
_ASPECTS = ((4 / 3, 0.6), (3 / 4, 0.2), (1.0, 0.1), (3 / 2, 0.1))
# Grey noise (std, in 8-bit levels) on the upscaled FFHQ look-alikes: real
# photo grain that brings the PNGs to FFHQ's ~1.3 MB (89 GB / 70,000) from
# the ~1.0 MB the smooth upscaled photos compress to.
_FFHQ_NOISE = 1.0


def _imagenette_like(photo, rng):
  """A random window of `photo` resized to a 320-pixel short side."""
  aspect = _ASPECTS[rng.choice(len(_ASPECTS), p=[p for _, p in _ASPECTS])][0]
  h, w = photo.shape[:2]
  scale = rng.uniform(0.6, 1.0)
  crop_h = int(scale * min(h, w / aspect))
  crop_w = int(crop_h * aspect)
  top = rng.integers(h - crop_h + 1)
  left = rng.integers(w - crop_w + 1)
  window = Image.fromarray(photo[top:top + crop_h, left:left + crop_w])
  return preprocess.resize_short_side(window, 320)


def _ffhq_like(photo, rng):
  """A random 1024 x 1024 window of `photo` with grain."""
  h, w = photo.shape[:2]
  top = rng.integers(h - 1024 + 1)
  left = rng.integers(w - 1024 + 1)
  window = photo[top:top + 1024, left:left + 1024]
  grain = rng.normal(0.0, _FFHQ_NOISE, window.shape)
  return Image.fromarray(np.clip(window + grain, 0, 255).astype(np.uint8))


def write_lookalike(name: str, data_dir: str,
                    counts: dict[str, int] | None = None,
                    seed: int = 0) -> dict[str, int]:
  """ImageNette or FFHQ files in the real layout, size and format, made of
  random windows of the embedded photos; images per split.

  "imagenette": imagenette2-320/{train,val}/<class>/<class>_<i>.JPEG, a
  320-pixel short side (mostly 4:3), JPEG quality 90 (~32 KB; the real
  ones average ~24 KB). "ffhq": ffhq/<index>.png, 1024 x 1024 PNGs at
  PIL's default compression (~1.4 MB), train from 00000 and test from
  60000 as the default split. Decoding and preprocessing them costs what
  the real files cost; their content is not the real datasets'.

  Raises:
    cli.ExistsError: the dataset's folder exists under `data_dir`.
  """
  counts = counts or LOOKALIKE_COUNTS[name]
  folder = os.path.join(
      data_dir,
      images.IMAGENETTE_FOLDER if name == "imagenette" else images.FFHQ_FOLDER)
  if os.path.exists(folder):
    raise cli.ExistsError(
        f"{folder} exists; write the {name} look-alike into another "
        "--data_dir.")
  rng = np.random.default_rng(seed)
  names = [n for split in embedded.PHOTOS.values() for n in split]
  for split, count in counts.items():
    for i in range(count):
      photo_name = names[rng.integers(len(names))]
      if name == "imagenette":
        cls = IMAGENETTE_CLASSES[i % len(IMAGENETTE_CLASSES)]
        path = os.path.join(folder, images.IMAGENETTE_SPLITS[split], cls,
                            f"{cls}_{i}.JPEG")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _imagenette_like(embedded.photo(photo_name, 480),
                         rng).save(path, quality=90)
      else:
        index = i + (0 if split == "train" else images.FFHQ_NUM_TRAIN)
        os.makedirs(folder, exist_ok=True)
        _ffhq_like(embedded.photo(photo_name, 1024),
                   rng).save(os.path.join(folder, f"{index:05d}.png"))
  return validate(name, data_dir)


_GENERATED = ("scenes", "photos", "imagenette_like", "ffhq_like")


def main(argv):
  if len(argv) != 2 or argv[1] not in (*SPLITS, *_GENERATED):
    raise app.UsageError(
        "usage: python -m ginr_jax.cli.prepare "
        f"{{{','.join((*SPLITS, *_GENERATED))}}} --data_dir=DIR")
  name, data_dir = argv[1], _DATA_DIR.value
  if name == "photos":
    counts = prepare_photos(data_dir)
    print(f"wrote photo crops to {os.path.abspath(data_dir)}: " + ", ".join(
        f"{split} {count} images" for split, count in counts.items()))
    return 0
  if name.endswith("_like"):
    dataset = name[:-len("_like")]
    counts = write_lookalike(dataset, data_dir)
    print(f"wrote {dataset} look-alike files to {os.path.abspath(data_dir)}: " +
          ", ".join(
              f"{split} {count} images" for split, count in counts.items()))
    return 0
  if name == "scenes":
    counts = prepare_scenes(data_dir)
    print(f"generated scenes in {os.path.abspath(data_dir)}: " + ", ".join(
        f"{category} {count} objects" for category, count in counts.items()))
    return 0
  try:
    if name == "imagenette":
      counts = prepare_imagenette(data_dir)
    else:
      steps = CELEBA_STEPS if name == "celeba" else FFHQ_STEPS
      print(steps.format(data_dir=data_dir))
      counts = validate(name, data_dir)
  except images.DatasetNotFoundError as e:
    print(f"{name} is not ready: {e}", file=sys.stderr)
    return 1
  print(f"{name} in {os.path.abspath(data_dir)}: " +
        ", ".join(f"{split} {count} images" for split, count in counts.items()))
  return 0


if __name__ == "__main__":
  cli.run(main)
