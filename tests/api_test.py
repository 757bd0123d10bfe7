"""The Python API and its commands (`render`, `export`) on a tiny trained
run: shapes at any size, one compile per shape, a workdir and its export
render identically, numpy alone reads the export, renders equal the
trainer's, and bad inputs fail in one line saying what to pass.

The run is analysis_test's (trained once per test process); the commands
run in one forking subprocess (errors_test.run_commands)."""

import functools
import json
import os
import tempfile

from absl.testing import absltest
import jax
import numpy as np
from PIL import Image
import soundfile

import analysis_test
import errors_test
import ginr_jax
from ginr_jax import api
from ginr_jax import cli
from ginr_jax import portable
from ginr_jax import train
from ginr_jax.cli import export
from configs import audio_demo
from configs import nvs_demo


@functools.cache
def exported():
  """(workdir, its export, the loaded workdir) of analysis_test's tiny
  LA-GINR run, once per test process."""
  root, workdir, _ = analysis_test.trained_la_ginr()
  path = os.path.join(root, "model.npz")
  return workdir, path, export.export(workdir, path)


def initialised(config) -> api.Model:
  """A handle on a model's initial parameters: no training needed for
  checks of shapes and of equality with the trainer's rendering."""
  setup = train.Setup(api.on_one_device(config))
  params = setup.init(jax.random.key(0))["params"]
  return api.Model(config, setup, params, 0, "init")


def photo(h=37, w=53, seed=0) -> np.ndarray:
  return np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)


class ApiTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.workdir, cls.path, cls.model = exported()
    cls.side = cls.model.input_shape[0]

  def test_load_is_reexported_lazily(self):
    self.assertIs(ginr_jax.load, api.load)
    self.assertEqual(self.model.kind, "image")
    self.assertEqual(self.model.step, 3)

  def test_any_image_size_in_any_size_out(self):
    model = self.model
    one = model.encode(photo())
    self.assertEqual(one.shape[0], 1)
    batch = np.stack([photo(seed=1), photo(seed=2)]).astype(np.float32) / 255
    self.assertEqual(model.encode(batch).shape, (2, *one.shape[1:]))
    x4 = model.reconstruct(photo(), scale=4)
    self.assertEqual(x4.shape, (1, 4 * self.side, 4 * self.side, 3))
    self.assertTrue(0.0 <= x4.min() and x4.max() <= 1.0)
    self.assertEqual(model.render(one, size=(20, 30)).shape, (1, 20, 30, 3))

  def test_renders_as_the_trainers_denser_grids(self):
    images = (np.stack([photo(self.side, self.side, seed=s) for s in (3, 4)
                       ]).astype(np.float32) / 255)
    setup = self.model.setup
    latents, _ = setup.encode_fn(self.model.params, {"image": images})
    grid = setup.task.grid(images.shape[1:3], 2)
    pred = setup.predict_fn(self.model.params, latents, grid.reshape(-1, 2))
    trainers = np.clip(pred.reshape(2, *grid.shape[:-1], 3), 0, 1)
    np.testing.assert_allclose(self.model.reconstruct(images, scale=2),
                               trainers, atol=1e-6)

  def test_images_of_the_models_size_match_the_test_preprocessing(self):
    # A float image at the input size is used as it is; a uint8 one goes
    # through the test split's resize + centre crop (here the identity).
    image = photo(self.side, self.side)
    np.testing.assert_array_equal(
        self.model.preprocess(image)[0],
        image.astype(np.float32) / 255)
    fine = np.random.default_rng(0).uniform(size=image.shape)
    np.testing.assert_array_equal(
        self.model.preprocess(fine)[0], fine.astype(np.float32))

  def test_each_shape_compiles_once(self):
    latents = self.model.encode(photo())
    for _ in range(2):
      self.model.render(latents, size=(9, 11))
    render = self.model.setup.predict_fn
    before = render._cache_size()  # pylint: disable=protected-access
    self.model.render(latents, size=(9, 11))
    self.assertEqual(render._cache_size(), before)  # pylint: disable=protected-access

  def test_workdir_and_export_render_identically(self):
    from_file = api.load(self.path)
    self.assertEqual(from_file.step, self.model.step)
    for scale in (1, 3):
      np.testing.assert_array_equal(
          from_file.reconstruct(photo(), scale=scale),
          self.model.reconstruct(photo(), scale=scale))

  def test_export_reads_with_numpy_alone(self):
    with np.load(self.path, allow_pickle=False) as f:
      config = json.loads(str(f["config"]))
      self.assertEqual(config["model_name"], "la_ginr")
      self.assertEqual(int(f["step"]), 3)
      names = [n for n in f.files if n.startswith("params/")]
      arrays = {n: f[n] for n in names}
    leaves = jax.tree_util.tree_leaves_with_path(self.model.params)
    self.assertLen(names, len(leaves))
    for path, leaf in leaves:
      name = "params/" + "/".join(k.key for k in path)
      np.testing.assert_array_equal(arrays[name], np.asarray(leaf))

  def test_locality_and_tto(self):
    recon, maps = self.model.locality(photo(), tokens=[0, 2], scale=2)
    self.assertEqual(recon.shape, (1, 2 * self.side, 2 * self.side, 3))
    self.assertEqual(maps.shape, (2, 1, 2 * self.side, 2 * self.side))
    self.assertGreater(float(maps.max()), 0.0)
    psnr, seconds = self.model.tto(photo(), steps=3, lr=1e-2)
    self.assertEqual((psnr.shape, seconds.shape), ((4, 1), (4,)))
    self.assertGreater(psnr[-1, 0], psnr[0, 0])
    psnr, _ = self.model.fit_ffnets(photo(), steps=2)
    self.assertEqual(psnr.shape, (3, 1))

  def test_bad_inputs_say_what_to_pass(self):
    cases = {
        "pass one HxWx3 image or a batch BxHxWx3": np.zeros((8, 8)),
        "4 channels: this model reads 3 .*drop alpha": np.zeros(
            (8, 8, 4)), "must lie in \\[0, 1\\]": np.full((8, 8, 3), 2.0)
    }
    for message, images in cases.items():
      with self.assertRaisesRegex(cli.UserError, message):
        self.model.encode(images)
    with self.assertRaisesRegex(cli.UserError, "render_views renders novel"):
      self.model.render_views(self.model.encode(photo()), np.eye(4)[:3])
    with self.assertRaisesRegex(cli.UserError, "no such workdir or file"):
      api.load(os.path.join(self.workdir, "nope"))
    with self.assertRaisesRegex(cli.UserError, "holds one step"):
      api.load(self.path, step=3)
    with self.assertRaisesRegex(cli.UserError, "not a ginr_jax model file"):
      not_a_model = os.path.join(os.path.dirname(self.path), "other.npz")
      np.savez(not_a_model, x=np.zeros(3))
      api.load(not_a_model)


