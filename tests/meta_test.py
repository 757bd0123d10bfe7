"""The inner loop: its step formula, meta-gradients and batching."""

import functools
import os

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from ginr_jax import coords as coords_lib
from ginr_jax import losses
from ginr_jax import meta
from ginr_jax import train
from ginr_jax.models import hyponet
from ginr_jax.models import learned_init
from configs import meta_ipc


def problem(dtype=jnp.float32):
  """A small nonlinear regression: loss(v; w) = mean((tanh(w v) - y)^2)."""
  rng = np.random.default_rng(0)
  w = jnp.asarray(rng.normal(size=(6, 4)) / 2, dtype)
  v0 = jnp.asarray(rng.normal(size=(4,)) / 2, dtype)
  y = jnp.asarray(rng.normal(size=(6,)), dtype)
  return w, v0, y


def loss(v, w, y):
  return jnp.mean(jnp.square(jnp.tanh(w @ v) - y))


def meta_objective(w, v0, y, first_order=False, remat=False, steps=2, lr=0.3):
  """The outer loss after the inner loop, as a function of (w, v0)."""
  v, _ = meta.inner_loop(functools.partial(loss, w=w, y=y), v0, steps=steps,
                         lr=lr, first_order=first_order, remat=remat)
  return loss(v, w, y)


class InnerLoopTest(absltest.TestCase):

  def test_norm_scaled_step_formula(self):
    a = jnp.asarray(np.random.default_rng(1).normal(size=(5, 3)), jnp.float32)
    b = jnp.ones((5,))
    v0 = jnp.asarray([0.5, -1.0, 2.0])
    quadratic = lambda v: 0.5 * jnp.sum(jnp.square(a @ v - b))
    v1, losses = meta.inner_loop(quadratic, v0, steps=1, lr=0.01)
    expected = v0 - 0.01 * jnp.sum(v0**2) * a.T @ (a @ v0 - b)
    np.testing.assert_allclose(v1, expected, rtol=1e-5)
    np.testing.assert_allclose(losses, [quadratic(v0)], rtol=1e-6)
    plain, _ = meta.inner_loop(quadratic, v0, steps=1, lr=0.01,
                               norm_scaled=False)
    np.testing.assert_allclose(plain, v0 - 0.01 * a.T @ (a @ v0 - b), rtol=1e-5)

  def test_each_leaf_scaled_by_its_own_norm(self):
    tree = {"a": jnp.asarray([1.0, 2.0]), "b": jnp.asarray([3.0])}
    f = lambda t: jnp.sum(t["a"]) + jnp.sum(t["b"])  # gradient: ones
    new, _ = meta.inner_loop(f, tree, steps=1, lr=0.1)
    np.testing.assert_allclose(new["a"], [1.0 - 0.5, 2.0 - 0.5])
    np.testing.assert_allclose(new["b"], [3.0 - 0.9])

  def test_inner_steps_lower_the_loss(self):
    w, v0, y = problem()
    f = functools.partial(loss, w=w, y=y)
    v, losses = meta.inner_loop(f, v0, steps=5, lr=0.3)
    self.assertTrue(np.all(np.diff(np.append(losses, f(v))) < 0))

  def test_second_order_meta_gradient_matches_finite_differences(self):
    with jax.enable_x64(True):
      w, v0, y = problem(jnp.float64)
      grads = jax.grad(meta_objective, argnums=(0, 1))(w, v0, y)
      eps = 1e-6
      for arg, grad in zip((0, 1), grads):
        x = (w, v0)[arg]
        numeric = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
          bump = jnp.zeros(x.shape, jnp.float64).at[idx].set(eps)
          args = [w, v0]
          args[arg] = x + bump
          up = meta_objective(*args, y)
          args[arg] = x - bump
          down = meta_objective(*args, y)
          numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)

  def test_first_order_is_the_stop_gradient_formula(self):
    w, v0, y = problem()
    g_w, g_v0 = jax.grad(meta_objective, argnums=(0, 1))(w, v0, y,
                                                         first_order=True)
    # The updates are constants: d v_K / d v_0 = I and w reaches the outer
    # loss only directly.
    v_k, _ = meta.inner_loop(functools.partial(loss, w=w, y=y), v0, steps=2,
                             lr=0.3)
    np.testing.assert_allclose(g_v0, jax.grad(loss)(v_k, w, y), rtol=1e-5)
    np.testing.assert_allclose(g_w,
                               jax.grad(loss, argnums=1)(v_k, w, y), rtol=1e-5)
    second = jax.grad(meta_objective, argnums=(0, 1))(w, v0, y)
    self.assertGreater(float(jnp.abs(second[1] - g_v0).max()), 1e-4)

  def test_remat_gives_the_same_gradient(self):
    w, v0, y = problem()
    plain = jax.grad(meta_objective, argnums=(0, 1))(w, v0, y)
    remat = jax.grad(meta_objective, argnums=(0, 1))(w, v0, y, remat=True)
    for a, b in zip(plain, remat):
      np.testing.assert_allclose(a, b, rtol=1e-5)

  def test_vmap_over_instances_equals_a_loop(self):
    w, _, _ = problem()
    rng = np.random.default_rng(2)
    v0s = jnp.asarray(rng.normal(size=(3, 4)), jnp.float32)
    ys = jnp.asarray(rng.normal(size=(3, 6)), jnp.float32)

    def adapt(v0, y):
      return meta.inner_loop(functools.partial(loss, w=w, y=y), v0, steps=2,
                             lr=0.3)

    batched, batched_losses = jax.vmap(adapt)(v0s, ys)
    for i in range(3):
      single, single_losses = adapt(v0s[i], ys[i])
      np.testing.assert_allclose(batched[i], single, rtol=1e-5)
      np.testing.assert_allclose(batched_losses[i], single_losses, rtol=1e-5)


class MetaIPCTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.config = meta_ipc.get_config("tiny")
    self.setup = train.Setup(self.config)
    self.params = self.setup.init(jax.random.key(0))["params"]
    size = self.config.input.image_size
    self.images = jnp.asarray(
        np.random.default_rng(0).uniform(size=(2, size, size, 3)), jnp.float32)

  def test_every_instance_starts_from_v0_and_uses_v_u(self):
    model = self.setup.model
    latents = model.apply({"params": self.params}, self.images, method="encode")
    v0 = self.params["init_latents"]
    self.assertEqual(latents.shape, (2, *v0.shape))  # [B, r, d]
    np.testing.assert_array_equal(latents[1], v0)
    hypo = model.apply({"params": self.params}, latents, method="hypo_params")
    np.testing.assert_allclose(hypo["layer_1"]["w"][0],
                               v0.T @ self.params["composer_u"], rtol=1e-5)

  def predict(self, inner_steps):
    """The images predicted after `inner_steps` inner steps (lr 0.02)."""
    kwargs = dict(model=self.setup.model, task=self.setup.task)
    batch = {"image": self.images}
    latents, _ = train.encode(self.params, batch,
                              meta=dict(self.setup.meta, inner_lr=0.02),
                              inner_steps=inner_steps, **kwargs)
    coords, _ = self.setup.task.eval_inputs(batch)
    pred = train.predict(self.params, latents, coords, chunk=4096, **kwargs)
    return pred.reshape(self.images.shape)

  def test_evaluation_adapts_and_lowers_the_error(self):

    def mse(inner_steps):
      pred = self.predict(inner_steps)
      return float(jnp.mean(jnp.square(pred - self.images)))

    self.assertLess(mse(3), mse(0))

  def test_eval_reports_psnr_before_each_inner_step(self):
    self.config.meta.inner_lr = 0.02
    metrics = train.Setup(self.config).metrics(self.params,
                                               {"image": self.images})
    steps = jnp.stack([self.predict(k) for k in range(3)])
    self.assertEqual(steps.shape, (3, *self.images.shape))
    psnr = [
        losses.psnr_from_mse(losses.per_instance_mse(s, self.images))
        for s in steps
    ]
    for k in range(2):
      np.testing.assert_allclose(metrics[f"psnr_inner_{k}"], psnr[k], rtol=1e-5)
    np.testing.assert_allclose(metrics["psnr"], psnr[2], rtol=1e-5)
    self.assertTrue(np.all(metrics["psnr"] > metrics["psnr_inner_0"]))

  def test_write_images_draws_every_inner_step(self):
    workdir = self.create_tempdir().full_path
    self.setup.write_artefacts(self.params, 7, workdir)
    image = np.asarray(
        Image.open(os.path.join(workdir, "images", "inner_00000007.png")))
    side = self.config.input.image_size
    # targets, then the prediction after 0, 1 and 2 inner steps.
    self.assertEqual(image.shape[0], 4 * (side + 2) + 2)

  def test_inner_subset_pairs_coordinates_with_their_targets(self):
    grid = jnp.asarray(coords_lib.grid((6, 6)).reshape(-1, 2))
    per_instance = grid + jnp.arange(2.0)[:, None, None]  # [2, 36, 2]
    for coords in (grid, per_instance):
      targets = jnp.broadcast_to(coords, (2, 36, 2)) @ jnp.array(
          [[1.0, 0.0, 2.0], [3.0, 1.0, 0.0]])  # f(coords)
      sub_c, sub_t = coords_lib.subsample(jax.random.key(0), coords, targets,
                                          0.25)
      self.assertEqual(sub_c.shape, (2, 9, 2))
      np.testing.assert_allclose(
          sub_t, sub_c @ jnp.array([[1.0, 0.0, 2.0], [3.0, 1.0, 0.0]]),
          atol=1e-6)
      self.assertEqual(len(np.unique(np.asarray(sub_c[0]), axis=0)), 9)

  def test_inner_subsample_only_changes_the_inner_loop(self):
    state = self.setup.init(jax.random.key(0))
    batch = {"image": self.images}

    def train_psnr(**meta):
      config = meta_ipc.get_config("tiny")
      config.meta.update(meta)
      setup = train.Setup(config)
      _, metrics = jax.jit(setup.train_step)(state, batch, jax.random.key(1))
      return float(metrics["train/psnr"])

    self.assertEqual(train_psnr(inner_steps=0, inner_subsample=0.5),
                     train_psnr(inner_steps=0))
    full, half = (train_psnr(inner_lr=0.02),
                  train_psnr(inner_lr=0.02, inner_subsample=0.5))
    self.assertTrue(np.isfinite(half))
    self.assertNotEqual(full, half)


