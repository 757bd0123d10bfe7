"""The command line: typo-proof overrides and a missing dataset's message."""

import os
import subprocess
import sys

from absl.testing import absltest

ROOT = os.path.join(os.path.dirname(__file__), "..")


def run_main(*args):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  return subprocess.run([sys.executable, "-m", "ginr_jax.main", *args],
                        cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=120)


class MainTest(absltest.TestCase):

  def test_unknown_config_key_fails_naming_it(self):
    workdir = self.create_tempdir().full_path
    proc = run_main("--config=configs/demo.py:tiny", f"--workdir={workdir}",
                    "--config.optim.lrr=0.1")
    self.assertNotEqual(proc.returncode, 0)
    self.assertIn("lrr", proc.stderr)
    self.assertFalse(os.path.exists(os.path.join(workdir, "config.json")))

  def test_imagenette_without_data_names_prepare_command(self):
    root = self.create_tempdir().full_path
    proc = run_main("--config=configs/imagenette.py",
                    f"--workdir={os.path.join(root, 'wd')}",
                    f"--config.input.data_dir={os.path.join(root, 'data')}")
    self.assertNotEqual(proc.returncode, 0)
    self.assertIn("python -m ginr_jax.datasets.prepare imagenette",
                  proc.stderr)
    self.assertIn(os.path.join(root, "data"), proc.stderr)
    self.assertFalse(os.path.exists(os.path.join(root, "wd")))


if __name__ == "__main__":
  absltest.main()