def as_the_trainer(model, batch):
  """The trainer's predictions [B, N, C] at a batch's own coordinates."""
  latents, _ = model.setup.encode_fn(model.params, batch)
  coords, _ = model.setup.task.eval_inputs(batch)
  return model.setup.predict_fn(model.params, latents, coords)


class OtherModalitiesTest(absltest.TestCase):

  def test_audio_at_any_rate_and_length(self):
    model = initialised(audio_demo.get_config("tiny"))
    (t, _), rate = model.input_shape, api.SAMPLE_RATE
    self.assertEqual(model.kind, "audio")
    clip = np.random.default_rng(0).uniform(-1, 1, 3 * t).astype(np.float32)
    # The first T samples, as the test split cuts clips; 8 kHz is resampled.
    np.testing.assert_array_equal(model.preprocess(clip)[0, :, 0], clip[:t])
    self.assertEqual(
        model.preprocess(clip[:t], rate=rate // 2).shape, (1, t, 1))
    latents = model.encode(clip[None, :, None])
    np.testing.assert_allclose(
        model.render(latents),
        as_the_trainer(model, {"audio": clip[None, :t, None]}), atol=1e-6)
    self.assertEqual(model.render(latents, rate=4 * rate).shape, (1, 4 * t, 1))
    self.assertEqual(
        model.render(latents, seconds=t / rate / 2).shape, (1, t // 2, 1))
    with self.assertRaisesRegex(cli.UserError, "reads mono audio"):
      model.encode(np.zeros((1, t, 2)))

  def test_novel_views_as_the_trainer_predicts_them(self):
    config = nvs_demo.get_config("views=2,tiny")
    model = initialised(config)
    self.assertEqual(model.kind, "views")
    batch = model.setup.task.dummy_batch(2, np.random.default_rng(0))
    latents = model.encode(batch["support_image"], batch["support_pose"],
                           batch["focal"])
    views = model.render_views(latents, batch["query_pose"],
                               focal=batch["focal"][0])
    self.assertEqual(views.shape, batch["query_image"].shape)
    predicted = as_the_trainer(model, batch)
    np.testing.assert_allclose(views.reshape(predicted.shape), predicted,
                               atol=1e-6)
    side = 2 * config.input.image_size
    self.assertEqual(
        model.render_views(latents, batch["query_pose"][0], size=side).shape,
        (2, 1, side, side, 3))
    with self.assertRaisesRegex(cli.UserError, "reads 2 views of"):
      model.encode(batch["support_image"][:, :1], batch["support_pose"][:, :1])


@functools.cache
def command_results():
  """(folder, {name: {rc, output}}) of every command, run once per test
  process in one forking subprocess (errors_test.run_commands)."""
  workdir, model, _ = exported()
  root = tempfile.mkdtemp(dir=os.path.dirname(model))
  image = os.path.join(root, "photo.jpg")
  Image.fromarray(photo(61, 45)).save(image)
  broken = errors_test.write_images(os.path.join(root, "broken"), 1, bad=0)[0]
  # An audio model's export, from its initial parameters: the command's
  # shapes and files do not depend on training.
  audio = initialised(audio_demo.get_config("tiny"))
  audio_model = os.path.join(root, "audio.npz")
  portable.write(audio_model, audio.config, audio.params, 0)
  clip = os.path.join(root, "clip.wav")
  soundfile.write(clip, np.zeros((3 * audio.input_shape[0], 2)), 8000)

  def out(name):
    return f"--out={os.path.join(root, name)}"

  def render(*argv):
    return ("ginr_jax.cli.render", list(argv))

  cases = {
      "workdir_x4": render(f"--workdir={workdir}", f"--image={image}",
                           "--scale=4", out("workdir_x4.png")),
      "model_x4": render(f"--model={model}", f"--image={image}", "--scale=4",
                         out("model_x4.png")),
      "audio_32k": render(f"--model={audio_model}", f"--audio={clip}",
                          "--rate=32000", out("clip_32k.wav")), "export":
                              ("ginr_jax.cli.export",
                               [f"--workdir={workdir}",
                                out("again.npz")
                               ]), "no_model": render(f"--image={image}",
                                                      out("x.png")),
      "missing_image": render(f"--model={model}", "--image=nope.jpg",
                              out("x.png")),
      "bad_size": render(f"--model={model}", f"--image={image}", "--size=12by4",
                         out("x.png")),
      "two_inputs_one_out": render(f"--model={model}", f"--image={image}",
                                   f"--image={image}", out("x.png")),
      "no_out": render(f"--model={model}", f"--image={image}"),
      "unreadable_image": render(f"--model={model}", f"--image={broken}",
                                 out("x.png")),
      "audio_to_image_model": render(f"--model={model}", f"--audio={image}",
                                     out("x.wav")),
      "export_missing_workdir":
          ("ginr_jax.cli.export",
           [f"--workdir={os.path.join(root, 'nope')}",
            out("x.npz")])
  }
  results = errors_test.run_commands(list(cases.values()))
  return root, dict(zip(cases, results))


class RenderCommandTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root, cls.results = command_results()
    cls.side = exported()[2].input_shape[0]

  def read(self, name):
    return np.asarray(Image.open(os.path.join(self.root, name)))

  def test_photo_comes_out_at_4x_the_input_size(self):
    for name in ("workdir_x4", "model_x4"):
      self.assertEqual(self.results[name]["rc"], 0,
                       self.results[name]["output"])
      self.assertEqual(
          self.read(f"{name}.png").shape, (4 * self.side, 4 * self.side, 3))
    np.testing.assert_array_equal(self.read("workdir_x4.png"),
                                  self.read("model_x4.png"))

  def test_audio_comes_out_at_the_asked_rate(self):
    result = self.results["audio_32k"]
    self.assertEqual(result["rc"], 0, result["output"])
    samples, rate = soundfile.read(os.path.join(self.root, "clip_32k.wav"))
    # The model's clip length (a stereo 8 kHz file is mixed and resampled).
    clip = audio_demo.get_config("tiny").input.kwargs.seconds
    self.assertEqual((rate, samples.shape), (32000, (round(32000 * clip),)))

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
        "export_missing_workdir": "nope: no such folder"
    }
    for name, message in expected.items():
      result = self.results[name]
      lines = result["output"].strip().splitlines()
      self.assertEqual(result["rc"], 1, f"{name}: {result['output']}")
      self.assertLen(lines, 1, f"{name}: {result['output']}")
      self.assertRegex(lines[0], "^error: " + ".*" + message)


if __name__ == "__main__":
  absltest.main()
