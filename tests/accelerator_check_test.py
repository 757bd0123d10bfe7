"""tools/accelerator_check.sh end to end in its small mode, on the CPU."""

import json
import os
import subprocess
import sys

from absl.testing import absltest
import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")


@pytest.mark.slow
class AcceleratorCheckTest(absltest.TestCase):

  def test_small_mode_writes_every_row_and_the_curve(self):
    out = self.create_tempdir().full_path
    env = dict(os.environ, SMALL="1", INSTALL="0", PYTHON=sys.executable)
    proc = subprocess.run(["bash", "tools/accelerator_check.sh", out], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    report_path = os.path.join(out, "accelerator_check")
    with open(report_path + ".json") as f:
      report = json.load(f)
    self.assertTrue(report["small"])
    rows = report["benchmarks"]
    self.assertEqual([(r["size"], r["model"], r["precision"]) for r in rows],
                     [(size, model, precision)
                      for size in ("imagenette178", "ffhq1024")
                      for model in ("ipc", "transinr", "la_ginr")
                      for precision in ("fp32", "bf16")])
    for r in rows:
      self.assertEqual(r["status"], "ok", r["variant"])
      self.assertEqual(r["batch_size"], 4)
      self.assertGreater(r["steps_per_sec"], 0)
      self.assertGreater(r["model_flops_per_step"], 0)
      self.assertEqual(r["compute_dtype"],
                       "bfloat16" if r["precision"] == "bf16" else "float32")
      self.assertIsNone(r["mfu"])  # a CPU has no peak in the table
      self.assertIn("'cpu'", r["mfu_note"])
    training = report["training"]
    self.assertEqual([p["step"] for p in training["curve"]], list(range(1, 7)))
    self.assertEqual(training["exit_code"], "0")
    self.assertTrue(training["profile"].endswith(".xplane.pb"))
    with open(report_path + ".md") as f:
      text = f.read()
    self.assertLen([l for l in text.splitlines() if "| ok | " in l], 12)
    self.assertIn("## Training (IPC, generated images)", text)
    self.assertLen([l for l in text.splitlines() if l.startswith("| 6 |")], 1)


if __name__ == "__main__":
  absltest.main()
