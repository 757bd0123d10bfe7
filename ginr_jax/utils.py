"""Small helpers of the trainers: metric writing, progress, tree norms,
parameter tables, compiled memory."""

import json
import os
import time

from clu import parameter_overview
import jax
from jax.experimental import multihost_utils
import jax.numpy as jnp
import numpy as np
import tensorboardX


class MetricWriter:
  """Scalars to `workdir/metrics.jsonl` and TensorBoard events (process 0).

  Each JSON line is {"step": int, "<group>/<name>": float, ...}. TensorBoard
  events (those scalars, evaluation images and audio) go to
  `workdir/tensorboard` through tensorboardX (no TensorFlow).
  Evaluations of a checkpoint (`--mode=eval`) write to other names
  (`filename`, `tensorboard`), apart from the training curve.
  """

  def __init__(self, workdir: str, filename: str = "metrics.jsonl",
               tensorboard: str = "tensorboard"):
    self._active = jax.process_index() == 0
    self._path = os.path.join(workdir, filename)
    self._tb = None
    if self._active:
      self._tb = tensorboardX.SummaryWriter(os.path.join(workdir, tensorboard))

  def drop_after(self, step: int):
    """Forgets lines past `step`: an interrupted run resumes from there."""
    if not self._active or not os.path.exists(self._path):
      return
    rows = [r for r in read_jsonl(self._path) if r["step"] <= step]
    # Replaced at once, so that a kill now cannot lose the earlier lines.
    with open(self._path + ".tmp", "w") as f:
      f.writelines(json.dumps(r) + "\n" for r in rows)
    os.replace(self._path + ".tmp", self._path)

  def logged(self, step: int, prefix: str) -> bool:
    """Whether a key starting with `prefix` was written at `step` (process
    0's answer, on every process)."""
    found = self._active and any(
        r["step"] == step and any(k.startswith(prefix)
                                  for k in r)
        for r in read_jsonl(self._path))
    if jax.process_count() > 1:
      found = multihost_utils.broadcast_one_to_all(np.array(found))
    return bool(found)

  def write_scalars(self, step: int, scalars: dict[str, float]):
    if not self._active:
      return
    scalars = {k: float(v) for k, v in scalars.items()}
    with open(self._path, "a") as f:
      f.write(json.dumps({"step": step, **scalars}) + "\n")
    for k, v in scalars.items():
      self._tb.add_scalar(k, v, step)
    self._tb.flush()

  def write_images(self, step: int, images: dict[str, np.ndarray]):
    """TensorBoard images: {tag: uint8 [H, W, C]}."""
    if not self._active:
      return
    for tag, image in images.items():
      self._tb.add_image(tag, image, step, dataformats="HWC")
    self._tb.flush()

  def write_audio(self, step: int, clips: dict[str, np.ndarray],
                  sample_rate: int):
    """TensorBoard audio: {tag: [T] samples in [-1, 1]}."""
    if not self._active:
      return
    for tag, clip in clips.items():
      self._tb.add_audio(tag, np.clip(clip, -1.0, 1.0), step,
                         sample_rate=sample_rate)
    self._tb.flush()

  def close(self):
    if self._tb is not None:
      self._tb.close()


def read_jsonl(path: str) -> list[dict]:
  """The rows of a JSON-lines file ([] if it is missing); a line cut short
  by a kill is skipped."""
  if not os.path.exists(path):
    return []
  rows = []
  with open(path) as f:
    for line in f:
      try:
        rows.append(json.loads(line))
      except json.JSONDecodeError:
        continue
  return rows


def read_metrics(workdir: str) -> list[dict[str, float]]:
  return read_jsonl(os.path.join(workdir, "metrics.jsonl"))


class Progress:
  """Steps per second and ETA over the steps run in this process."""

  def __init__(self, first_step: int, total_steps: int):
    self._first, self._total = first_step, total_steps
    self._start = time.monotonic()
    self._last_step, self._last_time = first_step, self._start

  def rate(self, step: int) -> float:
    """Steps/s since the previous call (or since the start, on the first)."""
    now = time.monotonic()
    rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_step, self._last_time = step, now
    return rate

  def line(self, step: int, rate: float, scalars: dict[str, float]) -> str:
    elapsed = time.monotonic() - self._start
    done = step - self._first
    eta = (self._total - step) * elapsed / max(done, 1)
    shown = " ".join(f"{k.split('/')[-1]} {v:.4g}" for k, v in scalars.items())
    return (f"step {step}/{self._total} ({100 * step / self._total:.1f}%) | "
            f"{rate:.2f} steps/s | ETA {format_seconds(eta)} | {shown}")


def format_seconds(s: float) -> str:
  s = int(round(s))
  h, m = s // 3600, (s % 3600) // 60
  return f"{h}h{m:02d}m{s % 60:02d}s" if h else f"{m}m{s % 60:02d}s"


def l2_norm(tree) -> jax.Array:
  return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)))


def count_params(tree) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def parameter_tables(params) -> list[str]:
  """clu's table (name, shape, dtype, size, total) of each top-level module
  of `params`, then one of its top-level arrays (IPC's U); shapes only, so
  `jax.ShapeDtypeStruct` leaves will do."""

  def table(tree):
    return parameter_overview.get_parameter_overview(tree, include_stats=False)

  modules = {k: v for k, v in params.items() if isinstance(v, dict)}
  arrays = {k: v for k, v in params.items() if not isinstance(v, dict)}
  tables = [f"{name}:\n{table(tree)}" for name, tree in modules.items()]
  if arrays:
    tables.append(f"top-level arrays:\n{table(arrays)}")
  return tables


def compiled_memory(compiled) -> dict[str, int]:
  """Per-device bytes of a compiled executable, from XLA's memory analysis:
  arguments + outputs - donated + temporaries, and the temporaries alone
  (mostly activations)."""
  m = compiled.memory_analysis()
  if m is None:  # backends without the analysis
    return {}
  return {
      "compiled_memory_bytes":
          int(m.argument_size_in_bytes + m.output_size_in_bytes -
              m.alias_size_in_bytes + m.temp_size_in_bytes),
      "compiled_temp_bytes": int(m.temp_size_in_bytes)
  }
