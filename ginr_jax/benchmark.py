"""Times the training step of a config after compilation.

  python -m ginr_jax.benchmark --config=configs/imagenette.py \
      --config.input.batch_size=2 --steps=5

Feeds random images of the config's shape (the input pipeline is not timed),
compiles the jitted step, runs `--warmup` untimed steps and `--steps` timed
ones, and prints, last, one JSON line with steps_per_sec, examples_per_sec,
compile_sec and peak_memory_bytes (the accelerator's peak allocation, or the
process's peak resident memory on CPU).
"""

import functools
import json
import resource
import time

from absl import app
from absl import flags
from absl import logging
import jax
import numpy as np
from ml_collections import config_flags

from ginr_jax import sharding
from ginr_jax import train
from ginr_jax import utils

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file, optionally with :arg.", lock_config=True)
_STEPS = flags.DEFINE_integer("steps", 5, "Timed steps.")
_WARMUP = flags.DEFINE_integer("warmup", 1, "Untimed steps after compiling.")
flags.mark_flags_as_required(["config"])


def peak_memory_bytes() -> int:
  stats = jax.local_devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    return int(stats["peak_bytes_in_use"])
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB


def benchmark(config, steps: int, warmup: int) -> dict[str, float]:
  """Compiles and times `steps` training steps; returns the figures."""
  setup = train.Setup(config)
  cfg = config
  batch_size = cfg.input.batch_size
  images = np.random.default_rng(0).uniform(
      size=(batch_size, *setup.image_shape)).astype(np.float32)
  batch = {"image": jax.device_put(images, sharding.data_sharded(setup.mesh))}
  state = setup.init(jax.random.key(cfg.seed))
  step_fn = jax.jit(
      functools.partial(
          train.train_step, model=setup.model, tx=setup.tx,
          schedule=setup.schedule, jitter=cfg.train.coord_jitter,
          subsample=cfg.train.coord_subsample),
      donate_argnums=0,
      out_shardings=(setup.state_sharding, sharding.replicated(setup.mesh)))
  rng = jax.random.key(0)

  start = time.perf_counter()
  compiled = step_fn.lower(state, batch, rng).compile()
  compile_sec = time.perf_counter() - start
  for _ in range(warmup):
    state, metrics = compiled(state, batch, rng)
  jax.block_until_ready(state)
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    state, metrics = compiled(state, batch, rng)
    jax.block_until_ready((state, metrics))
    times.append(time.perf_counter() - start)
  sec = float(np.median(times))
  return {
      "model": cfg.model_name,
      "num_params": utils.count_params(setup.state_shape["params"]),
      "batch_size": batch_size,
      "devices": f"{jax.device_count()}x {jax.devices()[0].device_kind}",
      "step_sec_median": sec,
      "step_sec_all": [round(t, 4) for t in times],
      "steps_per_sec": 1.0 / sec,
      "examples_per_sec": batch_size / sec,
      "compile_sec": compile_sec,
      "peak_memory_bytes": peak_memory_bytes(),
  }


def main(argv):
  del argv
  result = benchmark(_CONFIG.value, _STEPS.value, _WARMUP.value)
  logging.info("benchmark: %s", result)
  print(json.dumps(result), flush=True)


if __name__ == "__main__":
  app.run(main)
