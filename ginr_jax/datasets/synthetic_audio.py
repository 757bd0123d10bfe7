"""Generated audio: chirps with harmonics, for `:tiny` audio configs, tests
and the audio demo.

Each clip is a fixed function of (split, index): a fundamental that glides
from f0 to f0 * glide over the clip, with three harmonics of decaying
amplitude under a smooth attack / decay envelope, peak 0.9 so that it lies
in [-1, 1] like LibriSpeech's raw waveform.
"""

import functools

import grain
import numpy as np

SAMPLE_RATE = 16_000
SPLITS = ("train", "test")


def num_samples(seconds: float) -> int:
  return int(round(seconds * SAMPLE_RATE))


def chirp(seed: tuple[int, ...], length: int) -> np.ndarray:
  """[length] float32 samples at 16 kHz in [-0.9, 0.9]."""
  rng = np.random.default_rng(seed)
  t = np.arange(length) / SAMPLE_RATE
  duration = length / SAMPLE_RATE
  f0 = rng.uniform(80.0, 400.0)
  glide = rng.uniform(0.5, 2.0)
  # Instantaneous frequency f0 * glide**(t / duration), integrated.
  rate = np.log(glide) / duration
  phase = (2 * np.pi * f0 *
           (np.expm1(rate * t) / rate if abs(rate) > 1e-9 else t))
  amps = rng.uniform(0.3, 1.0, 3) * np.array([1.0, 0.5, 0.25])
  wave = sum(a * np.sin((k + 1) * phase + rng.uniform(0, 2 * np.pi))
             for k, a in enumerate(amps))
  envelope = (1 - np.exp(-t / 0.01)) * np.exp(-t * rng.uniform(0.5, 3.0))
  clip = wave * envelope
  return (0.9 * clip / max(np.abs(clip).max(), 1e-9)).astype(np.float32)


def _transform(index, rng, *, split_id, length):
  del rng  # the clip depends on its index only
  return {"audio": chirp((split_id, int(index)), length)[:, None]}


def make(*, split, train, seconds: float, train_examples: int = 64,
         test_examples: int = 16, data_dir=None):
  """(grain.MapDataset of indices, transform -> {"audio": [T, 1]}); clips
  of `seconds`, different in the two splits."""
  del train, data_dir
  if split not in SPLITS:
    raise ValueError(f"synthetic_audio: unknown split {split!r}; valid "
                     f"splits: {', '.join(SPLITS)}.")
  n = train_examples if split == "train" else test_examples
  return grain.MapDataset.range(n), functools.partial(
      _transform, split_id=SPLITS.index(split), length=num_samples(seconds))
