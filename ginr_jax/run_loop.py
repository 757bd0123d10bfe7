"""The fault-tolerance plumbing of both trainers (`train.py`,
`diffusion/train.py`), so that they differ only where the research does.

A trainer's Setup gives `config`, `mesh`, the state's `state_shape` and
`state_sharding`, `init(rng)` and the pure `train_step(state, batch, rng)
-> (state, metrics)`; the trainer opens its data as a checkpointable
iterator (`input_pipeline.BatchIterator`) and says how to evaluate. Here:
a resume with another config is refused (`checks.py`), the config is kept
in WORKDIR/config.json, the state and the data iterator resume from the
latest checkpoint, and the loop logs, saves and evaluates on the config's
cadence. A non-finite loss stops the run naming the last good checkpoint;
SIGTERM (preemption) saves and stops; Ctrl-C or an unreadable file saves
before raising. `config.profile_steps` steps after the first are traced
into WORKDIR/profile. `load_workdir` restores a trained workdir's checkpoint.
"""

import os
from typing import Callable

from absl import logging
import jax
import ml_collections
import numpy as np

from ginr_jax import checkpoint
from ginr_jax import checks
from ginr_jax import cli
from ginr_jax import datasets
from ginr_jax import distributed
from ginr_jax import sharding
from ginr_jax import utils


def check_resume(config: ml_collections.ConfigDict, workdir: str):
  """Fails before anything is built on a workdir that is a file, or that
  was trained with another config (`checks.check_same_run`).

  Raises:
    cli.UserError: either of those.
  """
  checks.check_workdir(workdir)
  if checks.has_checkpoint(checkpoint.directory(
      workdir, config.checkpoint_dir)) and os.path.exists(
          checks.config_path(workdir)):
    checks.check_same_run(workdir, config, "resume")


def write_config(config: ml_collections.ConfigDict, workdir: str):
  """WORKDIR/config.json, written by process 0."""
  os.makedirs(workdir, exist_ok=True)
  if jax.process_index() == 0:  # replaced at once: a kill keeps the old
    path = checks.config_path(workdir)
    with open(path + ".tmp", "w") as f:
      f.write(config.to_json_best_effort(indent=2))
    os.replace(path + ".tmp", path)


def jit_step(setup):
  """The jitted training step: the state donated, the metrics replicated."""
  return jax.jit(
      setup.train_step, donate_argnums=0,
      out_shardings=(setup.state_sharding, sharding.replicated(setup.mesh)))


class Profiler:
  """A jax.profiler trace of the `steps` steps after step `start` (0 steps:
  none) into `directory`."""

  def __init__(self, directory: str, start: int, steps: int):
    self.directory, self.start, self.stop = directory, start, start + steps
    self.active = False

  def after(self, step: int, state):
    """Starts or stops the trace after `step`, whose `state` it waits for
    so that the trace holds whole steps."""
    if step == self.start < self.stop:
      jax.block_until_ready(state)
      jax.profiler.start_trace(self.directory)
      self.active = True
    elif step == self.stop and self.active:
      jax.block_until_ready(state)
      self.close()

  def close(self):
    """Stops the trace (a run may end inside it)."""
    if self.active:
      jax.profiler.stop_trace()
      self.active = False


