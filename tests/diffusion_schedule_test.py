"""DDPM / DDIM math against closed forms (schedule.py)."""

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax.diffusion import schedule

ABAR = schedule.alphas_cumprod(schedule.linear_betas())


class ScheduleTest(absltest.TestCase):

  def test_linear_schedule(self):
    betas = schedule.linear_betas()
    self.assertLen(betas, 1000)
    self.assertAlmostEqual(betas[0], 1e-4)
    self.assertAlmostEqual(betas[-1], 0.02)
    np.testing.assert_allclose(ABAR, np.cumprod(1 - betas))
    self.assertLess(ABAR[-1], 1e-4)  # x_T is nearly pure noise

  def test_q_sample_mean_and_variance(self):
    n, t_values = 200_000, np.array([0, 250, 999])
    x0 = jnp.asarray([[0.7], [-1.3], [2.0]])  # one value per t
    noise = jax.random.normal(jax.random.key(0), (n, 3, 1))
    x_t = jax.vmap(lambda e: schedule.q_sample(x0, jnp.asarray(t_values), e,
                                               jnp.asarray(ABAR)))(noise)
    x_t = np.asarray(x_t)[..., 0]  # [n, 3]
    mean = np.sqrt(ABAR[t_values]) * np.asarray(x0)[:, 0]
    var = 1.0 - ABAR[t_values]
    # 5 standard errors of the Monte Carlo mean and variance.
    np.testing.assert_array_less(np.abs(x_t.mean(0) - mean),
                                 5 * np.sqrt(var / n))
    np.testing.assert_array_less(np.abs(x_t.var(0) - var),
                                 5 * var * np.sqrt(2.0 / n))

  def test_ddim_with_oracle_denoiser_recovers_x0(self):
    x0 = jax.random.normal(jax.random.key(1), (3, 4, 5))
    noise = jax.random.normal(jax.random.key(2), x0.shape)
    for steps in (1, 7, 250):
      out = jax.jit(lambda z, s=steps: schedule.ddim_sample(
          lambda x, t: x0, z, ABAR, s))(noise)
      np.testing.assert_allclose(out, x0, atol=1e-5)

  def test_ddim_step_keeps_the_implied_noise(self):
    # Deterministic DDIM: x_s has the same x0 and eps as x_t (DDIM Eq. 12).
    x0, eps = jnp.ones((2, 3)), jnp.full((2, 3), -0.5)
    a_t, a_s = ABAR[600], ABAR[300]
    x_t = np.sqrt(a_t) * x0 + np.sqrt(1 - a_t) * eps
    np.testing.assert_allclose(schedule.ddim_step(x_t, x0, a_t, a_s),
                               np.sqrt(a_s) * x0 + np.sqrt(1 - a_s) * eps,
                               rtol=1e-5)

  def test_timesteps(self):
    ts = schedule.ddim_timesteps(1000, 250)
    np.testing.assert_array_equal(ts, np.arange(0, 1000, 4))
    self.assertLen(np.unique(schedule.ddim_timesteps(1000, 333)), 333)
    with self.assertRaisesRegex(ValueError, "sample_steps=0"):
      schedule.ddim_timesteps(1000, 0)

  def test_guidance(self):
    cond, uncond = jnp.asarray([1.0, 2.0]), jnp.asarray([0.5, -1.0])
    np.testing.assert_allclose(schedule.guide(cond, uncond, 1.0), cond)
    np.testing.assert_allclose(schedule.guide(cond, uncond, 0.0), uncond)
    # Guiding x0 equals guiding eps at the same x_t.
    a, x_t = ABAR[500], jnp.asarray([0.3, 0.1])
    eps = lambda x0: (x_t - np.sqrt(a) * x0) / np.sqrt(1 - a)
    np.testing.assert_allclose(eps(schedule.guide(cond, uncond, 2.5)),
                               schedule.guide(eps(cond), eps(uncond), 2.5),
                               rtol=1e-5)


if __name__ == "__main__":
  absltest.main()
