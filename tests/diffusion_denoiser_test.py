"""The denoiser: the paper's size, batch independence, conditioning, and
the diffusion trainer's pieces (EMA, label drop, sharded step)."""

import functools

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import utils
from ginr_jax.diffusion import denoiser
from ginr_jax.diffusion import train
from configs import diffusion_demo
from configs import diffusion_imagenet


def tiny_model(**kwargs):
  return denoiser.Denoiser(**dict(
      dict(num_tokens=6, token_dim=4, num_classes=3, width=16, depth=2,
           num_heads=2, freq_dim=8), **kwargs))


def perturbed_params(model, seed=0):
  """Parameters with the zero-initialised layers made non-zero."""
  x, t = (jnp.zeros(
      (1, model.num_tokens, model.token_dim)), jnp.zeros((1,), jnp.int32))
  params = model.init(jax.random.key(seed), x, t, t)["params"]
  leaves, tree = jax.tree.flatten(params)
  keys = jax.random.split(jax.random.key(seed + 1), len(leaves))
  return jax.tree.unflatten(
      tree,
      [l + 0.1 * jax.random.normal(k, l.shape) for l, k in zip(leaves, keys)])


class DenoiserTest(absltest.TestCase):

  def test_imagenet_config_has_the_papers_size(self):
    config = diffusion_imagenet.get_config()
    m = config.model
    self.assertEqual((m.depth, m.width, m.num_heads), (24, 1024, 16))
    self.assertEqual((m.num_tokens, m.token_dim), (256, 256))  # Table 5
    shapes = jax.eval_shape(train.Setup(config).init, jax.random.key(0))
    count = utils.count_params(shapes["params"])
    self.assertEqual(count, 458_578_176)
    self.assertLess(abs(count - 458e6), 0.02 * 458e6)
    self.assertEqual(config.sharding.strategy, "fsdp")
    d = config.diffusion
    self.assertEqual((d.num_steps, d.label_drop, d.ema_decay),
                     (1000, 0.1, 0.9999))
    self.assertEqual(
        (config.optim.lr, config.optim.schedule, config.optim.warmup_steps),
        (1e-4, "constant", 0))
    self.assertEqual((config.eval.sample_steps, config.eval.guidance),
                     (250, 2.5))

  def test_demo_configs_build(self):
    for config in (diffusion_demo.get_config(""),
                   diffusion_demo.get_config("tiny"),
                   diffusion_imagenet.get_config("tiny")):
      shapes = jax.eval_shape(train.Setup(config).init, jax.random.key(0))
      self.assertLess(utils.count_params(shapes["params"]), 2_000_000)

  def test_zero_init_predicts_the_mean(self):
    model = tiny_model()
    x = jax.random.normal(jax.random.key(0), (2, 6, 4))
    t, y = jnp.asarray([3, 900]), jnp.asarray([0, 3])  # 3: no class
    params = model.init(jax.random.key(1), x, t, y)
    np.testing.assert_array_equal(jax.jit(model.apply)(params, x, t, y), 0.0)

  def test_prediction_is_independent_of_the_batch(self):
    model = tiny_model()
    params = {"params": perturbed_params(model)}
    apply = jax.jit(model.apply)
    x = jax.random.normal(jax.random.key(2), (4, 6, 4))
    t, y = jnp.asarray([0, 10, 500, 999]), jnp.asarray([0, 1, 2, 3])
    batched = apply(params, x, t, y)
    # One instance at a time, as a batch of one (vmap adds the batch axis).
    single = jax.vmap(lambda *a: apply(params, *(v[None] for v in a))[0])(x, t,
                                                                          y)
    np.testing.assert_allclose(batched, single, atol=1e-5)
    # ... and does depend on the timestep and on the class.
    other_t = apply(params, x, t[::-1], y)
    other_y = apply(params, x, t, y[::-1])
    self.assertGreater(float(jnp.abs(other_t - batched).max()), 1e-4)
    self.assertGreater(float(jnp.abs(other_y - batched).max()), 1e-4)

  def test_tokens_are_permutation_equivariant_up_to_token_embeddings(self):
    model = tiny_model()
    params = perturbed_params(model)
    params["token_embed"] = jnp.zeros_like(params["token_embed"])
    x = jax.random.normal(jax.random.key(3), (1, 6, 4))
    t, y = jnp.asarray([7]), jnp.asarray([1])
    perm = np.asarray([3, 0, 5, 1, 4, 2])
    apply = jax.jit(functools.partial(model.apply, {"params": params}))
    out, out_perm = apply(x, t, y), apply(x[:, perm], t, y)
    np.testing.assert_allclose(out[:, perm], out_perm, atol=1e-5)


class TrainPiecesTest(absltest.TestCase):

  def test_ema_update(self):
    ema, params = ({"a": jnp.asarray([1.0,
                                      2.0])}, {"a": jnp.asarray([3.0, -2.0])})
    np.testing.assert_allclose(
        train.ema_update(ema, params, 0.9)["a"], [1.2, 1.6], rtol=1e-6)

  def test_label_drop_rate_and_null_class(self):
    labels = jnp.zeros((100_000,), jnp.int32)
    dropped = train.drop_labels(jax.random.key(0), labels, 0.1, 7)
    self.assertSetEqual(set(np.unique(dropped).tolist()), {0, 7})
    self.assertAlmostEqual(float(jnp.mean(dropped == 7)), 0.1, delta=0.005)

  def test_sharded_step_equals_single_device(self):
    results = []
    for n in (1, 4):
      config = diffusion_demo.get_config("tiny")
      config.num_devices = n
      setup = train.Setup(config)
      state = setup.init(jax.random.key(0))
      rng = np.random.default_rng(0)
      batch = {
          "latents": rng.normal(size=(8, 8, 16)).astype(np.float32),
          "label": np.zeros((8,), np.int32)
      }
      batch = jax.device_put(
          batch,
          jax.sharding.NamedSharding(setup.mesh,
                                     jax.sharding.PartitionSpec("data")))
      step = jax.jit(setup.train_step)
      for _ in range(2):
        state, metrics = step(state, batch, jax.random.key(1))
      self.assertGreater(float(metrics["train/l2_updates"]), 0.0)
      results.append(jax.device_get((state, metrics)))
    for x, y in zip(jax.tree.leaves(results[0]), jax.tree.leaves(results[1])):
      np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=2e-5)


if __name__ == "__main__":
  absltest.main()
