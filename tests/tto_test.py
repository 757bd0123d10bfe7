"""Test-time optimisation and per-sample FFNets lower each instance's error;
the command compares several runs in one plot."""

import json
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest

from ginr_jax import train
from ginr_jax import tto
from ginr_jax.models import hyponet as hyponet_lib
from configs import demo


def assert_psnr_rises_for_every_instance(test, model_arg, what):
  config = demo.get_config(",".join(filter(None, [model_arg, "tiny"])))
  setup = train.Setup(config)
  params = setup.init(jax.random.key(0))["params"]
  size = config.input.image_size
  images = jnp.asarray(
      np.random.default_rng(0).uniform(size=(2, size, size, 3)), jnp.float32)
  psnr, seconds = tto.optimize(config, setup, params, {"image": images},
                               what=what, steps=5, lr=1e-2)
  test.assertEqual(psnr.shape, (6, 2))
  test.assertTrue(np.all(np.diff(seconds) > 0))
  test.assertTrue(np.all(psnr[-1] > psnr[0]), psnr)


@pytest.mark.slow
class EveryModelTTOTest(parameterized.TestCase):

  @parameterized.parameters(("", "latents"), ("model=la_ginr", "all"))
  def test_psnr_rises_for_every_instance(self, model_arg, what):
    assert_psnr_rises_for_every_instance(self, model_arg, what)


class TTOTest(parameterized.TestCase):
  # Every model and both kinds; the other pairs are in the slow lane.
  @parameterized.parameters(("", "all"), ("model=la_ginr", "latents"),
                            ("model=meta_ipc", "latents"))
  def test_psnr_rises_for_every_instance(self, model_arg, what):
    assert_psnr_rises_for_every_instance(self, model_arg, what)

  def test_scratch_ffnet_fits_every_image(self):
    net = hyponet_lib.HypoNet(hidden_dim=16, ff_dim=8, ff_sigma=4.0)
    images = jnp.asarray(
        np.random.default_rng(1).uniform(size=(3, 8, 8, 3)), jnp.float32)
    psnr, seconds = tto.fit_scratch(net, images, steps=20, lr=1e-2)
    self.assertEqual(psnr.shape, (21, 3))
    self.assertEqual(seconds.shape, (21,))
    self.assertTrue(np.all(psnr[-1] > psnr[0] + 1.0), psnr)

  def test_ffnet_is_the_hyponet_without_weight_normalisation(self):
    net = hyponet_lib.HypoNet(hidden_dim=16, ff_dim=8, ff_sigma=4.0)
    params = tto.ffnet_init(jax.random.key(0), net)
    for i, (fan_in, _) in enumerate(net.layer_shapes):  # torch's bound
      layer = params[hyponet_lib.layer_name(i)]
      self.assertLessEqual(float(jnp.max(jnp.abs(layer["w"]))),
                           1 / np.sqrt(fan_in))
      self.assertGreater(float(jnp.max(jnp.abs(layer["b"]))), 0.0)
    coords = jax.random.uniform(jax.random.key(1), (5, 2), minval=-1)
    # Unit-norm columns: weight normalisation is then the identity.
    unit = jax.tree.map(
        lambda x: hyponet_lib.normalize_weight(x) if x.ndim == 2 else x, params)
    np.testing.assert_allclose(tto.ffnet_apply(unit, coords, net),
                               net.apply(unit, coords), rtol=1e-5, atol=1e-6)
    self.assertGreater(
        float(
            jnp.max(
                jnp.abs(
                    tto.ffnet_apply(params, coords, net) -
                    net.apply(params, coords)))), 1e-3)


@pytest.mark.slow
class TTOCommandTest(absltest.TestCase):

  def test_two_models_both_kinds_and_scratch_in_one_plot(self):
    root = tempfile.mkdtemp()
    workdirs = []
    for arg in ("tiny", "model=la_ginr,tiny"):
      workdirs.append(os.path.join(root, arg.split(",")[0]))
      train.train_and_evaluate(demo.get_config(arg), workdirs[-1])
    out = os.path.join(root, "tto.png")
    tto.compare(workdirs, whats=("latents", "all"), steps=3, lr=1e-2,
                num_images=2, scratch=True, plot_path=out)
    self.assertGreater(Image.open(out).size[0], 100)
    with open(os.path.join(root, "tto.json")) as f:
      curves = json.load(f)
    self.assertEqual([c["what"] for c in curves],
                     ["latents", "all", "latents", "all", "scratch"])
    for c in curves:
      self.assertLen(c["psnr"], 4)
      self.assertEqual(c["num_images"], 2)
      self.assertGreater(c["psnr"][-1], c["psnr"][0], c["label"])
    self.assertTrue(
        os.path.exists(os.path.join(workdirs[1], "tto", "tto_all.json")))


if __name__ == "__main__":
  absltest.main()
