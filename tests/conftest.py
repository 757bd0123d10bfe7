"""Test environment: CPU only, four simulated devices, set before jax loads.

The variables set here reach the commands that tests start as subprocesses
too, so those compile and start the way the tests' own process does.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

os.environ["JAX_PLATFORMS"] = "cpu"
# Tiny shapes compile much faster without XLA's optimisation passes and
# with its older CPU kernel emitters (a tiny train step: 1.5 s instead of
# 3.3 s); what the tests check does not depend on either.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_force_host_platform_device_count=4"
    + " --xla_cpu_use_fusion_emitters=false"
)
os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"
# Entry points started by tests skip their malloc-tuning restart (a second
# interpreter start and JAX import); host_memory_test checks the restart.
os.environ.setdefault("GINR_JAX_MALLOC_TUNING", "0")
# Compiled programs are kept on disk and shared by the test processes (xdist
# workers and the commands they start): many tests compile the same tiny
# steps. Keyed by the program, jax version and flags, so never stale; a
# second run of the suite compiles almost nothing. (An entry read while
# another process still writes it fails to decompress, and JAX compiles
# instead; a size limit would lock the cache, at a rescan per write.)
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(ROOT, ".jax_test_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

# grain and absl-based code read flags; pytest never parses them.
flags.FLAGS.mark_as_parsed()
