r"""One portable model file from a training workdir.

  python -m ginr_jax.cli.export --workdir=workdirs/demo --out=models/demo.npz \
      [--step=N]

Writes the checkpoint's parameters (named by their paths), the resolved
config and the step into one .npz (`portable.py`) that `numpy.load` reads
alone and `ginr_jax.load` / `python -m ginr_jax.cli.render --model=` load
without the workdir. The optimizer state and data iterator stay behind.
"""

import os

from absl import flags
from absl import logging

from ginr_jax import api
from ginr_jax import cli
from ginr_jax import portable
from ginr_jax import utils


def define_flags():
  """The command's flags (defined on use: other modules' share names)."""
  flags.DEFINE_string("workdir", None, "A training workdir.", required=True)
  flags.DEFINE_string("out", None, "The .npz file to write.", required=True)
  flags.DEFINE_integer("step", None, "Checkpoint step; default latest.")


def export(workdir: str, out: str, step: int | None = None) -> api.Model:
  """Writes the model of `workdir`'s checkpoint (`step`: latest) to `out`.

  Raises:
    cli.UserError: no such workdir or checkpoint.
  """
  if not os.path.isdir(workdir):
    raise cli.NotFoundError(
        f"--workdir={workdir}: no such folder; pass a training workdir.")
  model = api.load(workdir, step)
  portable.write(out, model.config, model.params, model.step)
  return model


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)  # orbax's restore logs at INFO
  f = flags.FLAGS
  model = export(f.workdir, f.out, f.step)
  print(f"wrote {f.out}: {model.config.model_name} at step {model.step}, "
        f"{utils.count_params(model.params):,} parameters, "
        f"{os.path.getsize(f.out) / 2**20:.1f} MiB")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
