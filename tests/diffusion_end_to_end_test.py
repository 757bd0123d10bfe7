"""Export -> train -> sample -> decode with `:tiny` configs, resume ==
uninterrupted, and the errors for missing inputs."""

import json
import os

from absl.testing import absltest
import jax
import numpy as np
import pytest

from ginr_jax import train as stage1
from ginr_jax import utils
from ginr_jax.diffusion import latents
from ginr_jax.diffusion import sample
from ginr_jax.diffusion import train
from configs import demo
from configs import diffusion_demo


@pytest.mark.slow
class EndToEndTest(absltest.TestCase):
  """One test, so that the stage-1 run and the export happen once (pytest-
  xdist gives every worker its own class set-up)."""

  def test_export_train_resume_sample_and_decode(self):
    root = self.create_tempdir().full_path
    stage1_dir = os.path.join(root, "stage1")
    stage1_config = demo.get_config("model=la_ginr,tiny")
    stage1_config.render_upsample = (1,)  # its grids are not tested here
    stage1.train_and_evaluate(stage1_config, stage1_dir)
    latent_dir = os.path.join(root, "latents")
    meta = latents.export(stage1_dir, latent_dir, splits=("train",),
                          batch_size=8)
    self.check_export(meta, latent_dir)

    def config(total_steps):
      c = diffusion_demo.get_config("tiny")
      c.latents_dir, c.total_steps = latent_dir, total_steps
      return c

    straight = os.path.join(root, "a")
    resumed = os.path.join(root, "b")
    final = train.train_and_evaluate(config(3), straight)
    train.train_and_evaluate(config(2), resumed)
    again = train.train_and_evaluate(config(3), resumed)
    for key in ("params", "ema"):
      for x, y in zip(jax.tree.leaves(final[key]), jax.tree.leaves(again[key])):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=1e-6)
    self.check_outputs(straight)

    # Sampling a checkpoint's EMA parameters, decoded at twice the size.
    diffusion_config, setup, state = train.load_workdir(straight)
    evaluator = sample.Evaluator(diffusion_config, setup, meta)
    labels = evaluator.shown_labels()
    images = evaluator.generate(state["ema"], labels, jax.random.key(0), 4, 2.5,
                                upsample=2)
    self.assertEqual(images.shape, (len(labels), 32, 32, 3))
    self.assertTrue(np.all((images >= 0) & (images <= 1)))

    bad = config(3)
    bad.model.token_dim = 32
    with self.assertRaisesRegex(ValueError, "--config.model.token_dim=16"):
      train.train_and_evaluate(bad, os.path.join(root, "c"))

  def check_export(self, meta, latent_dir):
    self.assertEqual(
        (meta["num_tokens"], meta["token_dim"], meta["num_classes"]),
        (8, 16, 1))
    n = meta["splits"]["train"]["num_examples"]
    z = np.load(os.path.join(latent_dir, "train_latents.npy"))
    self.assertEqual(z.shape, (n, 8, 16))
    mean, std = latents.read_stats(latent_dir)
    np.testing.assert_allclose(mean, z.mean(0), atol=1e-5)
    np.testing.assert_allclose(std, z.std(0), rtol=1e-3, atol=1e-6)
    self.assertTrue(np.isfinite(meta["splits"]["train"]["psnr"]))
    source = latents.LatentSource(latent_dir, "train")
    np.testing.assert_allclose(
        latents.unstandardize(source[3]["latents"], mean, std), z[3], atol=1e-5)

  def check_outputs(self, workdir):
    metrics = utils.read_metrics(workdir)
    self.assertEqual([m["step"] for m in metrics if "train/loss" in m],
                     [1, 2, 3])
    for key in ("sample/fid", "sample/nn_accuracy", "sample/nn_psnr",
                "latents/psnr"):
      self.assertTrue(np.isfinite(metrics[-1][key]), key)
    samples = os.path.join(workdir, "samples")
    for factor in (1, 2):
      for name in (f"00000003_ddim4_g2.5_x{factor}.png",
                   f"class_0000_00000003_ddim4_g2.5_x{factor}.png"):
        self.assertTrue(os.path.exists(os.path.join(samples, name)), name)
    with open(os.path.join(workdir, "config.json")) as f:
      self.assertEqual(json.load(f)["diffusion"]["ema_decay"], 0.999)


class MissingInputsTest(absltest.TestCase):

  def test_missing_latents_names_export_command(self):
    root = self.create_tempdir().full_path
    config = diffusion_demo.get_config("tiny")
    config.latents_dir = os.path.join(root, "nowhere")
    with self.assertRaisesRegex(FileNotFoundError,
                                "python -m ginr_jax.cli.export_latents"):
      train.train_and_evaluate(config, os.path.join(root, "c"))
    self.assertFalse(os.path.exists(os.path.join(root, "c")))

  def test_missing_stage1_checkpoint_fails(self):
    root = self.create_tempdir().full_path
    with self.assertRaisesRegex(FileNotFoundError, "config.json"):
      latents.export(os.path.join(root, "none"), os.path.join(root, "out"))


if __name__ == "__main__":
  absltest.main()
