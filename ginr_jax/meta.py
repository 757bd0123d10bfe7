"""Optimization-based meta-learning: inner loops over per-instance latents.

IPC paper Algorithm 1 (§3.3) and `docs/faithfulness.md#meta-learning`. An inner
loop adapts one instance's latents (IPC's V, or Learned Init's weights) by
plain SGD with the norm-scaled step of the official code,

    v <- v - lr * ||v||_F^2 * grad_v L(v)        (per leaf, per instance),

which makes the step invariant to the scale of v under weight normalisation.
The loop is a `lax.scan` of `jax.grad`; map it over instances with
`jax.vmap`. Differentiating through it gives the second-order meta-gradient
(the official training); `first_order=True` treats each update as a constant
(the gradient then flows only through the final latents, so d v_K / d v_0 is
the identity). `remat=True` recomputes each inner step in the backward pass
instead of storing its activations.
"""

from typing import Any, Callable

import jax
import jax.numpy as jnp


def sgd_step(loss_fn: Callable[[Any], jax.Array], latents, lr: float,
             norm_scaled: bool = True):
  """One inner step; returns (new latents, loss before the step)."""
  loss, grads = jax.value_and_grad(loss_fn)(latents)

  def update(v, g):
    scale = jnp.sum(jnp.square(v)) if norm_scaled else 1.0
    return lr * scale * g

  return jax.tree.map(update, latents, grads), loss


def inner_loop(loss_fn: Callable[[Any], jax.Array], latents, *, steps: int,
               lr: float, norm_scaled: bool = True, first_order: bool = False,
               remat: bool = False):
  """Adapts one instance's latents by `steps` SGD steps on `loss_fn`.

  Args:
    loss_fn: latents -> the instance's scalar loss.
    latents: a pytree (its leaves are scaled by their own norms).
    steps: number of inner steps (0 returns the latents unchanged).
    lr: the inner learning rate epsilon.
    norm_scaled: scale each leaf's step by its squared Frobenius norm.
    first_order: stop gradients through the updates (first-order MAML).
    remat: rematerialise each step in the backward pass.

  Returns:
    (adapted latents, losses [steps] before each step).
  """

  def body(v, _):
    updates, loss = sgd_step(loss_fn, v, lr, norm_scaled)
    if first_order:
      updates = jax.lax.stop_gradient(updates)
    return jax.tree.map(jnp.subtract, v, updates), loss

  if remat:
    body = jax.checkpoint(body)
  return jax.lax.scan(body, latents, None, length=steps)


def adapt_batch(decode: Callable, latents, coords: jax.Array,
                targets: jax.Array, *, steps: int, lr: float,
                norm_scaled: bool = True, first_order: bool = False,
                remat: bool = False):
  """Runs every instance's inner loop on its own MSE, vmapped over the batch.

  Args:
    decode: (latents with a batch axis of 1, coords) -> [1, N, C]
      predictions; the model's decode with its outer parameters bound.
    latents: batch-leading latents pytree [B, ...].
    coords: [N, D] shared or [B, N, D] per instance.
    targets: [B, N, C].
    steps, lr, norm_scaled, first_order, remat: as `inner_loop`.

  Returns:
    (adapted latents [B, ...], per-instance MSE before each step [B, steps]).
  """

  def one(v, c, t):

    def mse(u):
      pred = decode(jax.tree.map(lambda x: x[None], u), c)[0]
      return jnp.mean(jnp.square(pred - t))

    return inner_loop(mse, v, steps=steps, lr=lr, norm_scaled=norm_scaled,
                      first_order=first_order, remat=remat)

  coords_axis = 0 if coords.ndim == 3 else None
  return jax.vmap(one, in_axes=(0, coords_axis, 0))(latents, coords, targets)
