"""orbax checkpoints of the train state together with the data iterator.

A checkpoint is `workdir/checkpoints/<step>/` (or `config.checkpoint_dir`)
with three items: "state" (the train-state pytree, restored with its
shardings), "data" (the iterator state as JSON), so a resumed run sees
exactly the batches it would have seen, and "checksums" (JSON), a hash of
every state leaf's bits and of the iterator state.

orbax writes into a temporary folder and renames it when complete, so an
interrupted save never leaves a checkpoint that looks finished. Damage after
that is not always caught by orbax: a truncated or overwritten data file
mostly fails to decompress, but one changed byte in a compressed chunk
restores wrong values without a word. So `restore` hashes what it read and
compares with the checksums; a checkpoint that fails either way is set aside
as `<step>.damaged` (with a warning naming it) and the one before is used.
A save that fails (disk full, unwritable folder) raises `CheckpointError`,
and the checkpoints saved before it stay as they were.
"""

import hashlib
import json
import logging as std_logging
import os

from absl import logging
from etils import epath
import jax
from jax.experimental import multihost_utils
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from ginr_jax import cli

CHECKSUMS = "checksums"


class CheckpointError(cli.UserError):
  """A checkpoint could not be written or read back; the message says which
  and what to do."""


def quiet_orbax():
  """orbax logs every checkpoint step at INFO; keep its warnings only."""
  logging.get_absl_handler().addFilter(
      lambda r: r.levelno >= std_logging.WARNING or "orbax" not in r.pathname)


def directory(workdir: str, checkpoint_dir: str = "") -> str:
  """`checkpoint_dir` (a path every host reaches, e.g. gs://bucket/run, for
  runs on several hosts without a shared file system), else
  WORKDIR/checkpoints."""
  if checkpoint_dir:
    return (checkpoint_dir
            if "://" in checkpoint_dir else os.path.abspath(checkpoint_dir))
  return os.path.join(os.path.abspath(workdir), "checkpoints")


def make_manager(workdir: str, max_to_keep: int = 2,
                 checkpoint_dir: str = "") -> ocp.CheckpointManager:
  return ocp.CheckpointManager(
      directory(workdir, checkpoint_dir),
      options=ocp.CheckpointManagerOptions(
          max_to_keep=max_to_keep,
          create=True,
          # Made in the background, a folder that cannot be made leaves
          # orbax's writer threads waiting for it and the process hanging
          # for minutes at exit; made at once, it just raises.
          async_options=ocp.AsyncOptions(
              create_directories_asynchronously=False)))


def _mix(h: jax.Array) -> jax.Array:
  """murmur3's finaliser: a bijection of uint32 that spreads every bit."""
  h ^= h >> 16
  h *= jnp.uint32(0x85EBCA6B)
  h ^= h >> 13
  h *= jnp.uint32(0xC2B2AE35)
  return h ^ (h >> 16)


def _leaf_hash(x: jax.Array) -> jax.Array:
  """uint32: the sum over elements of mix(bits ^ mix(position)).

  A sum modulo 2**32 is exact in any order, so the hash is the same however
  the array is sharded, and one changed element always changes it (mix is a
  bijection). Elementwise work and one reduction: no resharding.
  """
  if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
    x = jax.random.key_data(x)
  if x.dtype == jnp.bool_:
    x = x.astype(jnp.uint8)
  bits = jax.lax.bitcast_convert_type(
      x, jnp.dtype(f"uint{min(8 * x.dtype.itemsize, 32)}")).astype(jnp.uint32)
  position = jnp.zeros(bits.shape, jnp.uint32)
  for axis, size in enumerate(bits.shape):  # row-major flat index
    position = position * jnp.uint32(size) + jax.lax.broadcasted_iota(
        jnp.uint32, bits.shape, axis)
  return jnp.sum(_mix(bits ^ _mix(position + jnp.uint32(0x9E3779B9))),
                 dtype=jnp.uint32)


_tree_hash = jax.jit(lambda tree: jax.tree.map(_leaf_hash, tree))


def checksums(state, data_state: dict) -> dict:
  """{"state": {leaf path: hash}, "data": sha256 of the iterator state}."""
  hashes = jax.device_get(_tree_hash(state))
  return {
      "state": {
          jax.tree_util.keystr(k): int(v)
          for k, v in jax.tree_util.tree_leaves_with_path(hashes)
      },
      "data": hashlib.sha256(json.dumps(data_state,
                                        sort_keys=True).encode()).hexdigest()
  }


def step_path(manager: ocp.CheckpointManager, step: int) -> epath.Path:
  return epath.Path(manager.directory) / str(step)


def finish(manager: ocp.CheckpointManager):
  """Waits for the save in flight; CheckpointError if it failed."""
  pending = manager.latest_step()
  try:
    manager.wait_until_finished()
  except Exception as e:  # pylint: disable=broad-except
    raise _write_error(manager, pending, e) from e


