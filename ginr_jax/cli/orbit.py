r"""Novel views of a test object along an orbit, as PNG frames and a GIF.

  python -m ginr_jax.cli.orbit --workdir=workdirs/nvs_demo_2 [--object=0]
      [--frames=24] [--elevation=30]

Restores a trained NVS run (configs/shapenet.py, configs/nvs_demo.py) and
renders one test object along an orbit (`orbit.py`). Writes
WORKDIR/orbit/orbit_<object>.gif and a PNG strip with the support views in
front of the frames.
"""

from ginr_jax import host_memory

if __name__ == "__main__":  # glibc reads its tunables at start only
  host_memory.restart_with_malloc_tuning()

# pylint: disable=g-import-not-at-top,wrong-import-position
import os

from absl import flags

from ginr_jax import cli
from ginr_jax import input_pipeline
from ginr_jax import orbit
from ginr_jax import train

flags.DEFINE_string("workdir", None, "An NVS training workdir.", required=True)
flags.DEFINE_integer("step", None, "Checkpoint step; default latest.")
flags.DEFINE_integer(
    "object", 0,
    "Which of the test sample's objects (config.num_images of them).")
flags.DEFINE_integer("frames", 24, "Views along the orbit.")
flags.DEFINE_float("elevation", 30.0, "Camera elevation, deg.")


def main(argv):
  del argv
  f = flags.FLAGS
  config, setup, params = train.load_workdir(f.workdir, step=f.step)
  sample = input_pipeline.eval_sample(config.input, config.num_images)
  index = f.object
  if not 0 <= index < len(sample["support_image"]):
    raise cli.ConfigError(f"--object={index}: the sample has "
                          f"{len(sample['support_image'])} objects.")
  example = {k: v[index] for k, v in sample.items()}
  frames = orbit.render_orbit(setup, params, example,
                              orbit.orbit_poses(f.frames, f.elevation))
  gif, png = orbit.write_orbit(os.path.join(f.workdir,
                                            "orbit"), f"orbit_{index}",
                               example["support_image"], frames)
  print(f"wrote {gif} and {png}")


if __name__ == "__main__":
  cli.run(main)
