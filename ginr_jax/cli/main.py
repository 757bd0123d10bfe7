"""Entry point: `python -m ginr_jax.cli.main --config=configs/X.py[:arg]
--workdir=DIR [--mode=train|eval]`.

Training resumes from the workdir's latest checkpoint (SIGTERM saves one and
stops cleanly) if the workdir's config.json matches --config
(`checks.py`); `--mode=eval` evaluates that checkpoint (or `--step`) on the
full test split without training, with the workdir's own config unless
--config is given, and writes WORKDIR/eval_metrics.jsonl. Override any
config value with `--config.a.b=value`; unknown keys and wrongly typed
values fail before anything runs. A user error prints one line
(`cli/__init__.py`). Several processes (hosts): see
`ginr_jax/distributed.py` and `launch/README.md`.
"""

from ginr_jax import host_memory

if __name__ == "__main__":  # glibc reads its tunables at start only
  host_memory.restart_with_malloc_tuning()

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from ginr_jax import checkpoint
from ginr_jax import cli
from ginr_jax import distributed
from ginr_jax import train

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file (configs/*.py), optionally with :arg; "
    "--mode=eval defaults to the workdir's config.json.", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None,
    "Where checkpoints, metrics and images go; reused to resume.")
_MODE = flags.DEFINE_enum("mode", "train", ["train", "eval"],
                          "train (and evaluate), or evaluate a checkpoint.")
_STEP = flags.DEFINE_integer(
    "step", None, "Checkpoint step for --mode=eval (default: the latest).")
_DISTRIBUTED = flags.DEFINE_enum(
    "distributed", "auto", list(distributed.MODES),
    "Start JAX's multi-process runtime: auto (when a coordinator is given or "
    "SLURM / a TPU pod / Open MPI runs several processes), on, off.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "host:port of process 0, for a run of "
    "several processes started by hand (launch/local.py sets it).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None,
                                      "Processes in the run.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None,
                                   "This process's index, 0 .. n-1.")
flags.mark_flags_as_required(["workdir"])


def check_stage(config):
  """Fails on a config of the diffusion stage, which has its own command."""
  if config is not None and "latents_dir" in config:
    path = config_flags.get_config_filename(flags.FLAGS["config"])
    raise cli.ConfigError(
        f"{path} configures the diffusion stage; run it with python -m "
        f"ginr_jax.cli.diffusion --config={path} --workdir=...")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _MODE.value == "train" and _CONFIG.value is None:
    raise cli.UserError("--config is required to train (only --mode=eval "
                        "reads the workdir's config.json).")
  check_stage(_CONFIG.value)
  checkpoint.quiet_orbax()
  distributed.initialize(_DISTRIBUTED.value, _COORDINATOR.value,
                         _NUM_PROCESSES.value, _PROCESS_ID.value)
  if jax.process_index() > 0:  # process 0 speaks for the run
    logging.set_verbosity(logging.WARNING)
  logging.info("JAX %s, process %d/%d, devices: %s", jax.__version__,
               jax.process_index(), jax.process_count(), jax.devices())
  if host_memory.tuned():
    logging.info(
        "glibc malloc tuned for XLA's CPU steps (host_memory.py): "
        "faster steps, more memory held; %s=0 turns it off.",
        host_memory.OPT_OUT)
  if _MODE.value == "train":
    train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)
  else:
    train.evaluate_checkpoint(_CONFIG.value, _WORKDIR.value, _STEP.value)


if __name__ == "__main__":
  cli.run(main)
