"""Evaluation: PSNR on every coordinate of each test instance, the
mean-colour baseline, and the artefacts -- PNG grids of reconstructions at
1x and at denser coordinate grids (the representation's super-resolution),
of novel views, and WAV files with waveform plots of audio."""

import dataclasses
import functools
import os
from typing import Callable, Iterable

from absl import logging
import jax
from jax.experimental import multihost_utils
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont
import soundfile

from ginr_jax import coords as coords_lib
from ginr_jax import losses


def render(decode: Callable, latents, shape: tuple[int, ...], upsample: int = 1,
           chunk: int = 65536, coord_range: float = 1.0) -> jax.Array:
  """Evaluates every instance on the full pixel grid, `chunk` coords at once.

  Args:
    decode: (latents, coords [n, D]) -> [B, n, output_dim], the model's.
    latents: the instances' latents (`encode`).
    shape: the spatial shape, (H, W) of images or (T,) of audio.
    upsample: render on a grid `upsample` times denser on every axis.
    chunk: coordinates per evaluation, bounding activation memory.
    coord_range: the grid spans [-coord_range, coord_range].

  Returns:
    [B, *(upsample * spatial), output_dim] unclamped predictions.
  """
  grid = coords_lib.grid(shape, -coord_range, coord_range, upsample)
  pred = predict_chunked(lambda c: decode(latents, c),
                         jnp.asarray(grid.reshape(-1, grid.shape[-1])), chunk)
  return pred.reshape(pred.shape[0], *grid.shape[:-1], -1)


