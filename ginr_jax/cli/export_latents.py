r"""Latent export for the diffusion stage:

  python -m ginr_jax.cli.export_latents --workdir=STAGE1_DIR \
      --out=LATENT_DIR [--splits=train,test] [--input_kwargs=JSON]

Encodes every image of each split with the stage-1 checkpoint of --workdir
and writes the latent dataset (format: `diffusion/latents.py`).
"""

import json

from absl import flags

from ginr_jax import checkpoint
from ginr_jax import cli
from ginr_jax.diffusion import latents

_WORKDIR = flags.DEFINE_string("workdir", None, "Stage-1 training workdir.")
_OUT = flags.DEFINE_string("out", None, "Latent directory to write.")
_SPLITS = flags.DEFINE_list("splits", ["train", "test"], "Splits to encode.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Images per encoding step.")
_INPUT_KWARGS = flags.DEFINE_string(
    "input_kwargs", "{}", "JSON overrides of the stage-1 input.kwargs.")
_MAX = flags.DEFINE_integer("max_examples", None, "Cap per split.")


def main(argv):
  del argv
  checkpoint.quiet_orbax()
  latents.export(_WORKDIR.value, _OUT.value, tuple(_SPLITS.value), _BATCH.value,
                 json.loads(_INPUT_KWARGS.value), _MAX.value)


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "out"])
  cli.run(main)