def _first_line(error: Exception) -> str:
  """The error's type and first line, shortened in the middle (TensorStore
  puts the cause, e.g. "No space left on device", last)."""
  line = (str(error).strip().splitlines() or [""])[0]
  if len(line) > 300:
    line = line[:120] + " ... " + line[-180:]
  return f"{type(error).__name__}: {line}"


def _write_error(manager, step, error) -> CheckpointError:
  good = max((s for s in manager.all_steps() if s != step), default=None)
  return CheckpointError(
      f"Saving checkpoint {step} in {manager.directory} failed "
      f"({_first_line(error)}); stopping. " +
      (f"The last good checkpoint is step {good}: "
       if good is not None else "No checkpoint was saved before it: ") +
      "free disk space or make the folder writable, then run the same "
      "command to resume.")


def save(manager: ocp.CheckpointManager, step: int, state, data_state: dict):
  """Saves `state` and the data iterator's state taken right after `step`.

  The write goes on in the background; a failure of the previous one is
  raised here (or by `finish`) as CheckpointError.
  """
  finish(manager)
  sums = checksums(state, data_state)
  try:
    manager.save(
        step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                      data=ocp.args.JsonSave(data_state),
                                      **{CHECKSUMS: ocp.args.JsonSave(sums)}))
  except Exception as e:  # pylint: disable=broad-except
    raise _write_error(manager, step, e) from e


def abstract_like(shapes, shardings):
  """ShapeDtypeStructs carrying the target shardings, for restoring."""
  return jax.tree.map(
      lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh), shapes,
      shardings)


def _restore_verified(manager, step: int, abstract_state, with_data: bool):
  """(state, data state or None) of `step`; CheckpointError if they differ
  from the checksums saved with them."""
  restored = manager.restore(
      step,
      args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state),
                              data=ocp.args.JsonRestore(),
                              **{CHECKSUMS: ocp.args.JsonRestore()}))
  expected = restored[CHECKSUMS]
  got = checksums(restored["state"], restored["data"])
  bad = [
      k for k in expected["state"]
      if got["state"].get(k) != expected["state"][k]
  ]
  if got["data"] != expected["data"]:
    bad.append("data iterator state")
  if bad or set(got["state"]) != set(expected["state"]):
    raise CheckpointError(
        f"{len(bad)} of {len(expected['state']) + 1} checksums differ from "
        f"those saved, e.g. {', '.join(bad[:3])}")
  return restored["state"], restored["data"] if with_data else None


def _everywhere(ok: bool) -> bool:
  """Whether `ok` holds on every process (a read may fail on one only)."""
  if jax.process_count() == 1:
    return ok
  return bool(np.all(multihost_utils.process_allgather(np.array(ok))))


def _set_aside(manager: ocp.CheckpointManager, step: int) -> epath.Path:
  """Renames a damaged checkpoint to `<step>.damaged`, which orbax ignores,
  so that the step can be saved again."""
  path = step_path(manager, step)
  target = path.parent / f"{step}.damaged"
  if jax.process_index() == 0:
    if target.exists():
      target.rmtree()
    path.rename(target)
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(f"ginr_jax_set_aside_{step}")
  return target


def restore(manager: ocp.CheckpointManager, abstract_state, data_iter=None,
            step: int | None = None):
  """Restores the state (and the iterator, if given) of `step` or the latest.

  Without `step`, checkpoints that cannot be read or fail their checksums
  are set aside with a warning once an older one restores. CheckpointError
  naming the newest if none does, or if the requested `step` is damaged.
  """
  steps = ([step]
           if step is not None else sorted(manager.all_steps(), reverse=True))
  failed = []  # (step, cause), newest first
  for s in steps:
    error = None
    try:
      state, data_state = _restore_verified(manager, s, abstract_state,
                                            data_iter is not None)
    except Exception as e:  # pylint: disable=broad-except
      error = e
    if _everywhere(error is None):
      break
    failed.append((s, error, _first_line(error)
                   if error is not None else "unreadable on another process"))
  else:
    # A config that does not match the checkpoints fails here too: say both.
    s, error, cause = failed[0]
    path = step_path(manager, s)
    raise CheckpointError(
        f"Could not restore checkpoint {s} from {path} ({cause}). If its "
        f"files are damaged, delete it (rm -r {path}); if the config changed, "
        "use the one the run was started with.") from error
  for bad, _, cause in failed:
    logging.warning(
        "Checkpoint %d in %s is damaged (%s); set aside as %s, "
        "resuming from checkpoint %d instead.", bad, step_path(manager, bad),
        cause, _set_aside(manager, bad), s)
  if failed:
    manager.reload()
  if data_iter is not None:
    data_iter.set_state(data_state)
  return state
