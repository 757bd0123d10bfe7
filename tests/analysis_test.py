"""Locality maps, activation maps and run comparison on tiny trained runs."""

import atexit
import functools
import json
import os
import shutil
import tempfile

from absl.testing import absltest
import jax
import numpy as np
from PIL import Image

from ginr_jax import analysis
from ginr_jax import train
from ginr_jax.cli import compare
from configs import demo


def trained(workdir: str, arg: str):
  train.train_and_evaluate(demo.get_config(arg), workdir)
  return train.load_workdir(workdir)


@functools.cache
def trained_la_ginr():
  """(root, workdir, (config, setup, params)) of a tiny LA-GINR run, trained
  once per test process."""
  root = tempfile.mkdtemp()
  atexit.register(shutil.rmtree, root, True)
  workdir = os.path.join(root, "la_ginr")
  return root, workdir, trained(workdir, "model=la_ginr,tiny")


class FootprintTest(absltest.TestCase):

  def test_point_and_uniform(self):
    point = np.zeros((10, 10))
    point[3, 4] = 1.0
    self.assertEqual(analysis.footprint(point), 0.01)
    self.assertEqual(analysis.footprint(np.ones((10, 10))), 0.5)
    self.assertEqual(analysis.footprint(np.zeros((4, 4))), 0.0)


class AnalysisTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root, cls.la_dir, cls.la = trained_la_ginr()

  def test_locality_maps_of_zeroed_tokens(self):
    config, setup, params = self.la
    out = os.path.join(self.root, "locality")
    os.makedirs(out)
    summary = analysis.write_locality(config, setup, params, out, tokens=[0, 3],
                                      num_images=2, upsample=2)
    image = np.asarray(Image.open(summary["png"]))
    # targets, reconstructions and one row per token; 2 images upsampled 2x.
    side = 2 * config.input.image_size
    self.assertEqual(image.shape[:2], (4 * (side + 2) + 2, 2 * (side + 2) + 2))
    with open(os.path.join(out, "locality.json")) as f:
      spans = json.load(f)["footprint"]
    self.assertEqual(np.shape(spans), (2, 2))
    self.assertTrue(all(0 < s <= 1 for s in np.ravel(spans)))

  def test_zeroing_a_token_changes_only_through_that_token(self):
    config, setup, params = self.la
    images = np.random.default_rng(0).uniform(size=(2, config.input.image_size,
                                                    config.input.image_size, 3))
    images = images.astype(np.float32)
    _, maps = analysis.locality_maps(setup, params, images, [1], 1)
    self.assertEqual(maps.shape, (1, 2, *images.shape[1:3]))
    self.assertGreater(float(maps.max()), 0.0)
    with self.assertRaisesRegex(ValueError, "out of range"):
      analysis.locality_maps(setup, params, images, [99], 1)

  def test_activation_maps(self):
    config, setup, params = self.la
    out = os.path.join(self.root, "activations")
    os.makedirs(out)
    paths = analysis.write_activations(config, setup, params, out, [0, 5],
                                       num_images=1, upsample=1)
    image = np.asarray(Image.open(paths[0]))
    side = config.input.image_size
    levels = len(config.model.decoder.sigmas)
    self.assertEqual(image.shape[:2],
                     ((1 + levels) * (side + 2) + 2, 2 * (side + 2) + 2))
    with self.assertRaisesRegex(ValueError, "out of range"):
      analysis.write_activations(config, setup, params, out, [99])

  def test_transinr_latents_are_not_tokens(self):
    config = demo.get_config("model=transinr,tiny")
    setup = train.Setup(config)
    params = setup.init(jax.random.key(0))["params"]
    size = config.input.image_size
    images = np.zeros((1, size, size, 3), np.float32)
    with self.assertRaisesRegex(ValueError, "one latent vector per token"):
      analysis.locality_maps(setup, params, images, [0], 1)

  def test_compare_table_and_plot(self):
    out = os.path.join(self.root, "curves.png")
    compare.plot([self.la_dir], out)
    self.assertTrue(os.path.getsize(out) > 0)
    table = compare.table([self.la_dir])
    self.assertIn("| la_ginr | 3 |", table)
    with self.assertRaisesRegex(FileNotFoundError, "No metrics.jsonl"):
      compare.table([self.root + "/nothing"])


if __name__ == "__main__":
  absltest.main()
