"""Test-time optimisation lowers each instance's error."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import train
from ginr_jax import tto
from configs import demo


class TTOTest(parameterized.TestCase):

  @parameterized.parameters(("", "latents"), ("", "all"),
                            ("model=la_ginr", "latents"),
                            ("model=la_ginr", "all"),
                            ("model=meta_ipc", "latents"))
  def test_psnr_rises_for_every_instance(self, model_arg, what):
    config = demo.get_config(",".join(filter(None, [model_arg, "tiny"])))
    setup = train.Setup(config)
    params = setup.init(jax.random.key(0))["params"]
    size = config.input.image_size
    images = jnp.asarray(np.random.default_rng(0).uniform(
        size=(2, size, size, 3)), jnp.float32)
    psnr, seconds = tto.optimize(config, setup, params, images, what=what,
                                 steps=5, lr=1e-2)
    self.assertEqual(psnr.shape, (6, 2))
    self.assertTrue(np.all(np.diff(seconds) > 0))
    self.assertTrue(np.all(psnr[-1] > psnr[0]), psnr)


if __name__ == "__main__":
  absltest.main()
