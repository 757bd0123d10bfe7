"""Device mesh and shardings: the batch on the "data" axis, parameters
replicated (data parallelism). FSDP rules come later by extending
`state_sharding`."""

import jax
import numpy as np
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P


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


def state_sharding(state_shape, mesh: jax.sharding.Mesh):
  """Sharding for every leaf of the train state: replicated."""
  return jax.tree.map(lambda _: replicated(mesh), state_shape)


def check_batch_size(batch_size: int, mesh: jax.sharding.Mesh, what: str):
  n = mesh.devices.size
  if batch_size % n:
    raise ValueError(
        f"{what}={batch_size} is not divisible by the {n} devices of the mesh;"
        f" use a multiple of {n}.")
