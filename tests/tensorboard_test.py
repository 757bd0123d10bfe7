"""What a run shows: evaluation images and audio in TensorBoard (read back
from the event files without TensorFlow), labelled grids, parameter tables.

`folder_test.py` checks the same in a real (tiny) run's workdir.
"""

import glob
import io
import os
import struct
import wave

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
from tensorboardX.proto import event_pb2

from ginr_jax import evaluators
from ginr_jax import utils


def read_events(folder: str) -> list[event_pb2.Event]:
  """Every event of the event files directly in `folder`: TFRecords of
  (length: u64, its CRC: u32, Event proto, its CRC: u32)."""
  events = []
  for path in sorted(glob.glob(os.path.join(folder, "events.out.*"))):
    with open(path, "rb") as f:
      data = f.read()
    offset = 0
    while offset < len(data):
      (length,) = struct.unpack("<Q", data[offset:offset + 8])
      offset += 12
      events.append(event_pb2.Event.FromString(data[offset:offset + length]))
      offset += length + 4
  return events


def summaries(folder: str, kind: str) -> dict[str, object]:
  """{tag: the last value's `kind` field ("image", "audio", ...)}."""
  return {
      v.tag: getattr(v, kind)
      for e in read_events(folder) for v in e.summary.value if v.HasField(kind)
  }


def image_tags(folder: str) -> set[str]:
  return set(summaries(folder, "image"))


class TensorBoardTest(absltest.TestCase):

  def test_images_and_audio_read_back(self):
    workdir = self.create_tempdir().full_path
    writer = utils.MetricWriter(workdir)
    image = np.random.default_rng(0).integers(0, 256, (6, 10, 3), np.uint8)
    clip = np.sin(np.linspace(0, 60, 800))
    writer.write_images(5, {"images/grid": image})
    writer.write_audio(5, {"audio/0/target": clip}, 16_000)
    writer.write_scalars(5, {"eval/psnr": 20.0})
    writer.close()
    folder = os.path.join(workdir, "tensorboard")
    decoded = summaries(folder, "image")["images/grid"]
    np.testing.assert_array_equal(
        np.asarray(Image.open(io.BytesIO(decoded.encoded_image_string))), image)
    audio = summaries(folder, "audio")["audio/0/target"]
    self.assertEqual(audio.sample_rate, 16_000)
    with wave.open(io.BytesIO(audio.encoded_audio_string)) as f:
      samples = np.frombuffer(f.readframes(f.getnframes()), np.int16)
    np.testing.assert_allclose(samples / 32767, clip, atol=1e-3)
    self.assertIn("eval/psnr",
                  {v.tag for e in read_events(folder) for v in e.summary.value})


class GridTest(absltest.TestCase):

  def test_labels_sit_left_of_their_rows(self):
    rows = [np.zeros((3, 4, 5, 3)), np.ones((3, 4, 5, 3))]
    plain = evaluators.grid_canvas(rows)
    self.assertEqual(plain.shape, (2 * 6 + 2, 3 * 7 + 2, 3))
    labelled = evaluators.grid_canvas(rows, labels=("target", "recon x2"))
    margin = labelled.shape[1] - plain.shape[1]
    self.assertGreater(margin, 20)
    # The same grid to the right of the margin, text (dark) in the margin.
    np.testing.assert_array_equal(labelled[:, margin:], plain)
    self.assertLess(labelled[:, :margin].min(), 100)

  def test_views_grid_has_a_row_per_view(self):
    sample = {
        "support_image": np.zeros((3, 2, 4, 4, 3)), "query_image": np.zeros(
            (3, 1, 4, 4, 3))
    }
    grid = evaluators.views_grid(sample, np.ones((3, 1, 4, 4, 3)))
    # support 1, support 2, target, rendered; one column per object.
    self.assertEqual(grid.shape[0], 4 * 6 + 2)
    np.testing.assert_array_equal(grid[-6:-2, -6:-2], 255)


class ParameterTablesTest(absltest.TestCase):

  def test_one_table_per_module_from_shapes(self):
    params = {
        "encoder": {"dense": {"kernel": jnp.ones((3, 4))}},
        "composer_u": jnp.ones((2, 2))
    }
    tables = utils.parameter_tables(jax.eval_shape(lambda: params))
    self.assertLen(tables, 2)
    self.assertTrue(tables[0].startswith("encoder:\n"))
    self.assertIn("| dense/kernel | (3, 4) | float32 | 12   |", tables[0])
    self.assertIn("Total: 12", tables[0])
    self.assertTrue(tables[1].startswith("top-level arrays:\n"))
    self.assertIn("composer_u", tables[1])


if __name__ == "__main__":
  absltest.main()
