"""The trainer: sharded == single-device, resume == uninterrupted, outputs,
NaN handling and checkpoint evaluation, on `:tiny` configs."""

import dataclasses
import glob
import json
import os

from absl.testing import absltest
import jax
import numpy as np

from ginr_jax import input_pipeline
from ginr_jax import sharding
from ginr_jax import train
from ginr_jax import utils
from configs import imagenette


def tiny_config(**overrides):
  config = imagenette.get_config("tiny")
  for key, value in overrides.items():
    node = config
    *parents, leaf = key.split(".")
    for p in parents:
      node = node[p]
    node[leaf] = value
  return config


def leaves_close(a, b, atol):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol)


class ShardedStepTest(absltest.TestCase):

  def test_four_devices_equal_one(self):
    self.assertGreaterEqual(jax.device_count(), 4)
    results = []
    for n in (1, 4):
      config = tiny_config(num_devices=n)
      setup = train.Setup(config)
      state = setup.init(jax.random.key(0))
      batch = next(input_pipeline.TrainIterator(config.input, setup.mesh, 0))
      self.assertEqual(batch["image"].sharding.mesh.size, n)
      task = dataclasses.replace(setup.task, jitter=True, subsample=0.5)
      step = jax.jit(
          lambda s, b, r, setup=setup, task=task: train.train_step(
              s, b, r, model=setup.model, tx=setup.tx, schedule=setup.schedule,
              task=task, meta=setup.meta),
          out_shardings=(setup.state_sharding, sharding.replicated(setup.mesh)))
      for _ in range(2):
        state, metrics = step(state, batch, jax.random.key(1))
      results.append(jax.device_get((state, metrics)))
    leaves_close(results[0], results[1], atol=2e-5)


class TrainLoopTest(absltest.TestCase):

  def test_resume_equals_uninterrupted_and_writes_outputs(self):
    root = self.create_tempdir().full_path
    straight, resumed = os.path.join(root, "a"), os.path.join(root, "b")
    # Traced steps 2-3: a profile, and a config that may still evaluate.
    final = train.train_and_evaluate(
        tiny_config(total_steps=4, profile_steps=2), straight)
    train.train_and_evaluate(tiny_config(total_steps=2), resumed)
    again = train.train_and_evaluate(tiny_config(total_steps=4), resumed)
    leaves_close(final["params"], again["params"], atol=1e-6)

    by_step = lambda d: {
        m["step"]: m for m in utils.read_metrics(d) if "train/loss" in m
    }
    a, b = by_step(straight), by_step(resumed)
    self.assertEqual(sorted(a), [1, 2, 3, 4])
    self.assertEqual(sorted(b), [1, 2, 3, 4])
    for s in (3, 4):  # same batches after the resume
      self.assertAlmostEqual(a[s]["train/loss"], b[s]["train/loss"], places=6)

    metrics = utils.read_metrics(straight)
    evals = [m for m in metrics if "eval/psnr" in m]
    self.assertEqual(evals[-1]["step"], 4)
    self.assertEqual(evals[-1]["eval/num_examples"], 8)
    self.assertIn("eval/baseline_psnr", evals[-1])
    for key in ("train/psnr", "train/l2_grads", "train/lr",
                "time/steps_per_sec"):
      self.assertIn(key, a[4])
    with open(os.path.join(straight, "config.json")) as f:
      self.assertEqual(json.load(f)["total_steps"], 4)
    self.assertEqual(tiny_config().render_upsample, (1, 2))
    for factor in (1, 2):
      self.assertTrue(
          os.path.exists(
              os.path.join(straight, "images",
                           f"recon_00000004_x{factor}.png")))
    self.assertNotEmpty(os.listdir(os.path.join(straight, "tensorboard")))
    self.assertIn("4", os.listdir(os.path.join(straight, "checkpoints")))
    self.assertLen(
        glob.glob(
            os.path.join(straight, "profile", "plugins", "profile", "*",
                         "*.xplane.pb")), 1)
    self.assertFalse(os.path.exists(os.path.join(resumed, "profile")))

    # Evaluating the saved checkpoint reproduces the end-of-training eval.
    scalars = train.evaluate_checkpoint(tiny_config(total_steps=4), straight)
    self.assertAlmostEqual(scalars["eval/psnr"], evals[-1]["eval/psnr"],
                           places=4)

  def test_nan_loss_stops_naming_last_checkpoint(self):
    workdir = self.create_tempdir().full_path
    config = tiny_config(total_steps=5, ckpt_steps=1)
    config.optim.lr = 1e30  # the first update overflows the weights
    with self.assertRaisesRegex(
        FloatingPointError,
        r"at step 2; stopping. The last good checkpoint is step 1 in"):
      train.train_and_evaluate(config, workdir)
    self.assertEqual(os.listdir(os.path.join(workdir, "checkpoints")), ["1"])

  def test_evaluate_without_checkpoint_fails(self):
    with self.assertRaisesRegex(FileNotFoundError, "No checkpoint"):
      train.evaluate_checkpoint(tiny_config(), self.create_tempdir().full_path)


if __name__ == "__main__":
  absltest.main()
