"""Every config builds at full size (shapes only) and trains with `:tiny`."""

import glob
import importlib.util
import os

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import models
from ginr_jax import train
from ginr_jax import utils

CONFIG_DIR = os.path.join(os.path.dirname(__file__), "..", "configs")
# (config file, argument) pairs: every file, and every FFHQ resolution.
CONFIGS = [(os.path.basename(p)[:-3], "")
           for p in sorted(glob.glob(os.path.join(CONFIG_DIR, "*.py")))]
FFHQ_VARIANTS = [("ffhq", f"res={r}") for r in (256, 512)]
# Training with :tiny: every file, plus the FFHQ variants that change the code
# path (no padding, subsampling, d and r).
TINY = CONFIGS + [("ffhq", "res=1024,d=1024,r=1024")]


def load(name: str, arg: str):
  spec = importlib.util.spec_from_file_location(
      name, os.path.join(CONFIG_DIR, f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def param_count(config) -> int:
  model = models.build(config.model_name, config.model)
  size = config.input.image_size
  shapes = jax.eval_shape(lambda: model.init(
      jax.random.key(0), jnp.zeros((1, size, size, 3))))
  return utils.count_params(shapes)


class ConfigsTest(parameterized.TestCase):

  @parameterized.parameters(*CONFIGS, *FFHQ_VARIANTS, *TINY[len(CONFIGS):])
  def test_builds_at_full_size(self, name, arg):
    config = load(name, arg)
    self.assertGreater(config.total_steps, 0)
    self.assertGreater(param_count(config), 0)

  def test_official_sizes(self):
    self.assertEqual(param_count(load("imagenette", "")), 43_680_771)
    ffhq = load("ffhq", "res=512,d=1024,r=1024")
    model = models.build(ffhq.model_name, ffhq.model)
    self.assertEqual(model.hyponet.layer_shapes[1], (1024, 1024))
    self.assertEqual(ffhq.train.coord_subsample, 0.1)
    self.assertEqual(load("ffhq", "1024").model.hyponet.ff_sigma, 256.0)

  @parameterized.parameters(*TINY)
  def test_tiny_trains_and_evaluates(self, name, arg):
    config = load(name, ",".join(filter(None, [arg, "tiny"])))
    self.assertEqual(config.input.name, "synthetic")
    workdir = self.create_tempdir().full_path
    train.train_and_evaluate(config, workdir)
    metrics = utils.read_metrics(workdir)
    self.assertEqual(metrics[-1]["step"], config.total_steps)
    self.assertTrue(np.isfinite(metrics[-1]["eval/psnr"]))

  def test_bad_arguments_fail(self):
    with self.assertRaisesRegex(ValueError, "Unknown config argument 'nope'"):
      load("ffhq", "nope=1")
    with self.assertRaisesRegex(ValueError, "resolution 300"):
      load("ffhq", "300")


if __name__ == "__main__":
  absltest.main()
