"""Test environment: CPU only, four simulated devices, set before jax loads."""

import os

os.environ["JAX_PLATFORMS"] = "cpu"
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_force_host_platform_device_count=4"
)

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

# Tiny shapes compile much faster without XLA's optimisation passes.
jax.config.update("jax_disable_most_optimizations", True)
# grain and absl-based code read flags; pytest never parses them.
flags.FLAGS.mark_as_parsed()
