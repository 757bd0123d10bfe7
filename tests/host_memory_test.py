"""The entry points' restart with glibc malloc tunables."""

import json
import os
import platform
import subprocess
import sys
import unittest

from absl.testing import absltest

from ginr_jax import host_memory

ROOT = os.path.join(os.path.dirname(__file__), "..")
# Mallocs, fills and frees 200 MB twice; prints the page faults of the second
# time.
CHILD = """
import ctypes, os, resource, sys
from ginr_jax import host_memory
print("started", flush=True)
host_memory.restart_with_malloc_tuning()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def touch_200mb():
  p = libc.malloc(200 << 20)
  ctypes.memset(p, 1, 200 << 20)
  libc.free(p)
touch_200mb(); before = resource.getrusage(resource.RUSAGE_SELF)
touch_200mb(); after = resource.getrusage(resource.RUSAGE_SELF)
print(os.environ.get("GLIBC_TUNABLES"), sys.argv[1:],
      after.ru_minflt - before.ru_minflt)
"""
GLIBC_LINUX = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
# The programs that restart, each run as `python -m` runs it, stopped at its
# restart; prints the heavy modules already imported then, per program.
RESTARTING = ("main", "tto", "orbit", "support_check", "benchmark", "diffusion")
IMPORTS_AT_RESTART = """
import json, runpy, sys
from ginr_jax import host_memory
class Restarted(Exception):
  pass
def restart():
  raise Restarted
host_memory.restart_with_malloc_tuning = restart
heavy = {}
for program in sys.argv[1:]:
  try:
    runpy.run_module(f"ginr_jax.cli.{program}", run_name="__main__")
  except Restarted:
    heavy[program] = sorted(m for m in ("jax", "flax", "numpy")
                            if m in sys.modules)
print(json.dumps(heavy))
"""


def run_child(**env):
  environ = {
      k: v
      for k, v in os.environ.items()
      if k not in ("GLIBC_TUNABLES", host_memory.OPT_OUT)
  }
  out = subprocess.run([sys.executable, "-c", CHILD, "first", "--second=2"],
                       cwd=ROOT, env=dict(environ, JAX_PLATFORMS="cpu",
                                          **env), capture_output=True,
                       text=True, check=True).stdout.splitlines()
  tunables, rest = out[-1].split(" ", 1)
  args, faults = rest.rsplit(" ", 1)
  return out[:-1], tunables, args, int(faults)


class WantedTest(absltest.TestCase):

  def test_programs_restart_before_importing_jax(self):
    out = subprocess.run(
        [sys.executable, "-c", IMPORTS_AT_RESTART, *RESTARTING], cwd=ROOT,
        capture_output=True, text=True, check=True).stdout
    self.assertEqual(json.loads(out), {program: [] for program in RESTARTING})

  def test_not_wanted_when_set_opted_out_or_on_an_accelerator(self):
    self.assertFalse(
        host_memory.wanted({
            "GLIBC_TUNABLES": "glibc.malloc.arena_max=4", "JAX_PLATFORMS": "cpu"
        }))
    self.assertFalse(
        host_memory.wanted({host_memory.OPT_OUT: "0", "JAX_PLATFORMS": "cpu"}))
    self.assertFalse(host_memory.cpu_only({"JAX_PLATFORMS": "cuda,cpu"}))
    self.assertTrue(host_memory.cpu_only({"JAX_PLATFORMS": "cpu"}))
    self.assertEqual(host_memory.wanted({"JAX_PLATFORMS": "cpu"}), GLIBC_LINUX)


@unittest.skipUnless(GLIBC_LINUX, "glibc tunables exist on Linux only")
class RestartTest(absltest.TestCase):

  def test_restarts_once_with_the_arguments_and_reuses_freed_memory(self):
    lines, tunables, args, faults = run_child()
    # Both processes print "started"; the restarted one does not restart.
    self.assertEqual(lines, ["started", "started"])
    self.assertEqual(tunables, host_memory.TUNABLES)
    self.assertTrue(host_memory.tuned({"GLIBC_TUNABLES": tunables}))
    self.assertEqual(args, "['first', '--second=2']")
    # The second 200 MB comes from the kept heap: almost no new pages (49k
    # 4-KiB pages if it were mapped afresh).
    self.assertLess(faults, 2_000)

  def test_opt_out_keeps_the_process_and_glibc_defaults(self):
    lines, tunables, _, faults = run_child(**{host_memory.OPT_OUT: "0"})
    self.assertEqual((lines, tunables), (["started"], "None"))
    self.assertGreater(faults, 10_000)  # mapped and faulted in afresh


if __name__ == "__main__":
  absltest.main()