def predict_chunked(predict: Callable, coords: jax.Array,
                    chunk: int) -> jax.Array:
  """`predict` over coordinates `chunk` at a time (lax.map).

  Args:
    predict: coords [n, D] or [B, n, D] -> [B, n, C].
    coords: [N, D] shared by the batch, or [B, N, D] per instance (rays).
    chunk: coordinates per call.

  Returns:
    [B, N, C].
  """
  shared = coords.ndim == 2
  n = coords.shape[-2]
  chunk = min(chunk, n)
  num_chunks = -(-n // chunk)
  pad = [(0, 0)] * coords.ndim
  pad[-2] = (0, num_chunks * chunk - n)
  coords = jnp.pad(coords, pad)
  if shared:
    chunks = coords.reshape(num_chunks, chunk, -1)
  else:
    chunks = jnp.moveaxis(
        coords.reshape(coords.shape[0], num_chunks, chunk, -1), 1, 0)
  pred = jax.lax.map(predict, chunks)  # [K, B, c, C]
  pred = jnp.swapaxes(pred, 0, 1)
  return pred.reshape(pred.shape[0], num_chunks * chunk, -1)[:, :n]


def reconstruction_metrics(pred: jax.Array,
                           images: jax.Array) -> dict[str, jax.Array]:
  """Per-instance PSNR of `pred` and of the mean-colour (mean-value)
  baseline, [B] each, for signals [B, *spatial, C]."""
  psnr = losses.psnr_from_mse(losses.per_instance_mse(pred, images))
  spatial_axes = tuple(range(1, images.ndim - 1))
  mean_colour = jnp.mean(images, axis=spatial_axes, keepdims=True)
  baseline = losses.psnr_from_mse(
      losses.per_instance_mse(jnp.broadcast_to(mean_colour, images.shape),
                              images))
  return {"psnr": psnr, "baseline_psnr": baseline}


def evaluate(eval_fn: Callable, params,
             batches: Iterable[dict]) -> dict[str, float]:
  """Means of per-instance metrics over every (unmasked) test instance.

  Args:
    eval_fn: (params, batch) -> {name: [B] per-instance values}, with at
      least "psnr" and "baseline_psnr".
    params: model parameters.
    batches: global batches with a "mask".

  Returns:
    {"eval/<name>": mean} for every metric, and "eval/num_examples".
  """
  # Global arrays, gathered on every process (several hosts: each holds only
  # its devices' shards).
  fetch = functools.partial(multihost_utils.process_allgather, tiled=True)
  totals, count = {}, 0
  for i, batch in enumerate(batches):
    mask = batch.pop("mask")
    metrics = fetch(eval_fn(params, batch))
    mask = np.asarray(fetch(mask))
    for name, values in metrics.items():
      totals[name] = totals.get(name, 0.0) + float(np.sum(values[mask]))
    count += int(mask.sum())
    if (i + 1) % 100 == 0:
      logging.info("eval: %d instances, PSNR so far %.2f dB", count,
                   totals["psnr"] / count)
  scalars = {f"eval/{name}": total / count for name, total in totals.items()}
  scalars["eval/num_examples"] = count
  return scalars


@dataclasses.dataclass(frozen=True)
class Output:
  """Where a task's artefacts of training step `step` go: files under
  `directory` (process 0 writes them) and, with a `writer`
  (`utils.MetricWriter`), TensorBoard."""

  directory: str
  step: int
  writer: object = None

  def images(self, images: dict[str, tuple[str, np.ndarray]]):
    """{file name: (TensorBoard tag, uint8 image [H, W, C])}."""
    if jax.process_index() == 0:
      for name, (_, image) in images.items():
        save_image(os.path.join(self.directory, name), image)
    if self.writer:
      self.writer.write_images(self.step, dict(images.values()))

  def audio(self, name: str, targets: np.ndarray, predicted: np.ndarray,
            sample_rate: int):
    """Clips [n, T, 1]: `save_audio`'s files NAME_*, TensorBoard's
    audio/<i>/target and audio/<i>/reconstruction."""
    if jax.process_index() == 0:
      save_audio(os.path.join(self.directory, name), targets, predicted,
                 sample_rate)
    if self.writer:
      clips = {}
      for i, (target, pred) in enumerate(zip(targets, predicted)):
        clips[f"audio/{i}/target"] = target[:, 0]
        clips[f"audio/{i}/reconstruction"] = pred[:, 0]
      self.writer.write_audio(self.step, clips, sample_rate)


def to_uint8(images: np.ndarray) -> np.ndarray:
  return (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def grid_canvas(rows: list[np.ndarray], pad: int = 2,
                labels: tuple[str, ...] = ()) -> np.ndarray:
  """Rows of equally-sized images [n, H, W, C] in [0, 1] as one uint8 image
  [H', W', C] on white, each row's label (if any) left of it."""
  rows = [to_uint8(np.asarray(r)) for r in rows]
  n, h, w, c = rows[0].shape
  font = ImageFont.load_default()
  left = max((int(font.getlength(l)) + 2 * pad for l in labels), default=0)
  canvas = np.full((len(rows) * (h + pad) + pad, left + n * (w + pad) + pad, c),
                   255, np.uint8)
  for i, row in enumerate(rows):
    for j, img in enumerate(row):
      y, x = pad + i * (h + pad), left + pad + j * (w + pad)
      canvas[y:y + h, x:x + w] = img
  if not labels:
    return canvas
  image = Image.fromarray(canvas.squeeze(-1) if c == 1 else canvas)
  draw = ImageDraw.Draw(image)
  for i, label in enumerate(labels):
    draw.text((pad, pad + i * (h + pad) + h // 2), label, font=font,
              fill=0 if c == 1 else (0, 0, 0), anchor="lm")
  return np.asarray(image).reshape(canvas.shape)


def save_image(path: str, image: np.ndarray):
  """Writes a uint8 image [H, W, C] as a PNG, creating its folder."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(
      path)


def save_grid(path: str, rows: list[np.ndarray], pad: int = 2):
  """Writes rows of equally-sized images [n, H, W, C] in [0, 1] as one PNG."""
  save_image(path, grid_canvas(rows, pad))


def upscale_nearest(images: np.ndarray, factor: int) -> np.ndarray:
  """[n, H, W, C] -> [n, factor*H, factor*W, C], for showing targets."""
  return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)


def views_grid(sample: dict[str, np.ndarray],
               predicted: np.ndarray) -> np.ndarray:
  """One column per object: rows of its support views, then each query
  view's target and prediction (IPC Fig. 6, LA-GINR Fig. 4b), labelled."""
  support, query = sample["support_image"], sample["query_image"]
  rows = [support[:, i] for i in range(support.shape[1])]
  labels = [f"support {i + 1}" for i in range(support.shape[1])]
  for i in range(query.shape[1]):
    rows += [query[:, i], predicted[:, i]]
    labels += ["target", "rendered"]
  return grid_canvas(rows, labels=tuple(labels))


def write_wav(path: str, clip: np.ndarray, sample_rate: int):
  """A clip [T, 1] as 16-bit PCM, clipped to [-1, 1]."""
  soundfile.write(path, np.clip(np.asarray(clip)[:, 0], -1.0, 1.0), sample_rate,
                  subtype="PCM_16")


def save_audio(prefix: str, targets: np.ndarray, predicted: np.ndarray,
               sample_rate: int = 16_000, plot_samples: int = 800):
  """Clips [n, T, 1]: PREFIX_<i>_target.wav / _recon.wav (16-bit PCM, the
  prediction clipped to [-1, 1]) and PREFIX.png, each target over its
  reconstruction (the whole clip, and its first `plot_samples` samples)."""
  os.makedirs(os.path.dirname(prefix), exist_ok=True)
  for i, (target, pred) in enumerate(zip(targets, predicted)):
    for name, clip in (("target", target), ("recon", pred)):
      write_wav(f"{prefix}_{i}_{name}.wav", clip, sample_rate)
  n = len(targets)
  fig, axes = plt.subplots(n, 2, figsize=(10, 1.6 * n), squeeze=False)
  t = np.arange(targets.shape[1]) / sample_rate
  for i in range(n):
    for ax, stop in zip(axes[i], (targets.shape[1], plot_samples)):
      ax.plot(t[:stop], targets[i, :stop, 0], lw=0.6, label="target")
      ax.plot(t[:stop], predicted[i, :stop, 0], lw=0.6, label="recon")
      ax.set_ylim(-1, 1)
  axes[0, 0].legend(fontsize=7, loc="upper right")
  axes[-1, 0].set_xlabel("seconds")
  axes[-1, 1].set_xlabel(f"seconds (first {plot_samples} samples)")
  fig.tight_layout()
  fig.savefig(prefix + ".png", dpi=100)
  plt.close(fig)
