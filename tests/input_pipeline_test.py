"""The training input pipeline's worker processes and the input benchmark,
on ImageNette look-alike files (`prepare imagenette_like`, a few of them).

Workers make the batches of one process, in the same order; the iterator's
state is the next batch's index whatever the workers, so a run may resume
with another worker count (here: a state of the in-process iterator resumed
by workers); the worker count is capped at the host's cores
less one; `benchmark_input` prints its JSON line.
"""

import json
import math
import os
import subprocess
import sys
import textwrap
from unittest import mock

from absl.testing import absltest
import numpy as np
from PIL import Image

from configs import imagenette
from ginr_jax import cli
from ginr_jax import input_pipeline
from ginr_jax import sharding
from ginr_jax.cli import prepare
from ginr_jax.datasets import images

ROOT = os.path.join(os.path.dirname(__file__), "..")


def imagenette_like(data_dir):
  """A few ImageNette look-alike files and a small-image config of them."""
  prepare.write_lookalike("imagenette", data_dir, {"train": 10, "test": 2})
  config = imagenette.get_config()
  config.input.update(data_dir=data_dir, image_size=32, batch_size=4,
                      num_threads=1)
  return config


def take(data, n):
  return [np.asarray(next(data)["image"]) for _ in range(n)]


class WorkersTest(absltest.TestCase):

  def test_workers_resume_the_batches_of_one_process(self):
    config = imagenette_like(self.create_tempdir().full_path)
    mesh = sharding.make_mesh()

    def iterator(workers):
      return input_pipeline.TrainIterator(config.input, mesh, seed=3,
                                          num_workers=workers)

    alone = iterator(0)
    expected = take(alone, 6)  # 24 examples: into the second epoch of 10
    self.assertEqual(alone.get_state(), {"next_index": 6})
    # Resumed at batch 3 by two workers (one start of them: they are slow
    # to start), which make batches 3, 5 and 4, 6 of the same stream.
    workers = iterator(2)
    workers.set_state({"next_index": 3})
    try:
      got = take(workers, 3)
      state = workers.get_state()
    finally:
      workers.close()
    for e, g in zip(expected[3:], got):
      np.testing.assert_array_equal(e, g)
    self.assertEqual(state, {"next_index": 6})

  def test_worker_count_leaves_a_core_to_training(self):
    for cores, setting, count in [(2, 8, 1), (1, 8, 0), (16, 8, 8),
                                  (16, 20, 15), (16, 0, 0)]:
      with mock.patch.object(os, "sched_getaffinity",
                             return_value=set(range(cores))):
        self.assertEqual(input_pipeline.worker_count(setting), count,
                         (cores, setting))


class LookalikeTest(absltest.TestCase):

  def test_files_have_the_real_layout_size_and_format(self):
    data_dir = self.create_tempdir().full_path
    counts = prepare.write_lookalike("imagenette", data_dir,
                                     {"train": 11, "test": 2})
    self.assertEqual(counts, {"train": 11, "test": 2})
    folder = os.path.join(data_dir, "imagenette2-320")
    self.assertLen(os.listdir(os.path.join(folder, "train")), 10)  # classes
    for path in images.imagenette_files(data_dir, "train"):
      with Image.open(path) as img:
        self.assertEqual((img.format, img.mode, min(img.size)),
                         ("JPEG", "RGB", 320))
    counts = prepare.write_lookalike("ffhq", data_dir, {"train": 1, "test": 1})
    self.assertEqual(counts, {"train": 1, "test": 1})
    for name in ("00000.png", "60000.png"):
      with Image.open(os.path.join(data_dir, "ffhq", name)) as img:
        self.assertEqual((img.format, img.mode, img.size),
                         ("PNG", "RGB", (1024, 1024)))
    with self.assertRaises(cli.ExistsError):
      prepare.write_lookalike("ffhq", data_dir, {"train": 1, "test": 1})


class BenchmarkInputTest(absltest.TestCase):

  def test_prints_the_rates_of_the_training_batches(self):
    config = imagenette_like(self.create_tempdir().full_path)
    proc = subprocess.run([
        sys.executable, "-m", "ginr_jax.cli.benchmark_input",
        "--config=configs/imagenette.py",
        f"--config.input.data_dir={config.input.data_dir}",
        "--config.input.batch_size=4", "--batches=8", "--warmup=1",
        "--workers=1", "--threads=2", "--target=100"
    ], cwd=ROOT, capture_output=True, text=True, timeout=120)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    result = json.loads(proc.stdout.splitlines()[-1])
    self.assertEqual(
        {
            k: result[k] for k in ("dataset", "image_size", "batch_size",
                                  "workers", "threads", "batches")
        },
        dict(dataset="imagenette", image_size=178, batch_size=4, workers=1,
             threads=2, batches=8))
    self.assertAlmostEqual(result["examples_per_sec"], 32 / result["wall_sec"])
    self.assertAlmostEqual(result["examples_per_cpu_sec"],
                           32 / result["cpu_sec"])
    self.assertEqual(result["workers_for_target"],
                     math.ceil(100 / result["examples_per_cpu_sec"]))

  def test_cpu_time_counts_the_workers(self):
    # In a process of its own: the command's flags would clash with other
    # commands' in the test process.
    code = textwrap.dedent("""
        import multiprocessing, time
        from ginr_jax.cli import benchmark_input

        def spin(busy):
          while time.process_time() < 0.5:
            pass
          busy.set()
          time.sleep(60)

        if __name__ == "__main__":
          busy = multiprocessing.Event()
          child = multiprocessing.Process(target=spin, args=(busy,))
          start = benchmark_input.cpu_seconds()
          child.start()
          busy.wait()
          print(benchmark_input.cpu_seconds() - start)
          child.kill()
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    # The child's 0.5 s, while this process waited.
    self.assertBetween(float(proc.stdout.split()[-1]), 0.45, 5.0)


if __name__ == "__main__":
  absltest.main()
