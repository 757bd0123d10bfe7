"""Times the training step of a config after compilation.

  python -m ginr_jax.cli.benchmark --config=configs/imagenette.py \
      --config.input.batch_size=2 --steps=5
  # several models of one config file, timed in one process, interleaved:
  python -m ginr_jax.cli.benchmark --config=configs/imagenette.py \
      --config.input.batch_size=2 --variant=model=ipc --variant=model=la_ginr

Feeds random images of the config's shape (the input pipeline is not timed),
compiles the jitted step, runs `--warmup` untimed steps and `--steps` timed
ones, and prints, last, one JSON line with steps_per_sec, examples_per_sec,
compile_sec, XLA's flops_per_step and bytes_accessed_per_step (of one
device's share of the step, the whole step on one device),
peak_memory_bytes (the accelerator's peak allocation, or the process's peak
resident memory on CPU) and compiled_memory_bytes (XLA's memory analysis of
the compiled step: arguments + outputs - donated + temporaries, per device;
`compiled_temp_bytes` is the temporaries alone, mostly activations).

With --compile_only the step is compiled from shapes alone (nothing is
allocated or run), which reports the compiled memory of configs too big for
this machine, e.g. the second-order Meta-IPC inner loop with and without
rematerialisation or inner-loop coordinate subsampling:
  python -m ginr_jax.cli.benchmark --config=configs/meta_ipc.py:ffhq256 \
      --compile_only --variant=ffhq256 --variant=ffhq256,remat \
      --variant=ffhq256,inner_subsample=0.25
and, with --batch_sizes=1,2,4,8, how the memory grows with the batch (the
largest config's batch per device that fits an 80 GB accelerator). The
figures are XLA's for the backend it compiles for (CPU here): an estimate
of a GPU's, whose compiler fuses and schedules differently.

With --variant (config arguments, repeated), every variant of the config file
is built with the same --config.* overrides and their steps alternate (A B A
B ...), so that a noisy machine slows them alike; one JSON line per variant,
then one with each variant's median step time relative to the first. Peak
memory is then the process's, over all variants.

Each line also has the model FLOPs of a step, counted from the config's
shapes (`flops.py`: model_flops_per_step, the encoder's and the decoder's;
null with model_flops_note where a model is not counted), and mfu: model
FLOPs per second over the dense peak of the devices' chips for the
transformer's compute dtype (`flops.PEAK_TFLOPS`; peak_tflops and
peak_source say which). --peak_tflops=X sets a chip's peak instead; a
device missing from the table, like a CPU, gets mfu null and mfu_note says
why.

--profile_dir=DIR records a jax.profiler trace of --profile_steps more
steps after the timed ones (not timed: tracing slows them) into
DIR/plugins/profile/<run>/, which TensorBoard's profile plugin opens
(`tensorboard --logdir=DIR`).

On a CPU-only install the process first restarts itself with the glibc
malloc settings of `host_memory` (recorded as glibc_tunables in the result);
GINR_JAX_MALLOC_TUNING=0 times it with glibc's defaults instead.
"""

from ginr_jax import host_memory

if __name__ == "__main__":  # glibc reads its tunables at start only
  host_memory.restart_with_malloc_tuning()

# pylint: disable=g-import-not-at-top,wrong-import-position
import importlib.util
import json
import os
import resource
import time

from absl import flags
from absl import logging
import jax
import numpy as np
from ml_collections import config_flags

from ginr_jax import checkpoint
from ginr_jax import cli
from ginr_jax import flops
from ginr_jax import models
from ginr_jax import run_loop
from ginr_jax import sharding
from ginr_jax import train
from ginr_jax import utils

_CONFIG = config_flags.DEFINE_config_file("config", None,
                                          "Config file, optionally with :arg.",
                                          lock_config=True)
_STEPS = flags.DEFINE_integer("steps", 5, "Timed steps.")
_WARMUP = flags.DEFINE_integer("warmup", 1, "Untimed steps after compiling.")
_VARIANTS = flags.DEFINE_multi_string(
    "variant", [], "Config-file arguments of a variant to time against the "
    "others, e.g. model=la_ginr; repeat the flag.")
_COMPILE_ONLY = flags.DEFINE_bool(
    "compile_only", False, "Only compile from shapes and report the compiled "
    "cost and memory; run nothing.")
