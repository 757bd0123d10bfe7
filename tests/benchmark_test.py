"""The benchmark command, single and interleaved, on `:tiny` configs."""

import json
import os
import subprocess
import sys

from absl.testing import absltest
import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")


def run_benchmark(test, *args):
  """The command's JSON lines."""
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  proc = subprocess.run([sys.executable, "-m", "ginr_jax.cli.benchmark", *args],
                        cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=300)
  test.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
  return [
      json.loads(line)
      for line in proc.stdout.splitlines()
      if line.startswith("{")
  ]


@pytest.mark.slow
class BenchmarkTest(absltest.TestCase):

  def test_interleaved_variants_share_the_overrides(self):
    lines = run_benchmark(self, "--config=configs/demo.py:tiny",
                          "--config.input.batch_size=4", "--variant=tiny",
                          "--variant=model=la_ginr,tiny", "--steps=2",
                          "--warmup=0")
    self.assertLen(lines, 3)
    ipc, la_ginr, ratios = lines
    self.assertEqual((ipc["model"], la_ginr["model"]), ("ipc", "la_ginr"))
    for result in (ipc, la_ginr):
      self.assertEqual(result["batch_size"], 4)  # the override applies
      self.assertLen(result["step_sec_all"], 2)
      self.assertGreater(result["steps_per_sec"], 0)
      self.assertGreater(result["flops_per_step"], 0)
      # Model FLOPs are XLA's (for one device's share) but the elementwise
      # work and Adam's update, which weigh much at these tiny sizes.
      xla = result["flops_per_step"] * int(result["devices"].split("x")[0])
      self.assertBetween(result["model_flops_per_step"], 0.5 * xla, xla)
      self.assertIsNone(result["mfu"])  # no CPU peak in the table
      self.assertIn("--peak_tflops", result["mfu_note"])
    self.assertEqual(ratios["step_time_vs_first"]["tiny"], 1.0)
    self.assertAlmostEqual(ratios["step_time_vs_first"]["model=la_ginr,tiny"],
                           la_ginr["step_sec_median"] / ipc["step_sec_median"],
                           places=2)

  def test_compiled_memory_of_the_inner_loop_options(self):
    lines = run_benchmark(self, "--config=configs/meta_ipc.py:tiny",
                          "--compile_only", "--variant=tiny",
                          "--variant=tiny,remat", "--variant=tiny,first_order",
                          "--variant=tiny,inner_subsample=0.25")
    plain, remat, first_order, subsample = lines
    self.assertNotIn("step_sec_median", plain)  # nothing ran
    memory = {r["variant"]: r["compiled_temp_bytes"] for r in lines}
    for lighter in (remat, first_order, subsample):
      self.assertLess(memory[lighter["variant"]], memory["tiny"])
    # Rematerialisation trades memory for recomputation.
    self.assertGreater(remat["flops_per_step"], plain["flops_per_step"])


if __name__ == "__main__":
  absltest.main()
