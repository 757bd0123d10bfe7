"""Runs survive SIGKILL and SIGTERM at any moment.

The tests run `python -m ginr_jax.cli.main` as a subprocess, kill it at
seeded random moments (GINR_JAX_KILL_SEED picks another sequence), resume it
with the same command and compare metrics.jsonl with an uninterrupted run.
"""

import glob
import os
import random
import resource
import signal
import subprocess
import sys
import time

from absl.testing import absltest
import pytest

from checkpoint_damage_test import damage
from ginr_jax import train
from ginr_jax import utils
from configs import demo

ROOT = os.path.join(os.path.dirname(__file__), "..")
SEED = int(os.environ.get("GINR_JAX_KILL_SEED", "0"))


def command(workdir: str, total_steps: int) -> list[str]:
  return [
      sys.executable, "-m", "ginr_jax.cli.main",
      "--config=configs/demo.py:tiny", f"--workdir={workdir}",
      f"--config.total_steps={total_steps}", "--config.ckpt_steps=1",
      "--config.log_steps=1", "--config.render_upsample=(1,)"
  ]


def config(total_steps: int):
  """The config `command` runs."""
  c = demo.get_config("tiny")
  c.update(total_steps=total_steps, ckpt_steps=1, log_steps=1,
           render_upsample=(1,))
  return c


def environment() -> dict[str, str]:
  # conftest.py's: runs load the steps compiled before from the shared cache.
  return dict(os.environ)


class Run:
  """One `python -m ginr_jax.cli.main` process, its stderr in a file."""

  def __init__(self, workdir: str, total_steps: int, env: dict[str, str]):
    self.workdir = workdir
    self.log = open(os.path.join(workdir + ".log"), "a+")
    self.start = time.monotonic()
    self.proc = subprocess.Popen(command(workdir, total_steps), cwd=ROOT,
                                 env=env, stdout=subprocess.DEVNULL,
                                 stderr=self.log, start_new_session=True)

  def wait_until(self, condition, timeout: float = 300) -> bool:
    """True once `condition()` holds, False if the run ends first."""
    deadline = time.monotonic() + timeout
    while not condition():
      if self.proc.poll() is not None:
        return False
      if time.monotonic() > deadline:
        raise AssertionError(f"timed out; log:\n{self.tail()}")
      time.sleep(0.005)
    return True

  def finish(self, sig=None, timeout: float = 300) -> int:
    if sig is not None:
      os.killpg(self.proc.pid, sig)
    return self.proc.wait(timeout)

  def tail(self, n: int = 3000) -> str:
    self.log.seek(0)
    return self.log.read()[-n:]


def committed(workdir: str) -> list[int]:
  path = os.path.join(workdir, "checkpoints")
  return (sorted(int(d) for d in os.listdir(path) if d.isdigit()) if
          (os.path.isdir(path)) else [])


def saving(workdir: str) -> bool:
  path = os.path.join(workdir, "checkpoints")
  return os.path.isdir(path) and any(
      "orbax-checkpoint-tmp" in d for d in os.listdir(path))


def evaluated(workdir: str, after: int) -> bool:
  return any(r["step"] > after and "eval/psnr" in r for r in rows(workdir))


def rows(workdir: str) -> list[dict]:
  """metrics.jsonl without the time/* keys; lines cut by a kill skipped."""
  return [{k: v
           for k, v in row.items()
           if not k.startswith("time/")}
          for row in utils.read_metrics(workdir)]


def interrupt(workdir: str, total_steps: int, env, moments) -> list[str]:
  """Runs the command once per moment, interrupting it then, and once more
  to the end. A moment is (signal, when, delay): when "start" (`delay`
  seconds after the start), "step" (`delay` after a checkpoint newer than
  the one it resumed from), "save" (the next save after that one) or "eval"
  (as an evaluation after it writes its metrics, while it renders images).
  A moment with signal None damages the newest checkpoint instead, which the
  next run must report. Returns what happened, for messages."""
  events = []
  for sig, when, delay in moments:
    base = max(committed(workdir), default=0)
    if sig is None:  # every array data file: which are live is orbax's
      for path in glob.glob(
          os.path.join(workdir, "checkpoints", str(base), "state",
                       "ocdbt.process_*", "d", "*")):
        damage(path, when)
      events.append(f"damaged checkpoint {base} ({when})")
      continue
    run = Run(workdir, total_steps, env)
    reached = True
    if when != "start":
      reached = run.wait_until(
          lambda: max(committed(workdir), default=0) > base)
    if reached and when == "save":
      reached = run.wait_until(lambda: saving(workdir))
    if reached and when == "eval":
      reached = run.wait_until(lambda: evaluated(workdir, base))
    if not reached:
      raise AssertionError(f"the run ended before {when} ({events}); "
                           f"make total_steps larger:\n{run.tail()}")
    time.sleep(delay)
    if run.proc.poll() is not None:
      raise AssertionError(f"the run ended before {when}+{delay:.2f}s "
                           f"({events}); make total_steps larger")
    code = run.finish(sig)
    events.append(f"{signal.Signals(sig).name} at {when}+{delay:.2f}s after "
                  f"step {base}: exit {code}, checkpoints "
                  f"{committed(workdir)}, "
                  f"{time.monotonic() - run.start:.1f}s")
    if sig == signal.SIGTERM:
      assert code == 0, f"{events[-1]}\n{run.tail()}"
  run = Run(workdir, total_steps, env)
  code = run.finish()
  assert code == 0, f"{events}\n{run.tail()}"
  events.append(f"ran to the end: {time.monotonic() - run.start:.1f}s")
  for event in events:
    # A damaged checkpoint that was read is set aside with a warning. (One
    # byte flipped in the middle of a data file can land where no value is
    # stored: then nothing is set aside, and the metrics still equal the
    # uninterrupted run's; DamagedCheckpointTest checks detection itself.)
    if event.startswith("damaged"):
      step = event.split()[2]
      if os.path.exists(os.path.join(workdir, "checkpoints",
                                     f"{step}.damaged")):
        assert f"Checkpoint {step} in" in run.tail(10**7), events
  return events


