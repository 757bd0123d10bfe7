"""Reconstruction losses and PSNR as the official code computes them.

`docs/faithfulness.md#loss-and-psnr`: per-instance MSE is the mean over
every element of the instance; the loss is the mean over instances; PSNR is
the mean over instances of -10 log10(MSE_i) with peak 1.0, on unclamped
predictions.
"""

import jax
import jax.numpy as jnp


def per_instance_mse(pred: jax.Array, target: jax.Array) -> jax.Array:
  """[B, ...] x [B, ...] -> [B] mean squared error of each instance."""
  err = jnp.square(pred - target).reshape(pred.shape[0], -1)
  return jnp.mean(err, axis=1)


def psnr_from_mse(mse: jax.Array) -> jax.Array:
  """Peak-1 PSNR in dB; infinite for a perfect reconstruction."""
  return -10.0 * jnp.log10(mse)


def mse_and_psnr(pred: jax.Array, target: jax.Array):
  """Returns (loss, psnr): means over the batch of per-instance MSE / PSNR."""
  mse = per_instance_mse(pred, target)
  return jnp.mean(mse), jnp.mean(psnr_from_mse(mse))
