"""The diffusion process: DDPM's forward process and loss, DDIM sampling.

Ho et al. 2020 (DDPM) with the linear schedule beta_t = 1e-4 .. 0.02 over
T = 1000 steps, as LA-GINR App. A.3; Song et al. 2021 (DDIM) for sampling;
Ho & Salimans 2022 for classifier-free guidance. With abar_t = prod_{s<=t}
(1 - beta_s) (t = 0 .. T-1, so x_t is one step noisier than x_{t-1}):

  q(x_t | x_0)   = N(sqrt(abar_t) x_0, (1 - abar_t) I)           (DDPM Eq. 4)
  x0-prediction: the denoiser f(x_t, t, y) predicts x_0 (App. A.3) and the
                 loss is E ||f(x_t, t, y) - x_0||^2
  DDIM (eta=0):  eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t),
                 x_s = sqrt(abar_s) x0 + sqrt(1 - abar_s) eps    (DDIM Eq. 12)
                 with abar_{-1} = 1, so the last step returns x0.
  guidance:      x0 = x0(y = null) + w (x0(y) - x0(y = null)), w = 1 the
                 conditional model. On x0 or on eps this is the same: eps is
                 affine in x0 with coefficients that do not depend on y, and
                 the weights (1 - w, w) sum to one.
"""

import jax
import jax.numpy as jnp
import numpy as np


def linear_betas(num_steps: int = 1000, start: float = 1e-4,
                 end: float = 0.02) -> np.ndarray:
  """DDPM's linear schedule, float64 [T]."""
  return np.linspace(start, end, num_steps, dtype=np.float64)


def alphas_cumprod(betas: np.ndarray) -> np.ndarray:
  """abar_t = prod_{s<=t} (1 - beta_s), float64 [T]."""
  return np.cumprod(1.0 - betas)


def q_sample(x0: jax.Array, t: jax.Array, noise: jax.Array,
             abar: jax.Array) -> jax.Array:
  """A draw of x_t ~ q(x_t | x_0).

  Args:
    x0: clean data [B, ...].
    t: timesteps [B], int in [0, T).
    noise: standard normal, like x0.
    abar: alphas_cumprod [T].
  """
  a = abar[t].reshape(-1, *[1] * (x0.ndim - 1)).astype(x0.dtype)
  return jnp.sqrt(a) * x0 + jnp.sqrt(1.0 - a) * noise


def guide(x0_cond: jax.Array, x0_uncond: jax.Array, scale: float):
  """Classifier-free guidance on the x0 predictions (module doc)."""
  return x0_uncond + scale * (x0_cond - x0_uncond)


def ddim_timesteps(num_steps: int, sample_steps: int) -> np.ndarray:
  """The increasing timesteps DDIM visits ("uniform" skipping): [S]."""
  if not 1 <= sample_steps <= num_steps:
    raise ValueError(f"sample_steps={sample_steps}: use 1 .. {num_steps}.")
  return (np.arange(sample_steps) * num_steps) // sample_steps


def ddim_step(x_t: jax.Array, x0: jax.Array, abar_t: jax.Array,
              abar_s: jax.Array) -> jax.Array:
  """Deterministic DDIM update from x_t to x_s (s < t) given predicted x0.

  abar_t and abar_s are scalars; abar_s = 1 at the end of sampling.
  """
  eps = (x_t - jnp.sqrt(abar_t) * x0) / jnp.sqrt(1.0 - abar_t)
  return jnp.sqrt(abar_s) * x0 + jnp.sqrt(1.0 - abar_s) * eps


def ddim_sample(denoise, noise: jax.Array, abar: np.ndarray,
                sample_steps: int) -> jax.Array:
  """DDIM (eta = 0) from x_T = noise to x_0.

  Args:
    denoise: (x_t [B, ...], t [B] int32) -> predicted x0 [B, ...], already
      guided if guidance is wanted.
    noise: x_T [B, ...], standard normal.
    abar: alphas_cumprod [T] (numpy).
    sample_steps: S, the number of denoiser calls.

  Returns:
    x_0 [B, ...].
  """
  ts = ddim_timesteps(len(abar), sample_steps)
  abar_t = jnp.asarray(abar[ts], noise.dtype)
  # The step after ts[0] is the clean data: abar = 1.
  abar_s = jnp.asarray(np.concatenate([[1.0], abar[ts[:-1]]]), noise.dtype)
  ts = jnp.asarray(ts, jnp.int32)

  def body(i, x):
    k = sample_steps - 1 - i  # from the noisiest step
    t = jnp.full((x.shape[0],), ts[k], jnp.int32)
    return ddim_step(x, denoise(x, t), abar_t[k], abar_s[k])

  return jax.lax.fori_loop(0, sample_steps, body, noise)
