"""LibriSpeech in its original FLAC layout: order, crops, trim quirk, errors."""

import os
import pickle

import numpy as np
import pytest
import soundfile

from ginr_jax.datasets import images
from ginr_jax.datasets import librispeech

RATE = librispeech.SAMPLE_RATE


def write_flac(path, samples, rate=RATE):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  soundfile.write(path, samples, rate, subtype="PCM_16")


def ramp(seconds: float) -> np.ndarray:
  """Samples whose value encodes their index (exact in 16-bit PCM)."""
  n = int(seconds * RATE)
  return ((np.arange(n) % 30000) - 15000).astype(np.float32) / 32768


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("data")
  base = root / librispeech.FOLDER
  # Files out of order across speakers and chapters; a transcript to skip.
  for subset, name, seconds in [
      ("train-clean-100", "19/198/19-198-0001", 2.5),
      ("train-clean-100", "103/1240/103-1240-0000", 3.0),
      ("test-clean", "61/70968/61-70968-0000", 0.5),
      ("test-clean", "1089/134686/1089-134686-0000", 4.0)
  ]:
    write_flac(str(base / subset / f"{name}.flac"), ramp(seconds))
  (base / "test-clean/61/70968/61-70968.trans.txt").write_text("A\n")
  return str(root)


def test_files_sorted_by_name_as_torchaudio(data_dir):
  names = [
      os.path.basename(f)
      for f in librispeech.utterance_files(data_dir, "test")
  ]
  assert names == ["1089-134686-0000.flac", "61-70968-0000.flac"]
  assert len(librispeech.utterance_files(data_dir, "train")) == 2


def test_test_crop_is_the_start_and_short_clips_are_zero_padded(data_dir):
  long_, short = librispeech.utterance_files(data_dir, "test")
  clip = librispeech.crop(librispeech.load_waveform(long_), None, seconds=3,
                          train=False)
  np.testing.assert_allclose(clip, ramp(3.0), atol=1e-6)
  clip = librispeech.crop(librispeech.load_waveform(short), None, seconds=1,
                          train=False)
  np.testing.assert_allclose(clip[:RATE // 2], ramp(0.5), atol=1e-6)
  np.testing.assert_array_equal(clip[RATE // 2:], 0.0)


def test_official_trim_drops_the_last_second(data_dir):
  path = librispeech.utterance_files(data_dir, "test")[0]  # 4 s
  wave = librispeech.load_waveform(path)
  clip = librispeech.crop(wave, None, seconds=3, train=False,
                          official_trim=True)
  np.testing.assert_allclose(clip, ramp(3.0), atol=1e-6)  # 3 s left: same
  # A 3 s random training crop of the trimmed 4 s has to start at 0.
  rng = np.random.default_rng(0)
  for _ in range(5):
    np.testing.assert_allclose(
        librispeech.crop(wave, rng, seconds=3, train=True, official_trim=True),
        ramp(3.0), atol=1e-6)
  # Untrimmed, random crops are windows at varying offsets.
  starts = set()
  for _ in range(10):
    clip = librispeech.crop(wave, rng, seconds=1, train=True)
    start = int(np.argmin(np.abs(wave - clip[0])))
    np.testing.assert_allclose(clip, wave[start:start + RATE], atol=1e-6)
    starts.add(start)
  assert len(starts) > 1


def test_make_gives_audio_of_the_crop_length_and_pickles(data_dir):
  source, transform = librispeech.make(split="train", train=True, seconds=1,
                                       data_dir=data_dir)
  transform = pickle.loads(pickle.dumps(transform))
  out = transform(source[0], np.random.default_rng(0))
  assert out["audio"].shape == (RATE, 1) and out["audio"].dtype == np.float32
  assert np.abs(out["audio"]).max() <= 1.0


def test_missing_and_wrong_files_explain_themselves(tmp_path, data_dir):
  with pytest.raises(images.DatasetNotFoundError) as error:
    librispeech.utterance_files(str(tmp_path), "train")
  message = str(error.value)
  assert os.path.join(str(tmp_path), "LibriSpeech",
                      "train-clean-100") in (message)
  assert "openslr.org/12" in message
  with pytest.raises(ValueError, match="unknown split 'dev'"):
    librispeech.utterance_files(data_dir, "dev")
  (tmp_path / "LibriSpeech/test-clean/1/2").mkdir(parents=True)
  with pytest.raises(images.DatasetNotFoundError, match="no <speaker>"):
    librispeech.utterance_files(str(tmp_path), "test")
  write_flac(str(tmp_path / "x.flac"), ramp(0.1), rate=8000)
  with pytest.raises(ValueError, match="8000 Hz"):
    librispeech.load_waveform(str(tmp_path / "x.flac"))
