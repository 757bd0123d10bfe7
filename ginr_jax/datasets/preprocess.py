"""Image preprocessing: numpy/PIL ops written to match the official ginr-ipc
PyTorch pipelines (`src/datasets/{mydatasets,transforms}.py`, which use
torchvision `Resize`, `CenterCrop`, `RandomCrop`, `RandomHorizontalFlip` and
`ToTensor` on PIL images).

Images are PIL images or uint8 arrays (H, W, 3); the preprocessed outputs
are float32 (R, R, 3) in [0, 1], RGB with no mean/std normalisation, as
`ToTensor()` gives in the official code.
"""

import numpy as np
from PIL import Image


def load_image(path: str) -> Image.Image:
  """Decodes an image file as 8-bit RGB.

  Grey, palette and CMYK images are converted; RGBA drops its alpha channel
  (torchvision's `default_loader` does the same).

  Args:
    path: an image file PIL can read.

  Returns:
    An RGB PIL image.
  """
  with Image.open(path) as img:
    return img.convert("RGB")


def to_pil(image: np.ndarray) -> Image.Image:
  """Converts a uint8 array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) to RGB."""
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  return Image.fromarray(image).convert("RGB")


def resize_short_side(img: Image.Image, size: int) -> Image.Image:
  """Resizes so the short side is `size`, like torchvision `Resize(size)`.

  PIL's bilinear filter widens its support when it downscales, so this is the
  antialiased resize torchvision applies to PIL images. The long side is
  truncated to an int, as torchvision computes it.

  Args:
    img: a PIL image of size (W, H).
    size: the new short side.

  Returns:
    The resized PIL image.
  """
  w, h = img.size
  if w <= h:
    new_size = (size, int(size * h / w))
  else:
    new_size = (int(size * w / h), size)
  return img.resize(new_size, Image.Resampling.BILINEAR)


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
  """Crops the centre `size` x `size` window, like torchvision `CenterCrop`.

  Args:
    image: array (H, W, C) with H, W >= size.
    size: side of the crop.

  Returns:
    Array (size, size, C). Offsets are round((H - size) / 2) with Python's
    round-half-to-even, which is what torchvision uses.
  """
  h, w = image.shape[:2]
  top = round((h - size) / 2)
  left = round((w - size) / 2)
  return image[top:top + size, left:left + size]


def pad_to_size(image: np.ndarray, size: int) -> np.ndarray:
  """Zero-pads (H, W, C) evenly on both sides so that H, W >= size."""
  h, w = image.shape[:2]
  pad_h, pad_w = max(size - h, 0), max(size - w, 0)
  if not pad_h and not pad_w:
    return image
  return np.pad(image, ((pad_h // 2, pad_h - pad_h // 2),
                        (pad_w // 2, pad_w - pad_w // 2), (0, 0)))


def random_crop(image: np.ndarray, size: int,
                rng: np.random.Generator) -> np.ndarray:
  """A uniformly placed `size` x `size` window, like torchvision `RandomCrop`.

  torchvision raises when the image is smaller than the crop; we zero-pad it
  (black borders, centred) first instead.

  Args:
    image: array (H, W, C).
    size: side of the crop.
    rng: numpy random generator.

  Returns:
    Array (size, size, C).
  """
  image = pad_to_size(image, size)
  h, w = image.shape[:2]
  top = rng.integers(h - size + 1)
  left = rng.integers(w - size + 1)
  return image[top:top + size, left:left + size]


def random_flip(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
  """Mirrors (H, W, C) left-right with probability 0.5."""
  return image[:, ::-1] if rng.random() < 0.5 else image


def to_unit_float(image: np.ndarray) -> np.ndarray:
  """uint8 (H, W, C) -> float32 in [0, 1], like torchvision `ToTensor`."""
  return np.asarray(image, np.float32) / np.float32(255)


def eval_preprocess(img: Image.Image, size: int) -> np.ndarray:
  """`Resize(size)` + `CenterCrop(size)` + `ToTensor`.

  Args:
    img: an RGB PIL image.
    size: side of the output.

  Returns:
    float32 (size, size, 3) in [0, 1].
  """
  resized = np.asarray(resize_short_side(img, size))
  return to_unit_float(center_crop(resized, size))


def crop_flip_preprocess(img: Image.Image, size: int,
                         rng: np.random.Generator) -> np.ndarray:
  """Full-resolution `RandomCrop(size)` + `RandomHorizontalFlip` + `ToTensor`.

  Args:
    img: an RGB PIL image.
    size: side of the crop.
    rng: numpy random generator.

  Returns:
    float32 (size, size, 3) in [0, 1].
  """
  crop = random_crop(np.asarray(img), size, rng)
  return to_unit_float(random_flip(crop, rng))
