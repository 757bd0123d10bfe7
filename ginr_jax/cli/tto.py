r"""Test-time optimisation of checkpoints, and per-sample FFNets (`tto.py`).

  # one model, its latents only:
  python -m ginr_jax.cli.tto --workdir=workdirs/demo_ipc --what=latents \
      --steps=100 --lr=1e-3
  # IPC Fig. 9 / LA-GINR Fig. 7: several models, both kinds of TTO and
  # per-sample FFNets on the same test images, PSNR against seconds:
  python -m ginr_jax.cli.tto --workdir=workdirs/demo_ipc \
      --workdir=workdirs/demo_la_ginr --what=latents --what=all --scratch \
      --steps=100 --lr=1e-3 --plot=docs/tto_demo.png

  # IPC Table 5: NVS, fitting the support views, PSNR of the novel view:
  python -m ginr_jax.cli.tto --workdir=workdirs/nvs_demo_2 --what=latents \
      --what=all --steps=100 --lr=1e-3 --rays=1024
"""

from ginr_jax import host_memory

if __name__ == "__main__":  # glibc reads its tunables at start only
  host_memory.restart_with_malloc_tuning()

# pylint: disable=g-import-not-at-top,wrong-import-position
import json

from absl import flags

from ginr_jax import cli
from ginr_jax import tto

flags.DEFINE_multi_string(
    "workdir", None, "Training workdirs (repeat the flag to compare models).",
    required=True)
flags.DEFINE_integer("step", None, "Checkpoint step; default latest.")
flags.DEFINE_multi_enum("what", ["latents"], ["latents", "all"],
                        "What to optimise per instance (repeatable).")
flags.DEFINE_integer("steps", 100, "Optimisation steps.")
flags.DEFINE_float("lr", 1e-4, "Learning rate of TTO.")
flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "Optimiser.")
flags.DEFINE_integer("num_images", 10, "Test images (views: objects) to fit.")
flags.DEFINE_integer("rays", 1024, "Views: support rays per step.")
flags.DEFINE_bool(
    "scratch", False, "Also train a randomly initialised "
    "FFNet per image (the per-sample baseline).")
flags.DEFINE_float("scratch_lr", 1e-3, "Learning rate of the FFNets.")
flags.DEFINE_string(
    "plot", None, "Write every run's PSNR-vs-seconds curve "
    "to this PNG (and its numbers to the same path .json).")


def main(argv):
  del argv
  f = flags.FLAGS
  curves = tto.compare(f.workdir, whats=f.what, steps=f.steps, lr=f.lr,
                       optimizer=f.optimizer, num_images=f.num_images,
                       rays=f.rays, scratch=f.scratch, scratch_lr=f.scratch_lr,
                       plot_path=f.plot, step=f.step)
  for c in curves:
    print(
        json.dumps({
            "run": c["label"], "psnr_before": c["psnr"][0],
            "psnr_after": c["psnr"][-1], "seconds": c["seconds"][-1]
        }))
  if f.plot:
    print(f"wrote {f.plot}")


if __name__ == "__main__":
  cli.run(main)
