r"""What the latents and neurons of a trained model encode, as PNGs
(`analysis.py`).

  # LA-GINR Fig. 5 / 12: zero one latent token, show |change| over the image
  python -m ginr_jax.cli.analysis --mode=locality \
      --workdir=workdirs/demo_la_ginr
  # IPC Fig. 8: activation maps of chosen neurons in every hidden layer
  python -m ginr_jax.cli.analysis --mode=activations \
      --workdir=workdirs/demo_ipc

Reads the workdir's config.json and latest checkpoint (or --step) and writes
to WORKDIR/analysis/.
"""

import json
import os

from absl import flags

from ginr_jax import analysis
from ginr_jax import cli
from ginr_jax import train

flags.DEFINE_enum("mode", "locality", ["locality", "activations"],
                  "What to draw.")
flags.DEFINE_string("workdir", None, "A training workdir.", required=True)
flags.DEFINE_string("config", None,
                    "Config JSON; default: the workdir's config.json.")
flags.DEFINE_integer("step", None, "Checkpoint step; default latest.")
flags.DEFINE_list("tokens", None,
                  "Latent tokens to zero; default: 8 spread evenly.")
flags.DEFINE_list("neurons", ["0", "1", "2", "3", "4", "5"],
                  "Neurons (hidden units) to show per layer.")
flags.DEFINE_integer("num_images", 4, "Test images to use.")
flags.DEFINE_integer(
    "upsample", 0, "Decode on a grid this many times denser than the "
    "pixels; 0: enough for maps about 128 pixels wide.")


def main(argv):
  del argv
  f = flags.FLAGS
  config, setup, params = train.load_workdir(f.workdir, f.config, f.step)
  upsample = f.upsample or max(1, 128 // config.input.image_size)
  out_dir = os.path.join(f.workdir, "analysis")
  os.makedirs(out_dir, exist_ok=True)
  if f.mode == "locality":
    tokens = [int(t) for t in f.tokens] if f.tokens else None
    summary = analysis.write_locality(config, setup, params, out_dir, tokens,
                                      f.num_images, upsample)
    print(
        json.dumps({
            k: summary[k] for k in ("model", "tokens", "mean_footprint", "png")
        }))
  else:
    paths = analysis.write_activations(config, setup, params, out_dir,
                                       [int(n) for n in f.neurons],
                                       f.num_images, upsample)
    print("\n".join(paths))


if __name__ == "__main__":
  cli.run(main)
