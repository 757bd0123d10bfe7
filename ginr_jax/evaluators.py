"""Image reconstruction evaluation: PSNR on the full grid of every test
instance, the mean-colour baseline, and PNG grids of reconstructions at 1x
and at denser coordinate grids (the representation's super-resolution)."""

import functools
import os
from typing import Callable, Iterable

from absl import logging
import jax
from jax.experimental import multihost_utils
import jax.numpy as jnp
import numpy as np
from PIL import Image

from ginr_jax import coords as coords_lib
from ginr_jax import losses


def render(decode: Callable, latents, shape: tuple[int, ...],
           upsample: int = 1, chunk: int = 65536) -> jax.Array:
  """Evaluates every instance on the full pixel grid, `chunk` coords at once.

  Args:
    decode: (latents, coords [n, D]) -> [B, n, output_dim], the model's.
    latents: the instances' latents (`encode`).
    shape: the spatial shape, (H, W) of images or (T,) of audio.
    upsample: render on a grid `upsample` times denser on every axis.
    chunk: coordinates per evaluation, bounding activation memory.

  Returns:
    [B, *(upsample * spatial), output_dim] unclamped predictions.
  """
  grid = coords_lib.grid(shape, upsample=upsample)
  out_shape = grid.shape[:-1]
  flat = grid.reshape(-1, grid.shape[-1])
  n = flat.shape[0]
  chunk = min(chunk, n)
  num_chunks = -(-n // chunk)
  flat = np.concatenate(
      [flat, np.zeros((num_chunks * chunk - n, flat.shape[1]), np.float32)])
  pred = jax.lax.map(lambda c: decode(latents, c),
                     jnp.asarray(flat).reshape(num_chunks, chunk, -1))
  pred = jnp.swapaxes(pred, 0, 1).reshape(pred.shape[1], num_chunks * chunk,
                                          -1)[:, :n]
  return pred.reshape(pred.shape[0], *out_shape, -1)


def reconstruction_metrics(pred: jax.Array, images: jax.Array
                           ) -> dict[str, jax.Array]:
  """Per-instance PSNR of `pred` and of the mean-colour (mean-value)
  baseline, [B] each, for signals [B, *spatial, C]."""
  psnr = losses.psnr_from_mse(losses.per_instance_mse(pred, images))
  spatial_axes = tuple(range(1, images.ndim - 1))
  mean_colour = jnp.mean(images, axis=spatial_axes, keepdims=True)
  baseline = losses.psnr_from_mse(losses.per_instance_mse(
      jnp.broadcast_to(mean_colour, images.shape), images))
  return {"psnr": psnr, "baseline_psnr": baseline}


def evaluate(eval_fn: Callable, params, batches: Iterable[dict]
             ) -> dict[str, float]:
  """Means of per-instance metrics over every (unmasked) test instance.

  Args:
    eval_fn: (params, images) -> {name: [B] per-instance values}, with at
      least "psnr" and "baseline_psnr".
    params: model parameters.
    batches: global batches with "image" and "mask".

  Returns:
    {"eval/<name>": mean} for every metric, and "eval/num_examples".
  """
  # Global arrays, gathered on every process (several hosts: each holds only
  # its devices' shards).
  fetch = functools.partial(multihost_utils.process_allgather, tiled=True)
  totals, count = {}, 0
  for i, batch in enumerate(batches):
    metrics = fetch(eval_fn(params, batch["image"]))
    mask = np.asarray(fetch(batch["mask"]))
    for name, values in metrics.items():
      totals[name] = totals.get(name, 0.0) + float(np.sum(values[mask]))
    count += int(mask.sum())
    if (i + 1) % 100 == 0:
      logging.info("eval: %d images, PSNR so far %.2f dB", count,
                   totals["psnr"] / count)
  scalars = {f"eval/{name}": total / count for name, total in totals.items()}
  scalars["eval/num_examples"] = count
  return scalars


def to_uint8(images: np.ndarray) -> np.ndarray:
  return (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_grid(path: str, rows: list[np.ndarray], pad: int = 2):
  """Writes rows of equally-sized images [n, H, W, C] in [0, 1] as one PNG."""
  rows = [to_uint8(np.asarray(r)) for r in rows]
  n, h, w, c = rows[0].shape
  canvas = np.full((len(rows) * (h + pad) + pad, n * (w + pad) + pad, c), 255,
                   np.uint8)
  for i, row in enumerate(rows):
    for j, img in enumerate(row):
      y, x = pad + i * (h + pad), pad + j * (w + pad)
      canvas[y:y + h, x:x + w] = img
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(canvas.squeeze(-1) if c == 1 else canvas).save(path)


def upscale_nearest(images: np.ndarray, factor: int) -> np.ndarray:
  """[n, H, W, C] -> [n, factor*H, factor*W, C], for showing targets."""
  return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)
