"""The benchmark command, single and interleaved, on `:tiny` configs."""

import json
import os
import subprocess
import sys

from absl.testing import absltest

ROOT = os.path.join(os.path.dirname(__file__), "..")


class BenchmarkTest(absltest.TestCase):

  def test_interleaved_variants_share_the_overrides(self):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-m", "ginr_jax.benchmark",
         "--config=configs/demo.py:tiny", "--config.input.batch_size=4",
         "--variant=tiny", "--variant=model=la_ginr,tiny", "--steps=2",
         "--warmup=0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    lines = [json.loads(line) for line in proc.stdout.splitlines()
             if line.startswith("{")]
    self.assertLen(lines, 3)
    ipc, la_ginr, ratios = lines
    self.assertEqual((ipc["model"], la_ginr["model"]), ("ipc", "la_ginr"))
    for result in (ipc, la_ginr):
      self.assertEqual(result["batch_size"], 4)     # the override applies
      self.assertLen(result["step_sec_all"], 2)
      self.assertGreater(result["steps_per_sec"], 0)
      self.assertGreater(result["flops_per_step"], 0)
    self.assertEqual(ratios["step_time_vs_first"]["tiny"], 1.0)
    self.assertAlmostEqual(
        ratios["step_time_vs_first"]["model=la_ginr,tiny"],
        la_ginr["step_sec_median"] / ipc["step_sec_median"], places=2)


if __name__ == "__main__":
  absltest.main()
