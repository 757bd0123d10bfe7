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
from ginr_jax import evaluators
from ginr_jax.datasets import librispeech


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
    return (jnp.zeros((1, *self.shape)), jnp.zeros((1, len(self.spatial))))

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
      coords, targets = coords_lib.subsample(rng_subsample, coords, targets,
                                             self.subsample)
    return coords, targets

  def eval_inputs(self, batch):
    """The full grid [N, D] and every sample [B, N, C]."""
    signals = batch[self.key]
    b, *spatial, c = signals.shape
    return self.flat_grid(tuple(spatial)), signals.reshape(b, -1, c)

  def predict(self, decode, latents, coords, rng=None):
    del rng
    return decode(latents, coords)

  def write_artefacts(self, sample, encode, predict, out, *, upsample=(1,),
                      inner_steps: int = 0):
    """Images: grids of the targets over their reconstructions at each
    `upsample` factor, and over the predictions after 0, 1, ...,
    `inner_steps` inner steps (IPC Fig. 7). Audio: the clips and their
    reconstructions (`evaluators.save_audio`).

    Args:
      sample: test instances {key: [n, *spatial, C]}.
      encode: (inner_steps=None) -> the sample's latents.
      predict: (latents, coords [N, D]) -> predictions [n, N, C].
      out: an `evaluators.Output`.
      upsample, inner_steps: as above.
    """
    signals = sample[self.key]
    spatial = signals.shape[1:-1]

    def reconstruct(latents, factor=1):
      grid = self.grid(spatial, factor)
      pred = predict(latents, grid.reshape(-1, len(spatial)))
      return pred.reshape(len(signals), *grid.shape[:-1], -1)

    latents = encode()
    if self.key == "audio":
      out.audio(f"audio_{out.step:08d}", signals, reconstruct(latents),
                librispeech.SAMPLE_RATE)
      return
    grids = {}  # file name: (TensorBoard tag, image)
    for factor in upsample:
      grids[f"recon_{out.step:08d}_x{factor}.png"] = (
          f"images/recon_x{factor}",
          evaluators.grid_canvas([
              evaluators.upscale_nearest(signals, factor),
              reconstruct(latents, factor)
          ], labels=("target", f"reconstruction x{factor}")))
    if inner_steps:
      grids[f"inner_{out.step:08d}.png"] = (
          "images/inner_steps",
          evaluators.grid_canvas([
              signals, *(reconstruct(encode(k)) for k in range(inner_steps + 1))
          ], labels=("target", *(f"{k} inner step{'' if k == 1 else 's'}"
                                 for k in range(inner_steps + 1)))))
    out.images(grids)

  def dummy_batch(self, batch_size: int, rng: np.random.Generator):
    return {
        self.key: rng.uniform(size=(batch_size, *self.shape)).astype(np.float32)
    }
