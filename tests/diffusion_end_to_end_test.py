"""Export -> train -> sample -> decode with `:tiny` configs, resume ==
uninterrupted, and the errors for missing inputs."""

import json
import os
import tempfile

from absl.testing import absltest
import jax
import numpy as np

from ginr_jax import train as stage1
from ginr_jax import utils
from ginr_jax.diffusion import latents
from ginr_jax.diffusion import sample
from ginr_jax.diffusion import train
from configs import demo
from configs import diffusion_demo


class EndToEndTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.stage1_dir = os.path.join(cls.root, "stage1")
    stage1.train_and_evaluate(demo.get_config("model=la_ginr,tiny"),
                              cls.stage1_dir)
    cls.latent_dir = os.path.join(cls.root, "latents")
    cls.meta = latents.export(cls.stage1_dir, cls.latent_dir,
                              splits=("train",), batch_size=8)

  def config(self, **overrides):
    c = diffusion_demo.get_config("tiny")
    c.latents_dir = self.latent_dir
    for key, value in overrides.items():
      c[key] = value
    return c

  def test_export_writes_latents_stats_and_psnr(self):
    meta = self.meta
    self.assertEqual((meta["num_tokens"], meta["token_dim"],
                      meta["num_classes"]), (8, 16, 1))
    n = meta["splits"]["train"]["num_examples"]
    z = np.load(os.path.join(self.latent_dir, "train_latents.npy"))
    self.assertEqual(z.shape, (n, 8, 16))
    mean, std = latents.read_stats(self.latent_dir)
    np.testing.assert_allclose(mean, z.mean(0), atol=1e-5)
    np.testing.assert_allclose(std, z.std(0), rtol=1e-3, atol=1e-6)
    # The export's PSNR is the stage-1 reconstruction PSNR of these images.
    self.assertTrue(np.isfinite(meta["splits"]["train"]["psnr"]))
    source = latents.LatentSource(self.latent_dir, "train")
    np.testing.assert_allclose(
        latents.unstandardize(source[3]["latents"], mean, std), z[3],
        atol=1e-5)

  def test_train_resume_sample_and_decode(self):
    straight = os.path.join(self.root, "a")
    resumed = os.path.join(self.root, "b")
    final = train.train_and_evaluate(self.config(total_steps=3), straight)
    train.train_and_evaluate(self.config(total_steps=2), resumed)
    again = train.train_and_evaluate(self.config(total_steps=3), resumed)
    for key in ("params", "ema"):
      for x, y in zip(jax.tree.leaves(final[key]),
                      jax.tree.leaves(again[key])):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=1e-6)

    metrics = utils.read_metrics(straight)
    self.assertEqual([m["step"] for m in metrics if "train/loss" in m],
                     [1, 2, 3])
    last = metrics[-1]
    for key in ("sample/fid", "sample/nn_accuracy", "sample/nn_psnr",
                "latents/psnr"):
      self.assertTrue(np.isfinite(last[key]), key)
    samples = os.path.join(straight, "samples")
    for factor in (1, 2):
      self.assertTrue(os.path.exists(os.path.join(
          samples, f"00000003_x{factor}.png")))
      self.assertTrue(os.path.exists(os.path.join(
          samples, f"class_0000_00000003_x{factor}.png")))
    with open(os.path.join(straight, "config.json")) as f:
      self.assertEqual(json.load(f)["diffusion"]["ema_decay"], 0.999)

    # Sampling a checkpoint reproduces the end-of-training samples.
    config, setup, state = train.load_workdir(straight)
    evaluator = sample.Evaluator(config, setup, self.meta)
    labels = evaluator.shown_labels()
    images = evaluator.generate(state["ema"], labels, jax.random.key(0), 4,
                                2.5, upsample=2)
    self.assertEqual(images.shape, (len(labels), 32, 32, 3))
    self.assertTrue(np.all((images >= 0) & (images <= 1)))

  def test_missing_latents_names_export_command(self):
    config = self.config()
    config.latents_dir = os.path.join(self.root, "nowhere")
    with self.assertRaisesRegex(FileNotFoundError,
                                "python -m ginr_jax.diffusion.export"):
      train.train_and_evaluate(config, os.path.join(self.root, "c"))
    self.assertFalse(os.path.exists(os.path.join(self.root, "c")))

  def test_missing_stage1_checkpoint_fails(self):
    with self.assertRaisesRegex(FileNotFoundError, "config.json"):
      latents.export(os.path.join(self.root, "none"),
                     os.path.join(self.root, "out"))

  def test_shape_mismatch_names_override(self):
    config = self.config()
    config.model.token_dim = 32
    with self.assertRaisesRegex(ValueError,
                                "--config.model.token_dim=16"):
      train.train_and_evaluate(config, os.path.join(self.root, "d"))


if __name__ == "__main__":
  absltest.main()