_BATCH_SIZES = flags.DEFINE_list(
    "batch_sizes", [], "With --compile_only: compile at each of these global "
    "batch sizes (e.g. 1,2,4,8) to find the largest that fits a device.")
_PEAK_TFLOPS = flags.DEFINE_float(
    "peak_tflops", None, "Dense peak TFLOP/s of one chip for the mfu, instead "
    "of flops.PEAK_TFLOPS' figure for the device.")
_PROFILE_DIR = flags.DEFINE_string(
    "profile_dir", None, "Write a jax.profiler trace of --profile_steps "
    "untimed steps after the timed ones here.")
_PROFILE_STEPS = flags.DEFINE_integer("profile_steps", 3,
                                      "Steps in the --profile_dir trace.")
flags.mark_flags_as_required(["config"])


def peak_memory_bytes() -> int:
  stats = jax.local_devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    return int(stats["peak_bytes_in_use"])
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB


class _Timed:
  """One config's compiled training step, with its state and batch."""

  def __init__(self, config, compile_only: bool = False):
    self.config = config
    self.setup = setup = train.Setup(config)
    data_sharding = sharding.data_sharded(setup.mesh)
    batch = setup.task.dummy_batch(config.input.batch_size,
                                   np.random.default_rng(0))
    if compile_only:  # shapes only: nothing is allocated
      self.batch = {
          k: jax.ShapeDtypeStruct(v.shape, v.dtype, sharding=data_sharding)
          for k, v in batch.items()
      }
      self.state = checkpoint.abstract_like(setup.state_shape,
                                            setup.state_sharding)
    else:
      self.batch = jax.device_put(batch, data_sharding)
      self.state = setup.init(jax.random.key(config.seed))
    step_fn = run_loop.jit_step(setup)
    self.rng = jax.random.key(0)
    start = time.perf_counter()
    self.compiled = step_fn.lower(self.state, self.batch, self.rng).compile()
    self.compile_sec = time.perf_counter() - start
    cost = self.compiled.cost_analysis()
    cost = (cost[0] if isinstance(cost, list) else cost) or {}
    self.flops = float(cost.get("flops", 0.0))
    self.bytes_accessed = float(cost.get("bytes accessed", 0.0))
    self.times = []
    self.devices = setup.mesh.size
    self.dtype = models.compute_dtype(config.model.get("dtype", "float32"))
    try:
      self.model_flops = flops.train_step(config, setup.task.shape)
    except flops.Unsupported as e:
      self.model_flops = {
          "model_flops_per_step": None, "model_flops_note": str(e)
      }

  def compiled_result(self) -> dict:
    """What compiling tells: size, cost and memory of the step."""
    return {
        "model": self.config.model_name,
        "num_params": utils.count_params(self.setup.state_shape["params"]),
        "batch_size": self.config.input.batch_size,
        "devices": f"{jax.device_count()}x {jax.devices()[0].device_kind}",
        # host_memory's malloc settings, when the process runs with them.
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
        "compile_sec": self.compile_sec,
        # XLA's count for one device's program of the compiled step (0
        # where the backend has none).
        "flops_per_step": self.flops,
        "bytes_accessed_per_step": self.bytes_accessed,
        **self.model_flops,
        **utils.compiled_memory(self.compiled)
    }

  def step(self, timed: bool):
    start = time.perf_counter()
    self.state, metrics = self.compiled(self.state, self.batch, self.rng)
    jax.block_until_ready((self.state, metrics))
    if timed:
      self.times.append(time.perf_counter() - start)

  def result(self, peak_tflops: float | None = None) -> dict:
    sec = float(np.median(self.times))
    times = [round(t, 4) for t in self.times]
    return {
        **self.compiled_result(), "step_sec_median": sec, "step_sec_all": times,
        "steps_per_sec": 1.0 / sec,
        "examples_per_sec": self.config.input.batch_size / sec,
        "peak_memory_bytes": peak_memory_bytes(),
        **self.utilisation(1.0 / sec, peak_tflops)
    }

  def utilisation(self, steps_per_sec: float,
                  peak_tflops: float | None) -> dict:
    """mfu: model FLOP/s over the peak of every device of the mesh."""
    result = {"compute_dtype": self.dtype}
    if peak_tflops is None:
      peak_tflops, source = flops.peak_tflops(
          jax.devices()[0].device_kind, self.dtype,
          jax.config.jax_default_matmul_precision)
    else:
      source = "--peak_tflops"
    model_flops = self.model_flops["model_flops_per_step"]
    if model_flops is None:
      return dict(result, mfu=None, mfu_note="no model FLOPs count")
    if peak_tflops is None:
      return dict(result, mfu=None, mfu_note=source)
    achieved = model_flops * steps_per_sec
    return dict(result, peak_tflops=peak_tflops, peak_source=source,
                mfu=achieved / (peak_tflops * 1e12 * self.devices))


