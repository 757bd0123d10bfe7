"""Signals on a grid: images and audio (`docs/faithfulness.md#coordinates`).

Coordinates are pixel / sample centres in [-coord_range, coord_range] on
every axis: 1 for images and 1 s of audio, 3 for 3 s of audio (2 units per
second either way). Training may jitter them by +-1/2 cell (ImageNette) and
supervise a random fraction of them per instance (FFHQ 512/1024, 3 s audio).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import coords as coords_lib


@dataclasses.dataclass(frozen=True)
class Signal:
  """Images [B, H, W, C] or audio [B, T, C] under `key` in the batch.

  Attributes:
    key: the batch entry ("image" or "audio").
    shape: one signal's [*spatial, C].
    coord_range: coordinates span [-coord_range, coord_range].
    jitter: per-instance +-1/2-cell coordinate noise in training.
    subsample: fraction of coordinates supervised per instance in training.
  """

  key: str
  shape: tuple[int, ...]
  coord_range: float = 1.0
  jitter: bool = False
  subsample: float = 1.0

  @property
  def spatial(self) -> tuple[int, ...]:
    return tuple(self.shape[:-1])

  def grid(self, spatial=None, upsample: int = 1) -> np.ndarray:
    """[*spatial * upsample, D] cell-centre coordinates."""
    return coords_lib.grid(spatial or self.spatial, -self.coord_range,
                           self.coord_range, upsample)

  def flat_grid(self, spatial=None) -> jax.Array:
    spatial = spatial or self.spatial
    return jnp.asarray(self.grid(spatial).reshape(-1, len(spatial)))

  def init_inputs(self):
    return (jnp.zeros((1, *self.shape)),
            jnp.zeros((1, len(self.spatial))))

  def encoder_input(self, batch) -> jax.Array:
    return batch[self.key]

  def train_inputs(self, rng: jax.Array, batch, step=None):
    """Coordinates [N, D] or [B, M, D] (jittered and/or subsampled) and the
    targets [B, M, C] they supervise."""
    del step
    signals = batch[self.key]
    b, *spatial, c = signals.shape
    rng_jitter, rng_subsample = jax.random.split(rng)
    grid = self.flat_grid(tuple(spatial))
    coords, targets = grid, signals.reshape(b, -1, c)
    if self.jitter:
      coords = coords_lib.jitter(rng_jitter, grid, b,
                                 cell=2.0 * self.coord_range / spatial[0])
    if self.subsample < 1.0:
      indices = coords_lib.subsample_indices(rng_subsample, b, grid.shape[0],
                                             self.subsample)
      coords = (coords[indices] if coords.ndim == 2 else
                jnp.take_along_axis(coords, indices[..., None], axis=1))
      targets = jnp.take_along_axis(targets, indices[..., None], axis=1)
    return coords, targets

  def eval_inputs(self, batch):
    """The full grid [N, D] and every sample [B, N, C]."""
    signals = batch[self.key]
    b, *spatial, c = signals.shape
    return self.flat_grid(tuple(spatial)), signals.reshape(b, -1, c)

  def predict(self, decode, latents, coords, rng=None):
    del rng
    return decode(latents, coords)

  def dummy_batch(self, batch_size: int, rng: np.random.Generator):
    return {self.key: rng.uniform(size=(batch_size, *self.shape)).astype(
        np.float32)}
