"""Damaged checkpoints and failed saves: named in one line, the last good
checkpoint kept (the kill tests in survival_test.py damage files likewise)."""

import glob
import os
import resource

from absl.testing import absltest
import jax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import jax.numpy as jnp
import numpy as np

from ginr_jax import checkpoint

# ---------------------------------------------------------------- helpers


def small_state(seed: int):
  """A train-state-like tree on the 4 test devices, one leaf sharded."""
  mesh = jax.make_mesh((4,), ("data",))
  rng = np.random.RandomState(seed)
  state = {
      "step": np.int32(seed), "params": {
          "w": rng.randn(256, 64).astype(np.float32),
          "b": rng.randn(8).astype(jnp.bfloat16)
      }, "opt": [{"count": np.int32(seed)}]
  }
  shardings = jax.tree.map(lambda _: NamedSharding(mesh, P()), state)
  shardings["params"]["w"] = NamedSharding(mesh, P("data"))
  return jax.device_put(state, shardings)


class Iterator:
  """Stands in for the data iterator: keeps the state it is given."""

  state = None

  def set_state(self, state):
    self.state = state


def save_steps(workdir: str, steps) -> checkpoint.ocp.CheckpointManager:
  manager = checkpoint.make_manager(workdir)
  for s in steps:
    checkpoint.save(manager, s, small_state(s), {"next_index": s})
  checkpoint.finish(manager)
  return manager


def abstract():
  state = small_state(0)
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding),
      state)


def biggest_data_file(step_dir: str) -> str:
  """The largest array data file of a checkpoint (its values, compressed)."""
  files = glob.glob(os.path.join(step_dir, "state", "**", "d", "*"),
                    recursive=True)
  return max(files, key=os.path.getsize)


def damage(path: str, how: str):
  with open(path, "rb") as f:
    data = bytearray(f.read())
  middle = len(data) // 2
  if how == "truncate":
    data = data[:middle]
  elif how == "flip_byte":
    data[middle] ^= 0x40
  else:  # "overwrite": same length, other bytes
    data[middle:middle + 4] = b"ginr"
  with open(path, "wb") as f:
    f.write(bytes(data))


def assert_trees_equal(test, a, b):
  for x, y in zip(jax.tree.leaves(jax.device_get(a)),
                  jax.tree.leaves(jax.device_get(b))):
    test.assertEqual(np.asarray(x).tobytes(), np.asarray(y).tobytes())


# ------------------------------------------------------ damaged checkpoints


class ChecksumTest(absltest.TestCase):

  def test_same_for_any_sharding_and_changes_with_one_bit(self):
    state = small_state(3)
    sums = checkpoint.checksums(state, {"next_index": 3})
    self.assertEqual(
        sums, checkpoint.checksums(jax.device_get(state), {"next_index": 3}))
    flipped = np.asarray(state["params"]["w"]).copy()
    flipped.view(np.uint32)[100, 7] ^= 1
    other = dict(state, params=dict(state["params"], w=flipped))
    changed = checkpoint.checksums(other, {"next_index": 3})
    self.assertNotEqual(changed["state"]["['params']['w']"],
                        sums["state"]["['params']['w']"])
    self.assertNotEqual(sums["data"],
                        checkpoint.checksums(state, {"next_index": 4})["data"])


