"""Entry point of the diffusion stage:

  python -m ginr_jax.cli.diffusion --config=configs/diffusion_X.py[:arg] \
      --workdir=DIR [--mode=train|sample|compile]

train: trains the denoiser on exported latents (resuming from the workdir's
latest checkpoint; Ctrl-C or SIGTERM saves one), sampling at the end.
sample: samples from a checkpoint's EMA parameters, writes PNG grids per
class and the metrics (--sample_steps, --guidance, --upsample override the
config's). compile: compiles the training step from shapes only and prints
its per-device memory (XLA's analysis) as JSON; nothing is allocated.
"""

from ginr_jax import host_memory

if __name__ == "__main__":  # glibc reads its tunables at start only
  host_memory.restart_with_malloc_tuning()

# pylint: disable=g-import-not-at-top,wrong-import-position
import json

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from ginr_jax import checkpoint
from ginr_jax import cli
from ginr_jax import distributed
from ginr_jax import run_loop
from ginr_jax import utils
from ginr_jax.diffusion import latents
from ginr_jax.diffusion import sample
from ginr_jax.diffusion import train

_CONFIG = config_flags.DEFINE_config_file(
    "config", None,
    "Config file (configs/diffusion_*.py), optionally with :arg.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None,
    "Where checkpoints, metrics and samples go; reused to resume.")
_STEP = flags.DEFINE_integer(
    "step", None, "Checkpoint step for --mode=sample (default: the latest).")
_DISTRIBUTED = flags.DEFINE_enum(
    "distributed", "auto", list(distributed.MODES),
    "Start JAX's multi-process runtime (as ginr_jax.cli.main).")
_MODE = flags.DEFINE_enum("mode", "train", ["train", "sample", "compile"],
                          "train, sample a checkpoint, or compile only.")
_SAMPLE_STEPS = flags.DEFINE_integer("sample_steps", None,
                                     "--mode=sample: DDIM steps.")
_GUIDANCE = flags.DEFINE_float("guidance", None,
                               "--mode=sample: guidance scale.")
_UPSAMPLE = flags.DEFINE_list(
    "upsample", None, "--mode=sample: decoding grid densities, e.g. 1,2,4.")


def compile_only(config) -> dict:
  """Per-device memory and parameter count of the compiled training step."""
  setup = train.Setup(config)
  state = checkpoint.abstract_like(setup.state_shape, setup.state_sharding)
  compiled = (run_loop.jit_step(setup).lower(state, setup.batch_shape(),
                                             jax.random.key(0)).compile())
  return {
      "num_params": utils.count_params(setup.state_shape["params"]),
      "batch_size": config.input.batch_size,
      "devices": f"{jax.device_count()}x {jax.devices()[0].device_kind}",
      "sharding": config.sharding.strategy, **utils.compiled_memory(compiled)
  }


def sample_checkpoint(workdir: str):
  config, setup, state = train.load_workdir(workdir, _STEP.value)
  evaluator = sample.Evaluator(config, setup,
                               latents.read_meta(config.latents_dir))
  writer = utils.MetricWriter(workdir)
  upsample = tuple(int(u) for u in _UPSAMPLE.value) if _UPSAMPLE.value else None
  scalars = evaluator.evaluate(state["ema"], writer,
                               int(jax.device_get(state["step"])), workdir,
                               _SAMPLE_STEPS.value, _GUIDANCE.value, upsample)
  writer.close()
  if jax.process_index() == 0:
    print(json.dumps(scalars))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if "latents_dir" not in _CONFIG.value:
    path = config_flags.get_config_filename(flags.FLAGS["config"])
    raise cli.ConfigError(
        f"{path} configures stage 1 (an INR model); run it with python -m "
        f"ginr_jax.cli.main --config={path} --workdir=...")
  checkpoint.quiet_orbax()
  distributed.initialize(_DISTRIBUTED.value)
  if jax.process_index() > 0:  # process 0 speaks for the run
    logging.set_verbosity(logging.WARNING)
  if _MODE.value == "compile":
    print(json.dumps(compile_only(_CONFIG.value)), flush=True)
  elif _MODE.value == "sample":
    sample_checkpoint(_WORKDIR.value)
  else:
    train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)


if __name__ == "__main__":
  flags.mark_flags_as_required(["config", "workdir"])
  cli.run(main)