class LearnedInitTest(absltest.TestCase):

  def make(self, adapt_biases):
    net = hyponet.HypoNet(hidden_dim=64, ff_dim=8)
    model = learned_init.Model(hyponet=net, adapt_biases=adapt_biases)
    images = jnp.zeros((2, 8, 8, 3))
    x = jnp.asarray(
        np.random.default_rng(0).uniform(-1, 1, (7, 2)), jnp.float32)
    variables = model.init(jax.random.key(0), images, x)
    return model, variables, images, x

  def test_weights_are_latents_biases_shared(self):
    model, variables, images, x = self.make(adapt_biases=False)
    latents = model.apply(variables, images, method="encode")
    self.assertEqual(set(latents["layer_1"]), {"w"})
    self.assertEqual(latents["layer_1"]["w"].shape, (2, 64, 64))
    # V_0 ~ N(0, 1/sqrt(fan_in)), as the official init.
    self.assertAlmostEqual(float(jnp.std(latents["layer_1"]["w"][0])), 1 / 8,
                           delta=0.01)
    params = variables["params"]
    single = {
        name: {
            "w": params["init_latents"][name]["w"], "b": params["hyponet"][name]
                                                         ["b"]
        } for name in params["init_latents"]
    }
    np.testing.assert_allclose(
        model.apply(variables, images, x)[1], model.hyponet.apply(single, x),
        atol=1e-5)

  def test_maml_adapts_biases_too(self):
    model, variables, images, _ = self.make(adapt_biases=True)
    latents = model.apply(variables, images, method="encode")
    self.assertEqual(set(latents["layer_4"]), {"w", "b"})
    self.assertNotIn("hyponet", variables["params"])


if __name__ == "__main__":
  absltest.main()
