"""Embedded demo data: crops of real photographs that ship with scikit-image.

This file owns a small real-image dataset that needs no download, for demos
and smoke runs on real content. The photos are split by source, so the test
set is unseen content:

  test:  chelsea (a cat) and coffee (a cup on wood);
  train: astronaut, rocket, hubble_deep_field, immunohistochemistry, retina and
         both views of stereo_motorcycle (one scene, so one split).

Licences, from the `skimage.data` docstrings: astronaut (NASA), rocket
(SpaceX) and hubble_deep_field (NASA) are public domain; chelsea, coffee and
retina are CC0; immunohistochemistry has "no known copyright restrictions";
stereo_motorcycle comes from the Middlebury 2014 stereo benchmark (no licence
stated; cite Scharstein et al., GCPR 2014).

Each photo is downscaled (antialiased) to a short side of `photo_short_side`
pixels and kept in memory. Training examples are random R x R crops with a
random flip; evaluation examples are a fixed grid of crops per photo.
"""

import functools
import itertools

import grain
import numpy as np
from skimage import data

from ginr_jax.datasets import preprocess

_LOADERS = {
    "astronaut": data.astronaut, "rocket": data.rocket,
    "hubble_deep_field": data.hubble_deep_field,
    "immunohistochemistry": data.immunohistochemistry, "retina": data.retina,
    "stereo_motorcycle_left": lambda: data.stereo_motorcycle()[0],
    "stereo_motorcycle_right": lambda: data.stereo_motorcycle()[1],
    "chelsea": data.chelsea, "coffee": data.coffee
}
PHOTOS = {
    "train":
        ("astronaut", "rocket", "hubble_deep_field", "immunohistochemistry",
         "retina", "stereo_motorcycle_left", "stereo_motorcycle_right"),
    "test": ("chelsea", "coffee")
}


@functools.lru_cache(maxsize=None)
def photo(name: str, short_side: int) -> np.ndarray:
  """A photo downscaled so its short side is `short_side`, cached.

  Args:
    name: a key of `_LOADERS` (listed in `PHOTOS`).
    short_side: the short side after the antialiased bilinear resize.

  Returns:
    Read-only uint8 array (H, W, 3), min(H, W) == short_side.
  """
  img = preprocess.resize_short_side(preprocess.to_pil(_LOADERS[name]()),
                                     short_side)
  array = np.asarray(img)
  array.setflags(write=False)  # Shared by every caller through the cache.
  return array


def grid_positions(height: int, width: int, size: int,
                   count: int) -> list[tuple[int, int]]:
  """`count` evenly spaced (top, left) offsets of size x size crops.

  The grid is rows x cols = count, with the factor pair whose shape best
  matches the photo's; the first and last rows and columns touch the edges.

  Args:
    height: photo height H >= size.
    width: photo width W >= size.
    size: crop side.
    count: number of crops.

  Returns:
    A row-major list of `count` (top, left) pairs.
  """
  aspect = (height - size + 1) / (width - size + 1)
  rows = min((r for r in range(1, count + 1) if count % r == 0),
             key=lambda r: abs(np.log(r * r / count / aspect)))
  tops = np.linspace(0, height - size, rows).round().astype(int)
  lefts = np.linspace(0, width - size, count // rows).round().astype(int)
  return [(int(t), int(l)) for t, l in itertools.product(tops, lefts)]


def _random_crop(index, rng, *, names, image_size, photo_short_side,
                 permute_channels):
  del index  # Each draw is fresh; its content comes from `rng` alone.
  photos = [photo(name, photo_short_side) for name in names]
  # Weighting photos by their number of crop positions makes every
  # (photo, position) pair equally likely.
  positions = np.array([(p.shape[0] - image_size + 1) *
                        (p.shape[1] - image_size + 1)
                        for p in photos], np.float64)
  chosen = photos[rng.choice(len(photos), p=positions / positions.sum())]
  crop = preprocess.random_flip(preprocess.random_crop(chosen, image_size, rng),
                                rng)
  if permute_channels:
    crop = crop[..., rng.permutation(3)]
  return {"image": preprocess.to_unit_float(crop)}


def _grid_crop(element, rng, *, image_size, photo_short_side):
  del rng  # Evaluation crops are fixed.
  name, top, left = element
  image = photo(name, photo_short_side)
  crop = image[top:top + image_size, left:left + image_size]
  return {"image": preprocess.to_unit_float(crop)}


def make(*, split, train, image_size, data_dir=None, photo_short_side=128,
         train_examples_per_epoch=1000, test_crops_per_photo=32,
         permute_channels=False):
  """The embedded photo-crop dataset.

  Args:
    split: "train" or "test"; they use disjoint photos (module docstring).
    train: True draws random crops: the source is a virtual epoch of
      `train_examples_per_epoch` draws, each a uniformly random (photo, crop
      position) pair of the split and a random flip. False gives the fixed
      grid of `test_crops_per_photo` crops per photo of the split.
    image_size: side R of the crops; at most `photo_short_side`.
    data_dir: ignored (the photos ship with scikit-image).
    photo_short_side: short side the photos are downscaled to. The default
      128 keeps a 32 x 32 crop a quarter of the photo's short side: a
      recognisable part with real detail.
    train_examples_per_epoch: length of the source when train=True.
    test_crops_per_photo: crops per photo when train=False.
    permute_channels: train=True also shuffles the RGB channels of each crop,
      multiplying the colours that seven training photos offer.

  Returns:
    (source, transform) as in `ginr_jax.datasets.make`. The source holds
    draw indices (train=True) or (photo name, top, left) tuples.
  """
  del data_dir  # See the docstring.
  if split not in PHOTOS:
    raise ValueError(
        f"embedded: unknown split {split!r}; valid splits: {', '.join(PHOTOS)}."
    )
  if image_size > photo_short_side:
    raise ValueError(
        f"embedded: image_size={image_size} exceeds photo_short_side="
        f"{photo_short_side}; pass photo_short_side >= image_size.")
  if min(train_examples_per_epoch, test_crops_per_photo) < 1:
    raise ValueError(
        "embedded: train_examples_per_epoch and test_crops_per_photo must be "
        ">= 1, or the split is empty.")
  names = PHOTOS[split]
  if train:
    transform = functools.partial(_random_crop, names=names,
                                  image_size=image_size,
                                  photo_short_side=photo_short_side,
                                  permute_channels=permute_channels)
    return grain.MapDataset.range(train_examples_per_epoch), transform
  crops = [
      (name, top, left)
      for name in names
      for top, left in grid_positions(*photo(name, photo_short_side).shape[:2],
                                      image_size, test_crops_per_photo)
  ]
  transform = functools.partial(_grid_crop, image_size=image_size,
                                photo_short_side=photo_short_side)
  return grain.MapDataset.source(crops), transform
