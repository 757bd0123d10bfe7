"""Multi-process start-up and preemption.

`initialize` calls `jax.distributed.initialize` when the run is one of
several processes:
  * explicitly: a coordinator address with the number of processes and this
    process's id (flags of `ginr_jax.cli.main`; `launch/local.py` passes them);
  * detected: SLURM with more than one task (`srun`), a multi-host Cloud TPU
    VM (TPU_WORKER_HOSTNAMES lists several hosts) or Open MPI with more than
    one rank; JAX then finds the coordinator and ids itself;
  * `--distributed=on` forces JAX's own detection, `off` never initialises.

`Preemption` tells the training loop when to save and stop after SIGTERM
(what SLURM, Kubernetes and TPU maintenance send before killing a job). With
several processes JAX's preemption service catches the signal and picks a
step that every process reaches, so all of them save the same checkpoint;
alone, a signal handler sets a flag that the loop reads after each step.
"""

import os
import signal
import threading

from absl import logging
import jax
from jax.experimental import multihost_utils

MODES = ("auto", "on", "off")


def detected_cluster(env=None) -> str | None:
  """The multi-process launcher this process runs under, if any."""
  env = os.environ if env is None else env
  if "SLURM_JOB_ID" in env and int(env.get("SLURM_NTASKS", "1")) > 1:
    return "slurm"
  if len(env.get("TPU_WORKER_HOSTNAMES", "").split(",")) > 1:
    return "tpu"
  if int(env.get("OMPI_COMM_WORLD_SIZE", "1")) > 1:
    return "ompi"
  return None


def initialize(mode: str = "auto", coordinator_address: str | None = None,
               num_processes: int | None = None,
               process_id: int | None = None) -> bool:
  """Starts JAX's distributed runtime when needed; True if it did."""
  if mode not in MODES:
    raise ValueError(f"--distributed={mode!r}; use one of {MODES}.")
  if mode == "off":
    return False
  if coordinator_address:
    if num_processes is None or process_id is None:
      raise ValueError(
          "--coordinator_address needs --num_processes and --process_id too.")
    jax.distributed.initialize(coordinator_address, num_processes, process_id)
  elif mode == "on" or detected_cluster():
    jax.distributed.initialize()
  else:
    return False
  logging.info("distributed: process %d of %d, %d local / %d global devices",
               jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count())
  return True


class Preemption:
  """`reached(step)`: save a checkpoint and stop after this step."""

  def __init__(self):
    self._signalled = False
    self._multi = jax.process_count() > 1
    self._previous = None
    # Python delivers signals to the main thread only.
    main_thread = threading.current_thread() is threading.main_thread()
    if not self._multi and main_thread:
      self._previous = signal.signal(signal.SIGTERM, self._on_signal)

  def _on_signal(self, signum, frame):
    del frame
    logging.warning(
        "Received signal %d: saving a checkpoint after this step, then stopping.",
        signum)
    self._signalled = True

  def reached(self, step: int) -> bool:
    if self._multi:  # every process must call this at every step
      return multihost_utils.reached_preemption_sync_point(step)
    return self._signalled

  def close(self):
    """Restores the previous SIGTERM handler."""
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)
      self._previous = None
