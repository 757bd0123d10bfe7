"""glibc malloc settings that keep XLA's CPU buffers mapped between steps.

XLA's CPU runtime mallocs a fresh temporary buffer for every step it runs
(about 2 GB for the full-size IPC step at batch 2), from its worker threads.
By default glibc serves such a request with a new mmap, unmaps it on free,
and the kernel faults the next one in and zeroes it 4 KiB at a time: about
a million page faults, a third of the CPU time of that step on our 2-core
machine. One arena, no mmap and no trimming make glibc keep the freed memory
and hand the same pages back the next step; 2 MiB transparent huge pages make
the first touch and the TLB cheaper. Measured on the full IPC ImageNette
step at batch 2: 2.3-2.4 s -> 1.7 s (README, "Throughput"). Huge pages
alone cut the faults 15x but not the time.

The price is memory: the heap never shrinks and fragments, so the process
holds more than it uses. The IPC benchmark above peaked at 3.8-7.9 GB
instead of 3.6 GB, and a 12-step training run of it that also evaluated and
wrote images at 9.8 GB instead of 3.6 GB. Set GINR_JAX_MALLOC_TUNING=0 where
memory is tight.

Tunables are read only when a process starts, so the command-line entry
points restart themselves once with them set, on CPU-only installs (an
accelerator's buffers are not malloc'd, and one arena could slow down a big
host's input threads).
"""

import os
import pkgutil
import platform
import sys

TUNABLES = ("glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:"
            f"glibc.malloc.trim_threshold={2**46}:glibc.malloc.hugetlb=1")
# Set to 0 to keep the process as started: glibc's defaults, less memory.
OPT_OUT = "GINR_JAX_MALLOC_TUNING"
_ACCELERATOR_PLUGINS = ("jax_cuda", "jax_rocm", "libtpu")


def cpu_only(environ=os.environ) -> bool:
  """Whether JAX will run on the CPU: JAX_PLATFORMS says so, or no GPU or
  TPU plugin is installed."""
  if environ.get("JAX_PLATFORMS"):
    return environ["JAX_PLATFORMS"].split(",")[0] == "cpu"
  return not any(
      m.name.startswith(_ACCELERATOR_PLUGINS) for m in pkgutil.iter_modules())


def wanted(environ=os.environ) -> bool:
  """Whether to restart with TUNABLES: Linux with glibc, JAX on the CPU,
  and neither the user nor an earlier start has set GLIBC_TUNABLES."""
  return (sys.platform == "linux" and platform.libc_ver()[0] == "glibc" and
          environ.get(OPT_OUT) != "0" and "GLIBC_TUNABLES" not in environ and
          cpu_only(environ))


def tuned(environ=os.environ) -> bool:
  """Whether this process runs with TUNABLES."""
  return environ.get("GLIBC_TUNABLES") == TUNABLES


def restart_with_malloc_tuning() -> None:
  """Replaces this process by the same command with TUNABLES set.

  A program calls it under `if __name__ == "__main__"` before its other
  imports, so that the first process does not import JAX only to be
  replaced. Does nothing where `wanted()` is False.
  """
  if not wanted():
    return
  sys.stdout.flush()
  sys.stderr.flush()
  os.execve(sys.executable, sys.orig_argv,
            dict(os.environ, GLIBC_TUNABLES=TUNABLES))
