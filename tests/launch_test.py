"""Two processes through launch/local.py equal one process, stop cleanly on
SIGTERM and resume after SIGKILL; one process stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
import threading
import time

from absl.testing import absltest
import numpy as np
import pytest

from ginr_jax import checkpoint
from ginr_jax import distributed
from ginr_jax import train
from ginr_jax import utils
from configs import demo

ROOT = os.path.join(os.path.dirname(__file__), "..")
OVERRIDES = {"log_steps": 1, "ckpt_steps": 2, "eval_steps": 1000}


def config(total_steps: int, num_devices: int = 1):
  c = demo.get_config("tiny")
  c.update(OVERRIDES, total_steps=total_steps, num_devices=num_devices)
  return c


def start(workdir: str, total_steps: int) -> subprocess.Popen:
  args = [f"--config.{k}={v}" for k, v in OVERRIDES.items()]
  env = dict(os.environ)
  # The launcher sets one device per process; conftest's other flags stay.
  env["XLA_FLAGS"] = " ".join(
      f for f in env.get("XLA_FLAGS", "").split()
      if not f.startswith("--xla_force_host_platform_device_count"))
  return subprocess.Popen([
      sys.executable, "launch/local.py", "--num_processes=2", "--",
      "--config=configs/demo.py:tiny", f"--workdir={workdir}",
      f"--config.total_steps={total_steps}", *args
  ], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)


def saved_steps(workdir: str) -> list[int]:
  path = os.path.join(workdir, "checkpoints")
  return (sorted(int(d) for d in os.listdir(path) if d.isdigit()) if
          (os.path.isdir(path)) else [])


def wait_for_checkpoint(proc, workdir: str, after: int, timeout=240):
  deadline = time.time() + timeout
  while time.time() < deadline:
    if any(s > after for s in saved_steps(workdir)):
      return
    if proc.poll() is not None:
      raise AssertionError(f"run ended early: {proc.stderr.read()[-3000:]}")
    time.sleep(0.1)
  raise AssertionError("no checkpoint in time")


def train_rows(workdir: str) -> dict[int, dict]:
  return {
      m["step"]: m for m in utils.read_metrics(workdir) if "train/loss" in m
  }


@pytest.mark.slow
class TwoProcessTest(absltest.TestCase):

  def test_matches_one_process_and_survives_sigterm_and_sigkill(self):
    workdir = self.create_tempdir().full_path
    # SIGTERM: every process stops at the same step with a checkpoint.
    proc = start(workdir, 10**6)
    wait_for_checkpoint(proc, workdir, after=0)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    self.assertEqual(proc.returncode, 0, err[-3000:])
    stopped = saved_steps(workdir)[-1]
    self.assertEqual(max(train_rows(workdir)), stopped)
    # SIGKILL, possibly in the middle of a save: the run resumes anyway.
    proc = start(workdir, 10**6)
    wait_for_checkpoint(proc, workdir, after=stopped)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    total = saved_steps(workdir)[-1] + 3
    proc = start(workdir, total)
    _, err = proc.communicate(timeout=240)
    self.assertEqual(proc.returncode, 0, err[-3000:])

    reference = self.create_tempdir().full_path
    train.train_and_evaluate(config(total), reference)
    two, one = train_rows(workdir), train_rows(reference)
    self.assertEqual(sorted(two), list(range(1, total + 1)))
    for step in range(1, total + 1):
      for key in ("train/loss", "train/psnr", "train/l2_grads"):
        np.testing.assert_allclose(two[step][key], one[step][key], rtol=2e-5,
                                   err_msg=f"{key} at {step}")
    evals = [[
        m["eval/psnr"] for m in utils.read_metrics(d) if "eval/psnr" in m
    ] for d in (workdir, reference)]
    np.testing.assert_allclose(evals[0][-1], evals[1][-1], rtol=1e-5)


class OneProcessSigtermTest(absltest.TestCase):

  def test_sigterm_saves_and_stops_after_the_current_step(self):
    workdir = self.create_tempdir().full_path

    def signal_after_first_step():
      while not os.path.exists(os.path.join(workdir, "metrics.jsonl")):
        time.sleep(0.05)
      os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=signal_after_first_step, daemon=True).start()
    state = train.train_and_evaluate(config(10**6), workdir)
    step = int(state["step"])
    self.assertLess(step, 10**6)
    manager = checkpoint.make_manager(workdir)
    self.assertEqual(manager.latest_step(), step)
    # the handler is removed again
    self.assertEqual(signal.getsignal(signal.SIGTERM), before)

  def test_cluster_detection(self):
    self.assertIsNone(distributed.detected_cluster({}))
    self.assertIsNone(
        distributed.detected_cluster({"SLURM_JOB_ID": "1",
                                      "SLURM_NTASKS": "1"}))
    self.assertEqual(
        distributed.detected_cluster({"SLURM_JOB_ID": "1",
                                      "SLURM_NTASKS": "8"}), "slurm")
    self.assertEqual(
        distributed.detected_cluster(
            {"TPU_WORKER_HOSTNAMES": "10.0.0.1,10.0.0.2"}), "tpu")
    self.assertIsNone(
        distributed.detected_cluster({"TPU_WORKER_HOSTNAMES": "localhost"}))
    self.assertFalse(distributed.initialize("off"))
    with self.assertRaisesRegex(ValueError, "num_processes"):
      distributed.initialize("auto", coordinator_address="127.0.0.1:1")


if __name__ == "__main__":
  absltest.main()
