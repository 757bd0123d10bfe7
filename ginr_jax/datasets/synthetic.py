"""Synthetic images: smooth random colour fields generated on the fly.

This file owns the dataset behind every `:tiny` config and most tests. It
needs no files and is fast: each example is a sum of a few random
low-frequency sinusoids per colour channel, seeded by (split, index), so it is
a fixed function of its index at any resolution, and train and test differ.
"""

import functools

import grain
import numpy as np

SPLITS = ("train", "test")
DEFAULT_NUM_EXAMPLES = {"train": 64, "test": 16}
NUM_WAVES = 4  # Sinusoids per channel.
MAX_FREQUENCY = 1.5  # Cycles per image side: smooth at any resolution.


def smooth_image(seed: tuple[int, ...], image_size: int) -> np.ndarray:
  """A smooth random colour image.

  Args:
    seed: entropy for `np.random.default_rng`, e.g. (split id, index).
    image_size: side R of the image.

  Returns:
    float32 (R, R, 3) in [0, 1]. The same seed gives the same continuous
    field sampled at pixel centres, whatever R is.
  """
  rng = np.random.default_rng(seed)
  freq = rng.uniform(-MAX_FREQUENCY, MAX_FREQUENCY, (3, NUM_WAVES, 2))
  phase = rng.uniform(0, 2 * np.pi, (3, NUM_WAVES))
  amp = rng.uniform(0.2, 1.0, (3, NUM_WAVES))
  y = (np.arange(image_size) + 0.5) / image_size
  # [3, K, R, R]: one wave per channel and component.
  angle = (
      2 * np.pi *
      (freq[..., 0, None, None] * y[:, None] + freq[..., 1, None, None] * y) +
      phase[..., None, None])
  waves = np.einsum("ck,ckhw->hwc", amp, np.sin(angle))
  # Dividing by the total amplitude keeps every value inside [0, 1].
  image = 0.5 + 0.5 * waves / amp.sum(axis=1)
  return np.clip(image, 0, 1).astype(np.float32)


def _transform(index, rng, *, split_id, image_size):
  del rng  # Content depends on the index only; there is no augmentation.
  return {"image": smooth_image((split_id, int(index)), image_size)}


def make(*, split, train, image_size, data_dir=None, num_examples=None):
  """The synthetic dataset.

  Args:
    split: "train" or "test"; they hold different images.
    train: ignored; examples are never augmented, so a transform ignores its
      rng and every epoch sees the same images.
    image_size: side R of the square outputs.
    data_dir: ignored (nothing is read from disk).
    num_examples: dataset length; default 64 for train and 16 for test.

  Returns:
    (source of indices, transform) as in `ginr_jax.datasets.make`.
  """
  del train, data_dir  # See the docstring.
  if split not in SPLITS:
    raise ValueError(
        f"synthetic: unknown split {split!r}; valid splits: {', '.join(SPLITS)}."
    )
  if num_examples is None:
    num_examples = DEFAULT_NUM_EXAMPLES[split]
  if num_examples < 1:
    raise ValueError(f"synthetic: num_examples={num_examples} must be >= 1.")
  transform = functools.partial(_transform, split_id=SPLITS.index(split),
                                image_size=image_size)
  return grain.MapDataset.range(num_examples), transform