def benchmark_interleaved(configs, steps: int, warmup: int,
                          peak_tflops: float | None = None,
                          profile_dir: str | None = None,
                          profile_steps: int = 3) -> list[dict]:
  """Compiles every config, then alternates their steps; one result each.
  With `profile_dir`, then traces `profile_steps` more steps of each."""
  timed = [_Timed(c) for c in configs]
  for i in range(warmup + steps):
    for t in timed:
      t.step(timed=i >= warmup)
  if profile_dir:  # one trace: a run folder per trace, named by the second
    with jax.profiler.trace(profile_dir):
      for _ in range(profile_steps):
        for t in timed:
          t.step(timed=False)
  return [t.result(peak_tflops) for t in timed]


def benchmark(config, steps: int, warmup: int, **kwargs) -> dict[str, float]:
  """Compiles and times `steps` training steps; returns the figures
  (`benchmark_interleaved`'s keyword arguments apply)."""
  return benchmark_interleaved([config], steps, warmup, **kwargs)[0]


def variant_configs(variants: list[str]):
  """The --config file built with each variant's arguments + overrides."""
  path = config_flags.get_config_filename(flags.FLAGS["config"])
  overrides = config_flags.get_override_values(flags.FLAGS["config"])
  spec = importlib.util.spec_from_file_location("benchmarked_config",
                                                path.split(":")[0])
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  configs = []
  for variant in variants:
    config = module.get_config(variant)
    config.update_from_flattened_dict(overrides)
    configs.append(config)
  return configs


def main(argv):
  del argv
  if _PEAK_TFLOPS.value is not None and _PEAK_TFLOPS.value <= 0:
    raise cli.UserError(f"--peak_tflops={_PEAK_TFLOPS.value}: give a chip's "
                        "dense peak in TFLOP/s, above 0.")
  if _PROFILE_STEPS.value < 1:
    raise cli.UserError(f"--profile_steps={_PROFILE_STEPS.value}: trace at "
                        "least 1 step.")
  options = dict(peak_tflops=_PEAK_TFLOPS.value, profile_dir=_PROFILE_DIR.value,
                 profile_steps=_PROFILE_STEPS.value)
  if _COMPILE_ONLY.value:
    configs = (variant_configs(_VARIANTS.value)
               if _VARIANTS.value else [_CONFIG.value])
    for variant, config in zip(_VARIANTS.value or [None], configs):
      for batch_size in _BATCH_SIZES.value or [config.input.batch_size]:
        config = config.copy_and_resolve_references()
        config.input.batch_size = int(batch_size)
        result = _Timed(config, compile_only=True).compiled_result()
        print(json.dumps(dict(result, variant=variant) if variant else result),
              flush=True)
    return
  if not _VARIANTS.value:
    result = benchmark(_CONFIG.value, _STEPS.value, _WARMUP.value, **options)
    logging.info("benchmark: %s", result)
    print(json.dumps(result), flush=True)
    return
  results = benchmark_interleaved(variant_configs(_VARIANTS.value),
                                  _STEPS.value, _WARMUP.value, **options)
  for variant, result in zip(_VARIANTS.value, results):
    print(json.dumps(dict(result, variant=variant)), flush=True)
  first = results[0]["step_sec_median"]
  print(
      json.dumps({
          "step_time_vs_first": {
              v: round(r["step_sec_median"] / first, 3)
              for v, r in zip(_VARIANTS.value, results)
          }
      }), flush=True)


if __name__ == "__main__":
  cli.run(main)
