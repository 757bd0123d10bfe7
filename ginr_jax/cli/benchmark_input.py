"""Times a config's training input pipeline alone: files read, decoded,
cropped or resized, batched and put on the devices, as training gets them.

  python -m ginr_jax.cli.prepare imagenette_like --data_dir=/tmp/like
  python -m ginr_jax.cli.benchmark_input --config=configs/imagenette.py \
      --config.input.data_dir=/tmp/like --workers=0 --threads=1

Builds `input_pipeline.TrainIterator` of the config (no model), takes
`--warmup` batches untimed (worker start-up included), then `--batches`
timed ones, and prints one JSON line: examples_per_sec (wall clock),
cpu_sec (this process and its workers, from /proc: Linux),
examples_per_cpu_sec (per core busy: what one more core would add if the
pipeline scales linearly) and workers_for_target, the worker processes of
one core each that `--target` examples/s needs at that rate.

`--workers` starts exactly that many grain worker processes (default: the
config's `input.num_workers`, capped as training caps it); `--threads` sets
`input.num_threads`, the threads of the process, or of each worker, that
make batches. A separate command from `benchmark`, which times the model's
step on random batches: this one builds no model and compiles nothing.
"""

import json
import math
import multiprocessing
import os
import time

from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from ginr_jax import checks
from ginr_jax import cli
from ginr_jax import input_pipeline
from ginr_jax import sharding

_CONFIG = config_flags.DEFINE_config_file("config", None,
                                          "Config file, optionally with :arg.",
                                          lock_config=True)
_BATCHES = flags.DEFINE_integer("batches", 20, "Timed batches.", lower_bound=1)
_WARMUP = flags.DEFINE_integer(
    "warmup", 3, "Untimed batches first (worker start-up included).",
    lower_bound=0)
_WORKERS = flags.DEFINE_integer(
    "workers", None, "Worker processes (0: none, the batches are made in "
    "this process); default: the config's input.num_workers as training "
    "caps it.", lower_bound=0)
_THREADS = flags.DEFINE_integer(
    "threads", None, "Threads making batches in this process or in each "
    "worker (0: no prefetching); default: the config's input.num_threads.",
    lower_bound=0)
_TARGET = flags.DEFINE_float("target", 2000.0,
                             "Examples/s to size workers_for_target for.",
                             lower_bound=1e-9)
flags.mark_flags_as_required(["config"])

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
  """CPU time (user + system) of this process and its live children."""
  times = os.times()
  total = times.user + times.system
  for child in multiprocessing.active_children():
    with open(f"/proc/{child.pid}/stat") as f:
      # utime and stime, fields 14 and 15; the name (field 2) has no spaces
      # after its closing parenthesis.
      fields = f.read().rsplit(")", 1)[1].split()
    total += (int(fields[11]) + int(fields[12])) / _TICKS
  return total


def benchmark_input(config, batches: int, warmup: int, workers: int | None,
                    target: float) -> dict:
  """Times `batches` training batches of `config` after `warmup`."""
  mesh = sharding.make_mesh(config.num_devices or None)
  data = input_pipeline.TrainIterator(config.input, mesh, config.seed,
                                      num_workers=workers)
  try:
    for _ in range(warmup):
      jax.block_until_ready(next(data))
    start, cpu_start = time.perf_counter(), cpu_seconds()
    for _ in range(batches):
      jax.block_until_ready(next(data))
    # Read before close() ends the workers.
    cpu = cpu_seconds() - cpu_start
    wall = time.perf_counter() - start
  finally:
    data.close()
  examples = batches * config.input.batch_size
  if not cpu:  # /proc counts in ticks of 10 ms
    raise cli.ConfigError(f"{batches} batches took too little CPU time to "
                          "measure; raise --batches.")
  per_cpu_sec = examples / cpu
  cores = len(os.sched_getaffinity(0))
  return {
      "dataset": config.input.name, "image_size": config.input.image_size,
      "batch_size": config.input.batch_size, "workers": data.num_workers,
      "threads": config.input.num_threads, "cores": cores, "batches": batches,
      "wall_sec": wall, "examples_per_sec": examples / wall, "cpu_sec": cpu,
      "examples_per_cpu_sec": per_cpu_sec, "target_examples_per_sec": target,
      "workers_for_target": math.ceil(target / per_cpu_sec),
  }


def main(argv):
  del argv
  config = _CONFIG.value.copy_and_resolve_references()
  checks.check_config(config)
  if _THREADS.value is not None:
    config.input.num_threads = _THREADS.value
  result = benchmark_input(config, _BATCHES.value, _WARMUP.value,
                           _WORKERS.value, _TARGET.value)
  logging.info("benchmark_input: %s", result)
  print(json.dumps(result), flush=True)


if __name__ == "__main__":
  cli.run(main)
