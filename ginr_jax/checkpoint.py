"""orbax checkpoints of the train state together with the data iterator.

A checkpoint is `workdir/checkpoints/<step>/` (or `config.checkpoint_dir`)
with two items: "state" (the
train-state pytree, restored with its shardings) and "data" (the iterator
state as JSON), so a resumed run sees exactly the batches it would have seen.
orbax writes into a temporary folder and renames it when complete, so an
interrupted save never leaves a checkpoint that looks finished.
"""

import os

import jax
import orbax.checkpoint as ocp


def directory(workdir: str, checkpoint_dir: str = "") -> str:
  """`checkpoint_dir` (a path every host reaches, e.g. gs://bucket/run, for
  runs on several hosts without a shared file system), else
  WORKDIR/checkpoints."""
  if checkpoint_dir:
    return checkpoint_dir if "://" in checkpoint_dir else os.path.abspath(
        checkpoint_dir)
  return os.path.join(os.path.abspath(workdir), "checkpoints")


def make_manager(workdir: str, max_to_keep: int = 2,
                 checkpoint_dir: str = "") -> ocp.CheckpointManager:
  return ocp.CheckpointManager(
      directory(workdir, checkpoint_dir),
      options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep,
                                           create=True))


def save(manager: ocp.CheckpointManager, step: int, state, data_state: dict):
  """Saves `state` and the data iterator's state taken right after `step`."""
  manager.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(state),
      data=ocp.args.JsonSave(data_state)))


def abstract_like(shapes, shardings):
  """ShapeDtypeStructs carrying the target shardings, for restoring."""
  return jax.tree.map(
      lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh),
      shapes, shardings)


def restore(manager: ocp.CheckpointManager, abstract_state, data_iter=None,
            step: int | None = None):
  """Restores the state (and the iterator, if given) of `step` or the latest."""
  step = manager.latest_step() if step is None else step
  items = dict(state=ocp.args.StandardRestore(abstract_state))
  if data_iter is not None:
    items["data"] = ocp.args.JsonRestore()
  restored = manager.restore(step, args=ocp.args.Composite(**items))
  if data_iter is not None:
    data_iter.set_state(restored["data"])
  return restored["state"]
