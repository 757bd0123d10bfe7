"""Image files for the dataset tests, and checks of preprocessed images
(datasets_test, preprocess_test; the folders: conftest.py)."""

import os

import numpy as np
from PIL import Image

from ginr_jax import datasets


def write_image(path, height, width, mode="RGB", seed=0):
  """Writes a random image file and returns it decoded as uint8 RGB."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
  pixels = np.random.default_rng(seed).integers(0, 256,
                                                (height, width, channels),
                                                np.uint8)
  Image.fromarray(pixels.squeeze(-1) if mode == "L" else pixels,
                  mode).save(path)
  return np.asarray(Image.open(path).convert("RGB"))


def make_imagenette(data_dir, split="train", train=True, image_size=32):
  """`datasets.make("imagenette", ...)` of the folder under `data_dir`."""
  return datasets.make("imagenette", split=split, train=train,
                       image_size=image_size, data_dir=data_dir)


def run(transform, element, seed=0):
  """The image of `transform(element)` with a seeded numpy rng."""
  return transform(element, np.random.default_rng(seed))["image"]


def check_image(image, size):
  """Asserts a float32 (size, size, 3) image in [0, 1]."""
  assert image.shape == (size, size, 3)
  assert image.dtype == np.float32
  assert 0 <= image.min() and image.max() <= 1


def is_window(image, full):
  """Whether float `image` (R, R, 3) equals a window of uint8 `full`."""
  r = image.shape[0]
  windows = np.lib.stride_tricks.sliding_window_view(full, (r, r), (0, 1))
  target = np.round(image * 255).astype(np.uint8).transpose(2, 0, 1)
  return bool(np.all(windows == target, axis=(-3, -2, -1)).any())


def expected_eval(full, size):
  """Resize(size) + CenterCrop(size) computed independently, as float32."""
  h, w = full.shape[:2]
  scale = size / min(h, w)
  new_h, new_w = (size, int(w * scale)) if h <= w else (int(h * scale), size)
  resized = np.asarray(
      Image.fromarray(full).resize((new_w, new_h), Image.BILINEAR))
  top, left = round((new_h - size) / 2), round((new_w - size) / 2)
  return resized[top:top + size, left:left + size] / np.float32(255)