def random_moments(rng: random.Random, kills: int, whens, sigterms: int = 0):
  moments = [(signal.SIGKILL, rng.choice(whens), rng.uniform(0, 1.0))
             for _ in range(kills)]
  for i in rng.sample(range(len(moments)), sigterms):
    moments[i] = (signal.SIGTERM, rng.choice(["eval", "save"]), 0.0)
  return moments


class KillTest(absltest.TestCase):

  def check_interrupted_equals_uninterrupted(self, total_steps, moments,
                                             reference_in_process: bool):
    tmp = self.create_tempdir().full_path
    env = environment()
    workdir = os.path.join(tmp, "killed")
    os.makedirs(workdir)
    events = interrupt(workdir, total_steps, env, moments)
    reference = os.path.join(tmp, "reference")
    if reference_in_process:
      train.train_and_evaluate(config(total_steps), reference)
    else:
      os.makedirs(reference)
      self.assertEqual(Run(reference, total_steps, env).finish(), 0)
    got, want = rows(workdir), rows(reference)
    # Every train/* and eval/* value at every step, bit for bit.
    self.assertEqual(got, want, "\n".join(events))
    self.assertEqual(sum("train/loss" in r for r in got), total_steps)
    self.assertIn("eval/psnr", got[-1])
    return events

  def test_two_kills(self):
    rng = random.Random(SEED)
    events = self.check_interrupted_equals_uninterrupted(
        7, [(signal.SIGKILL, "save", 0.0),
            (signal.SIGKILL, "step", rng.uniform(0, 1.0))],
        reference_in_process=True)
    print("\n".join(events))

  @pytest.mark.slow
  def test_sigterm_while_evaluating_saves_and_exits_0(self):
    tmp = self.create_tempdir().full_path
    workdir = os.path.join(tmp, "run")
    os.makedirs(workdir)
    events = interrupt(workdir, 5, environment(),
                       [(signal.SIGTERM, "eval", 0.0)])
    self.assertIn(
        "SIGTERM at eval+0.00s after step 0: exit 0, checkpoints [3, 4]",
        events[0])
    self.assertEqual([r["step"] for r in rows(workdir) if "eval/psnr" in r],
                     [3, 5])

  @pytest.mark.slow
  def test_many_kills_sigterms_and_a_damaged_checkpoint(self):
    rng = random.Random(SEED)
    moments = random_moments(rng, 12, ["start", "step", "step", "save", "eval"],
                             sigterms=2)
    moments.insert(rng.randrange(2, len(moments)), (None, "flip_byte", 0))
    events = self.check_interrupted_equals_uninterrupted(
        40, moments, reference_in_process=False)
    print("\n".join(events))

  @pytest.mark.slow
  def test_disk_full_during_training_stops_and_resumes(self):
    tmp = self.create_tempdir().full_path
    workdir = os.path.join(tmp, "run")
    # stderr to a pipe: the file-size limit below would stop a log file too.
    proc = subprocess.Popen(command(workdir, 20), cwd=ROOT, env=environment(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 300
    while not committed(workdir) and time.monotonic() < deadline:
      time.sleep(0.005)
    # From now on no file may grow past 16 KB: the checkpoint data can't.
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (16384, 16384))
    _, err = proc.communicate(timeout=120)
    self.assertNotEqual(proc.returncode, 0)
    self.assertRegex(
        err, r"\nerror: Saving checkpoint \d+ in .* "
        r"failed .*File too large.* The last good checkpoint is "
        r"step \d+")
    self.assertEqual(Run(workdir, 4, environment()).finish(), 0)
