"""`python -m ginr_jax.render` and `.export` on a tiny trained run: a photo
of any size comes out at 4x the model's input size, from the workdir and
from its export alike, and each bad command prints one line."""

import functools
import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

import api_test
import errors_test


@functools.cache
def command_results():
  """(folder, {name: {rc, output}}) of every command, run once per test
  process in one forking subprocess (errors_test.run_commands)."""
  workdir, model, _ = api_test.exported()
  root = tempfile.mkdtemp(dir=os.path.dirname(model))
  photo = os.path.join(root, "photo.jpg")
  Image.fromarray(api_test.photo(61, 45)).save(photo)
  broken = errors_test.write_images(os.path.join(root, "broken"), 1, bad=0)[0]
  out = lambda name: f"--out={os.path.join(root, name)}"
  render = lambda *argv: ("ginr_jax.render", list(argv))
  cases = {
      "workdir_x4": render(f"--workdir={workdir}", f"--image={photo}",
                           "--scale=4", out("workdir_x4.png")),
      "model_x4": render(f"--model={model}", f"--image={photo}",
                         "--scale=4", out("model_x4.png")),
      "export": ("ginr_jax.export", [f"--workdir={workdir}",
                                     out("again.npz")]),
      "no_model": render(f"--image={photo}", out("x.png")),
      "missing_image": render(f"--model={model}", "--image=nope.jpg",
                              out("x.png")),
      "bad_size": render(f"--model={model}", f"--image={photo}",
                         "--size=12by4", out("x.png")),
      "two_inputs_one_out": render(f"--model={model}", f"--image={photo}",
                                   f"--image={photo}", out("x.png")),
      "no_out": render(f"--model={model}", f"--image={photo}"),
      "unreadable_image": render(f"--model={model}", f"--image={broken}",
                                 out("x.png")),
      "audio_to_image_model": render(f"--model={model}",
                                     f"--audio={photo}", out("x.wav")),
      "export_missing_workdir": ("ginr_jax.export", [
          f"--workdir={os.path.join(root, 'nope')}", out("x.npz")]),
  }
  results = errors_test.run_commands(list(cases.values()))
  return root, dict(zip(cases, results))


class RenderCommandTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root, cls.results = command_results()
    cls.side = api_test.exported()[2].input_shape[0]

  def read(self, name):
    return np.asarray(Image.open(os.path.join(self.root, name)))

  def test_photo_comes_out_at_4x_the_input_size(self):
    for name in ("workdir_x4", "model_x4"):
      self.assertEqual(self.results[name]["rc"], 0,
                       self.results[name]["output"])
      self.assertEqual(self.read(f"{name}.png").shape,
                       (4 * self.side, 4 * self.side, 3))
    np.testing.assert_array_equal(self.read("workdir_x4.png"),
                                  self.read("model_x4.png"))

  def test_export_writes_a_model_file(self):
    result = self.results["export"]
    self.assertEqual(result["rc"], 0, result["output"])
    self.assertIn("la_ginr at step 3", result["output"])
    with np.load(os.path.join(self.root, "again.npz")) as f:
      self.assertEqual(int(f["step"]), 3)

  def test_bad_commands_print_one_line(self):
    expected = {
        "no_model": "pass one of --workdir=W",
        "missing_image": "nope.jpg: no such file.",
        "bad_size": "--size=12by4: pass HxW",
        "two_inputs_one_out": "there are 2 inputs; pass --out_dir",
        "no_out": r"pass --out=FILE \(one input\) or --out_dir",
        "unreadable_image": "cannot read image .*img0.JPEG",
        "audio_to_image_model": "this is an image model: pass --image",
        "export_missing_workdir": "nope: no such folder",
    }
    for name, message in expected.items():
      result = self.results[name]
      lines = result["output"].strip().splitlines()
      self.assertEqual(result["rc"], 1, f"{name}: {result['output']}")
      self.assertLen(lines, 1, f"{name}: {result['output']}")
      self.assertRegex(lines[0], "^error: " + ".*" + message)


if __name__ == "__main__":
  absltest.main()
