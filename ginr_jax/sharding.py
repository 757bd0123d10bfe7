"""Device mesh and shardings: the batch on the "data" axis; parameters and
optimizer state either replicated (data parallelism) or sharded over the same
axis (FSDP / ZeRO-3: XLA gathers each weight where it is used and
reduce-scatters its gradient).

FSDP chooses, for every leaf of the train state, by rules on its path
("params/encoder/block_0/attn/query/kernel", and the same path under
"opt/..." for Adam's moments, so both follow the same rule):
  1. the first rule (regex, axis) whose regex matches (re.search) decides:
     shard dimension `axis` (negative counts from the end), or replicate
     with axis None;
  2. otherwise a leaf of at least `min_size` elements is sharded on its
     largest dimension divisible by the number of devices, and anything else
     (biases, LayerNorm scales, scalars) is replicated.
"""

import re

import jax
import numpy as np
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P

from ginr_jax import cli


def make_mesh(num_devices: int | None = None) -> jax.sharding.Mesh:
  """A 1-D mesh with axis "data" over all (or the first n) devices."""
  devices = jax.devices()
  if num_devices is not None:
    if num_devices > len(devices):
      raise ValueError(f"Asked for {num_devices} devices, have {len(devices)}.")
    devices = devices[:num_devices]
  return jax.sharding.Mesh(np.asarray(devices), ("data",),
                           axis_types=(AxisType.Auto,))


def replicated(mesh: jax.sharding.Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def data_sharded(mesh: jax.sharding.Mesh) -> NamedSharding:
  """Leading (batch) axis split over "data", the rest replicated."""
  return NamedSharding(mesh, P("data"))


STRATEGIES = ("data_parallel", "fsdp")


def leaf_spec(path: str, shape: tuple[int, ...], num_devices: int, *,
              strategy: str = "data_parallel", rules=(),
              min_size: int = 2**14) -> P:
  """The PartitionSpec of one train-state leaf (see the module doc)."""
  if strategy not in STRATEGIES:
    raise ValueError(
        f"sharding strategy {strategy!r}; use one of {STRATEGIES}.")
  if strategy == "data_parallel" or num_devices == 1:
    return P()
  for pattern, axis in rules:
    if re.search(pattern, path):
      if axis is None:
        return P()
      axis %= len(shape)
      if shape[axis] % num_devices:
        raise ValueError(
            f"sharding rule {pattern!r} shards dimension {axis} of {path} "
            f"{shape}, which is not divisible by {num_devices} devices.")
      return P(*[None] * axis, "data")
  if int(np.prod(shape)) < min_size:
    return P()
  divisible = [a for a in range(len(shape)) if shape[a] % num_devices == 0]
  if not divisible:
    return P()
  axis = max(divisible, key=lambda a: shape[a])
  return P(*[None] * axis, "data")


def path_str(path) -> str:
  """ "params/encoder/block_0/..." from a tree_util key path."""
  parts = []
  for key in path:
    for attr in ("key", "name", "idx"):
      if hasattr(key, attr):
        parts.append(str(getattr(key, attr)))
        break
    else:
      parts.append(str(key))
  return "/".join(parts)


def state_sharding(state_shape, mesh: jax.sharding.Mesh,
                   strategy: str = "data_parallel", rules=(),
                   min_size: int = 2**14):
  """A NamedSharding for every leaf of the train state (module doc)."""
  n = mesh.devices.size
  return jax.tree_util.tree_map_with_path(
      lambda path, leaf: NamedSharding(
          mesh,
          leaf_spec(path_str(path), leaf.shape, n, strategy=strategy, rules=
                    rules, min_size=min_size)), state_shape)


def check_batch_size(batch_size: int, mesh: jax.sharding.Mesh, what: str):
  n = mesh.devices.size
  if batch_size % n:
    raise cli.ConfigError(
        f"{what}={batch_size} is not divisible by the {n} devices of the mesh;"
        f" use a multiple of {n}.")