class DamagedCheckpointTest(absltest.TestCase):

  def restore_after_damage(self, how: str, item: str = "state"):
    workdir = self.create_tempdir().full_path
    save_steps(workdir, [1, 2])
    step_dir = os.path.join(workdir, "checkpoints", "2")
    damage(
        biggest_data_file(step_dir) if item == "state" else os.path.join(
            step_dir, "data", "metadata"), how)
    manager = checkpoint.make_manager(workdir)
    data = Iterator()
    with self.assertLogs(level="WARNING") as logs:
      state = checkpoint.restore(manager, abstract(), data)
    assert_trees_equal(self, state, small_state(1))
    self.assertEqual(data.state, {"next_index": 1})
    self.assertIn(f"Checkpoint 2 in {step_dir} is damaged", logs.output[0])
    self.assertTrue(os.path.isdir(step_dir + ".damaged"))
    self.assertEqual(manager.all_steps(), [1])
    # Training goes on from step 1 and saves step 2 again.
    checkpoint.save(manager, 2, small_state(2), {"next_index": 2})
    checkpoint.finish(manager)
    assert_trees_equal(self, checkpoint.restore(manager, abstract()),
                       small_state(2))

  def test_truncated_data_file_falls_back(self):
    self.restore_after_damage("truncate")

  def test_flipped_byte_falls_back(self):
    # orbax alone restores this one with a wrong value and no error.
    self.restore_after_damage("flip_byte")

  def test_overwritten_bytes_fall_back(self):
    self.restore_after_damage("overwrite")

  def test_overwritten_iterator_state_falls_back(self):
    self.restore_after_damage("flip_byte", item="data")

  def test_requested_damaged_step_says_how_to_remove_it(self):
    workdir = self.create_tempdir().full_path
    save_steps(workdir, [1, 2])
    step_dir = os.path.join(workdir, "checkpoints", "2")
    damage(biggest_data_file(step_dir), "flip_byte")
    manager = checkpoint.make_manager(workdir)
    with self.assertRaisesRegex(checkpoint.CheckpointError,
                                f"checkpoint 2 .*rm -r {step_dir}"):
      checkpoint.restore(manager, abstract(), step=2)
    assert_trees_equal(self, checkpoint.restore(manager, abstract(), step=1),
                       small_state(1))

  def test_all_damaged_names_the_newest_and_keeps_them(self):
    workdir = self.create_tempdir().full_path
    save_steps(workdir, [1, 2])
    for s in (1, 2):
      damage(biggest_data_file(os.path.join(workdir, "checkpoints", str(s))),
             "flip_byte")
    manager = checkpoint.make_manager(workdir)
    with self.assertRaisesRegex(checkpoint.CheckpointError,
                                "Could not restore checkpoint 2 .*rm -r"):
      checkpoint.restore(manager, abstract(), Iterator())
    self.assertEqual(sorted(os.listdir(os.path.join(workdir, "checkpoints"))),
                     ["1", "2"])


# ----------------------------------------------------------- failed saves


class FailedSaveTest(absltest.TestCase):

  def check_failed_save_of_step_2(self, workdir, obstruct, unobstruct):
    manager = save_steps(workdir, [1])
    obstruct()
    try:
      with self.assertRaises(checkpoint.CheckpointError) as caught:
        checkpoint.save(manager, 2, small_state(2), {"next_index": 2})
        checkpoint.finish(manager)
    finally:
      unobstruct()
    message = str(caught.exception)
    self.assertIn("Saving checkpoint 2 in", message)
    self.assertIn("The last good checkpoint is step 1", message)
    self.assertNotIn("\n", message)
    restored = checkpoint.restore(checkpoint.make_manager(workdir), abstract(),
                                  step=1)
    assert_trees_equal(self, restored, small_state(1))
    return message

  def test_disk_full(self):
    # A file-size limit makes the kernel refuse the write (EFBIG) the way a
    # full disk does (ENOSPC); Python ignores SIGXFSZ, so the call fails.
    workdir = self.create_tempdir().full_path
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    message = self.check_failed_save_of_step_2(
        workdir, lambda: resource.setrlimit(resource.RLIMIT_FSIZE,
                                            (16 * 1024, limits[1])),
        lambda: resource.setrlimit(resource.RLIMIT_FSIZE, limits))
    self.assertIn("File too large", message)

  def test_unwritable_checkpoint_folder(self):
    # root may write anywhere, but not into a file: the folder is moved away
    # and a file put in its place (as when a mount goes away).
    workdir = self.create_tempdir().full_path
    folder = os.path.join(workdir, "checkpoints")

    def obstruct():
      os.rename(folder, folder + ".away")
      open(folder, "w").close()

    def unobstruct():
      os.remove(folder)
      os.rename(folder + ".away", folder)

    message = self.check_failed_save_of_step_2(workdir, obstruct, unobstruct)
    self.assertIn("Not a directory", message)


if __name__ == "__main__":
  absltest.main()
