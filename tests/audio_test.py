"""Audio through the trainer: the official token and coordinate layout,
generated clips, LibriSpeech folders read by the audio configs, WAV and
waveform artefacts."""

import os

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np
import soundfile

from configs import audio
from ginr_jax import evaluators
from ginr_jax import input_pipeline
from ginr_jax import models
from ginr_jax import train
from ginr_jax.datasets import librispeech
from ginr_jax.datasets import synthetic_audio
from ginr_jax.models import tokenizers
from ginr_jax.models import transinr
from ginr_jax.tasks import signal


class AudioConfigTest(absltest.TestCase):

  def test_official_tokens_coordinates_and_hyponet(self):
    for secs, tokens, coord_range, subsample in ((1, 80, 1.0, 1.0),
                                                 (3, 240, 3.0, 0.25)):
      c = audio.get_config(str(secs))
      task = train.Setup(c).task
      self.assertEqual(task.shape, (secs * 16_000, 1))
      self.assertEqual(tokenizers.num_patches(task.spatial, 200, 0), tokens)
      self.assertEqual((task.coord_range, task.subsample),
                       (coord_range, subsample))
      net = models.build(c.model_name, c.model).hyponet
      self.assertEqual(net.layer_shapes[0], (4096, 256))  # 2048 freqs
      self.assertEqual(net.layer_shapes[-1], (256, 1))
      self.assertEqual(net.output_bias, 0.0)
    net = models.build("transinr", audio.get_config("1,model=transinr").model)
    self.assertEqual(sum(transinr.group_counts(net.hyponet, 64)), 257)

  def test_librispeech_folders_feed_the_config(self):
    root = self.create_tempdir().full_path
    rng = np.random.default_rng(0)
    for subset, name in (("train-clean-100", "19/198/19-198-0001"),
                         ("test-clean", "61/70968/61-70968-0000")):
      path = os.path.join(root, librispeech.FOLDER, subset, name + ".flac")
      os.makedirs(os.path.dirname(path))
      soundfile.write(path, rng.uniform(-0.5, 0.5, 20_000), 16_000,
                      subtype="PCM_16")
    c = audio.get_config("1")
    c.input.data_dir = root
    c.input.batch_size = 4
    batch = next(input_pipeline.TrainIterator(c.input, train.Setup(c).mesh, 0))
    self.assertEqual(batch["audio"].shape, (4, 16_000, 1))
    c.input.data_dir = os.path.join(root, "nowhere")
    with self.assertRaisesRegex(FileNotFoundError, "openslr.org/12"):
      input_pipeline.TrainIterator(c.input, train.Setup(c).mesh, 0)


class AudioSignalTest(absltest.TestCase):

  def test_generated_clips(self):
    source, transform = synthetic_audio.make(split="train", train=True,
                                             seconds=0.05)
    clip = transform(source[3], None)["audio"]
    self.assertEqual(clip.shape, (800, 1))
    self.assertLessEqual(float(np.abs(clip).max()), 0.9 + 1e-6)
    np.testing.assert_array_equal(clip, transform(source[3], None)["audio"])
    _, test_transform = synthetic_audio.make(split="test", train=False,
                                             seconds=0.05)
    self.assertFalse(np.allclose(clip, test_transform(3, None)["audio"]))

  def test_three_second_coordinates(self):
    task = signal.Signal(key="audio", shape=(600, 1), coord_range=3.0,
                         jitter=True, subsample=0.25)
    grid = task.grid()[:, 0]
    np.testing.assert_allclose(grid[[0, -1]], [-3 + 3 / 600, 3 - 3 / 600],
                               rtol=1e-6)
    clips = jnp.asarray(
        np.random.default_rng(0).normal(size=(2, 600, 1)), jnp.float32)
    coords, targets = task.train_inputs(jax.random.key(0), {"audio": clips})
    self.assertEqual(coords.shape, (2, 150, 1))
    # Each target is the sample whose cell its (jittered) coordinate is in.
    cells = np.floor((np.asarray(coords[..., 0]) + 3) / 6 * 600).astype(int)
    np.testing.assert_array_equal(
        np.take_along_axis(np.asarray(clips[..., 0]), cells, 1), targets[...,
                                                                         0])

  def test_wav_and_waveform_artefacts(self):
    prefix = os.path.join(self.create_tempdir().full_path, "images", "a")
    t = np.linspace(0, 1, 400, dtype=np.float32)
    target = np.sin(40 * t)[None, :, None] * 0.5
    recon = np.stack([target[0] * 3.0])  # out of range: clipped in the WAV
    evaluators.save_audio(prefix, target, recon)
    wav, rate = soundfile.read(prefix + "_0_target.wav", dtype="float32")
    self.assertEqual(rate, 16_000)
    np.testing.assert_allclose(wav, target[0, :, 0], atol=1 / 32768)
    wav, _ = soundfile.read(prefix + "_0_recon.wav", dtype="float32")
    np.testing.assert_allclose(wav, np.clip(recon[0, :, 0], -1, 1),
                               atol=1 / 32768)
    self.assertGreater(os.path.getsize(prefix + ".png"), 0)


if __name__ == "__main__":
  absltest.main()