def train(setup, data_iter, workdir: str,
          evaluate: Callable[[dict, utils.MetricWriter, int],
                             object], eval_prefix: str):
  """Trains to `config.total_steps` from the workdir's latest checkpoint (or
  from `setup.init`); returns the final state.

  Args:
    setup: the trainer's Setup (module doc).
    data_iter: the training batches, checkpointed with the state.
    workdir: where the config, checkpoints and metrics go.
    evaluate: (state, writer, step) -> logs an evaluation at `step`.
    eval_prefix: a key prefix of what `evaluate` logs once it is complete.
  """
  cfg = setup.config
  write_config(cfg, workdir)
  manager = checkpoint.make_manager(workdir, cfg.keep_checkpoints,
                                    cfg.checkpoint_dir)
  writer = utils.MetricWriter(workdir)
  if manager.latest_step() is not None:
    abstract = checkpoint.abstract_like(setup.state_shape, setup.state_sharding)
    state = checkpoint.restore(manager, abstract, data_iter)
  else:
    state = setup.init(jax.random.key(cfg.seed))
  first_step = int(jax.device_get(state["step"]))
  if first_step:
    logging.info("Resumed from %s at step %d.", manager.directory, first_step)
  writer.drop_after(first_step)

  update_fn = jit_step(setup)
  rng = jax.random.key(cfg.seed + 1)
  progress = utils.Progress(first_step, cfg.total_steps)

  def save(step, data_state):
    checkpoint.save(manager, step, state, data_state)

  step, data_state = first_step, data_iter.get_state()
  preemption = distributed.Preemption()
  profiler = Profiler(os.path.join(workdir, "profile"), first_step + 1,
                      cfg.profile_steps)
  try:
    # A run killed while evaluating the checkpoint it resumes from.
    if (first_step and
        (first_step % cfg.eval_steps == 0 or first_step == cfg.total_steps) and
        not (writer.logged(first_step, eval_prefix))):
      evaluate(state, writer, first_step)
    while step < cfg.total_steps:
      state, metrics = update_fn(state, next(data_iter), rng)
      step, data_state = step + 1, data_iter.get_state()
      profiler.after(step, state)
      last = step == cfg.total_steps
      stop = preemption.reached(step)
      if (step % cfg.log_steps == 0 or step % cfg.ckpt_steps == 0 or last or
          stop):
        scalars = jax.device_get(metrics)
        if not np.isfinite(scalars["train/loss"]):
          good = manager.latest_step()
          raise cli.NonFiniteLossError(
              f"Loss is {scalars['train/loss']} at step {step}; stopping. " +
              (f"The last good checkpoint is step {good} in {manager.directory}."
               if good is not None else "No checkpoint was saved before it."))
        rate = progress.rate(step)
        scalars["time/steps_per_sec"] = rate
        scalars["time/examples_per_sec"] = rate * cfg.input.batch_size
        writer.write_scalars(step, scalars)
        logging.info(
            progress.line(step, rate, {
                k: scalars[k]
                for k in ("train/loss", "train/psnr")
                if k in scalars
            }))
      if step % cfg.ckpt_steps == 0 or last or stop:
        save(step, data_state)
      if stop:
        logging.warning(
            "Preempted: stopped at step %d with a checkpoint; "
            "run the same command to resume.", step)
        break
      if step % cfg.eval_steps == 0 or last:
        evaluate(state, writer, step)
  except (KeyboardInterrupt, datasets.UnreadableFileError):
    if step > (manager.latest_step() or 0):
      logging.warning("Interrupted at step %d: saving a checkpoint.", step)
      save(step, data_state)
    raise
  finally:
    profiler.close()
    preemption.close()
    checkpoint.finish(manager)
    writer.close()
  return state


def restore(setup_class, config: ml_collections.ConfigDict, workdir: str,
            step: int | None = None):
  """(setup_class(config), state) of the checkpoint of `step` (None: the
  latest).

  Raises:
    cli.NotFoundError: no checkpoint (of `step`); nothing is created.
  """
  setup = setup_class(config)  # first: it checks the config
  directory = checkpoint.directory(workdir, config.checkpoint_dir)
  if not checks.has_checkpoint(directory):
    raise cli.NotFoundError(
        f"No checkpoint in {directory}; train first with the same --workdir.")
  manager = checkpoint.make_manager(workdir,
                                    checkpoint_dir=config.checkpoint_dir)
  if step is not None and step not in manager.all_steps():
    raise cli.NotFoundError(
        f"No checkpoint of step {step} in {directory}; saved steps: "
        f"{', '.join(map(str, manager.all_steps()))}.")
  abstract = checkpoint.abstract_like(setup.state_shape, setup.state_sharding)
  return setup, checkpoint.restore(manager, abstract, step=step)


def load_workdir(setup_class, workdir: str, config_path: str | None = None,
                 step: int | None = None):
  """(config, Setup, state) of a training workdir's checkpoint, with its
  config.json or the one at `config_path`."""
  config = checks.read_config(workdir, config_path)
  return (config, *restore(setup_class, config, workdir, step))
