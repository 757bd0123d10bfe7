"""Coordinate grids and their training-time sampling
(`docs/faithfulness.md#coordinates`)."""

import jax
import jax.numpy as jnp
import numpy as np


def grid(shape: tuple[int, ...], lo: float = -1.0, hi: float = 1.0,
         upsample: int = 1) -> np.ndarray:
  """Pixel-centre coordinates of a grid, `ij` indexing.

  c_i = lo + (hi - lo) * (i + 0.5) / N on every axis of length N (times
  `upsample`, which renders the continuous representation more densely).

  Args:
    shape: spatial shape, e.g. (H, W).
    lo: coordinate of the grid's lower edge.
    hi: coordinate of the grid's upper edge.
    upsample: integer factor applied to every axis.

  Returns:
    [*shape * upsample, len(shape)] float32 coordinates; the last axis is
    (row, col) for images.
  """
  axes = []
  for n in shape:
    n = n * upsample
    axes.append(lo + (hi - lo) * (np.arange(n, dtype=np.float64) + 0.5) / n)
  mesh = np.meshgrid(*axes, indexing="ij")
  return np.stack(mesh, axis=-1).astype(np.float32)


def jitter(rng: jax.Array, coords: jax.Array, batch_size: int,
           cell: float) -> jax.Array:
  """Per-instance uniform noise of +-cell/2 on every coordinate.

  The official "coordwise" noise: (U[0, 1) - 0.5) * range / H on both axes.

  Args:
    rng: PRNG key.
    coords: [N, D] shared coordinates.
    batch_size: B.
    cell: the size of one pixel in coordinate units, (hi - lo) / H.

  Returns:
    [B, N, D] jittered coordinates.
  """
  noise = jax.random.uniform(rng, (batch_size, *coords.shape))
  return coords + (noise - 0.5) * cell


def subsample_indices(rng: jax.Array, batch_size: int, n: int,
                      ratio: float) -> jax.Array:
  """Per-instance random subsets of floor(ratio * n) of n coordinates.

  Returns:
    [B, M] int32 indices, distinct within each row.
  """
  m = int(n * ratio)
  keys = jax.random.split(rng, batch_size)
  return jax.vmap(lambda k: jax.random.permutation(k, n)[:m])(keys)


def subsample(rng: jax.Array, coords: jax.Array, targets: jax.Array,
              ratio: float):
  """The same random floor(ratio * N) of each instance's coords [N, D]
  (shared) or [B, N, D] and targets [B, N, C]; returns ([B, M, D],
  [B, M, C])."""
  b, n = targets.shape[:2]
  indices = subsample_indices(rng, b, n, ratio)
  if coords.ndim == 2:
    coords = coords[indices]
  else:
    coords = jnp.take_along_axis(coords, indices[..., None], axis=1)
  return coords, jnp.take_along_axis(targets, indices[..., None], axis=1)
