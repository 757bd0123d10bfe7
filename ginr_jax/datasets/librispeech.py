"""LibriSpeech utterances from the original FLAC layout, cropped as the
official IPC code crops them (`docs/faithfulness.md#audio-data`).

  DATA_DIR/LibriSpeech/train-clean-100/<speaker>/<chapter>/<s>-<c>-<u>.flac
  DATA_DIR/LibriSpeech/test-clean/...

(what openslr.org/12's train-clean-100.tar.gz and test-clean.tar.gz extract
to). Training uses train-clean-100, testing test-clean, 16 kHz mono, the
raw waveform in [-1, 1]. Utterances are ordered by file name, as
torchaudio's LIBRISPEECH lists them. A crop of `seconds` is random in
training and the first `seconds` at test; shorter utterances are padded
with zeros on the right.

`official_trim=True` reproduces the official code's `total_secs: -1` quirk:
it slices `[:-16000]` and so drops the last second of every utterance
before cropping (short test utterances then hold more padding). It is off by
default; the paper's numbers were produced with it on (the released configs
all have it), so turn it on to compare with IPC Table 1.
"""

import functools
import os

import grain
import numpy as np
import soundfile

from ginr_jax.datasets import images

FOLDER = "LibriSpeech"
SUBSETS = {"train": "train-clean-100", "test": "test-clean"}
SAMPLE_RATE = 16_000


def _missing(problem: str, path: str, data_dir: str):
  return images.DatasetNotFoundError(
      f"librispeech: {problem}: {os.path.abspath(path)}\n"
      f"  expected layout: {FOLDER}/{{train-clean-100,test-clean}}/<speaker>/"
      "<chapter>/*.flac\n"
      "  download train-clean-100.tar.gz and test-clean.tar.gz from "
      f"https://www.openslr.org/12 and extract both into {data_dir}")


def utterance_files(data_dir: str, split: str) -> list[str]:
  """The split's FLAC files, sorted by file name (speaker-chapter-utt)."""
  if split not in SUBSETS:
    raise ValueError(f"librispeech: unknown split {split!r}; valid splits: "
                     f"{', '.join(SUBSETS)}.")
  folder = os.path.join(data_dir, FOLDER, SUBSETS[split])
  if not os.path.isdir(folder):
    raise _missing("no folder", folder, data_dir)
  files = []
  for speaker in os.listdir(folder):
    speaker_dir = os.path.join(folder, speaker)
    if not os.path.isdir(speaker_dir):
      continue
    for chapter in os.listdir(speaker_dir):
      chapter_dir = os.path.join(speaker_dir, chapter)
      if os.path.isdir(chapter_dir):
        files += [
            os.path.join(chapter_dir, f)
            for f in os.listdir(chapter_dir)
            if f.endswith(".flac")
        ]
  if not files:
    raise _missing("no <speaker>/<chapter>/*.flac files in", folder, data_dir)
  return sorted(files, key=os.path.basename)


def load_waveform(path: str) -> np.ndarray:
  """[T] float32 samples in [-1, 1] of a 16 kHz mono file."""
  samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
  if rate != SAMPLE_RATE or samples.shape[1] != 1:
    raise ValueError(f"librispeech: {path} is {rate} Hz with "
                     f"{samples.shape[1]} channels; LibriSpeech is 16 kHz "
                     "mono.")
  return samples[:, 0]


def crop(waveform: np.ndarray, rng: np.random.Generator | None, *,
         seconds: float, train: bool,
         official_trim: bool = False) -> np.ndarray:
  """[seconds * 16000] samples: random (train) or the first (test), zero
  padded on the right; `official_trim` drops the last second first."""
  if official_trim:
    waveform = waveform[:-SAMPLE_RATE]
  n = int(round(seconds * SAMPLE_RATE))
  start = 0
  if train and len(waveform) > n:
    start = int(rng.integers(0, len(waveform) - n + 1))
  clip = waveform[start:start + n]
  return np.pad(clip, (0, n - len(clip))).astype(np.float32)


def _transform(path, rng, *, seconds, train, official_trim):
  clip = crop(load_waveform(path), rng, seconds=seconds, train=train,
              official_trim=official_trim)
  return {"audio": clip[:, None]}  # [T, 1]


def make(*, split: str, train: bool, seconds: int, data_dir: str | None = None,
         official_trim: bool = False):
  """(grain.MapDataset of FLAC paths, transform(path, rng) -> {"audio":
  float32 [seconds * 16000, 1]})."""
  data_dir = data_dir or images.DEFAULT_DATA_DIR
  return grain.MapDataset.source(utterance_files(
      data_dir, split)), (functools.partial(_transform, seconds=seconds,
                                            train=train,
                                            official_trim=official_trim))
