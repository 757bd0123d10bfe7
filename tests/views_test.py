"""Novel view synthesis through the trainer: support-view tokens, ray
sampling, rendering through the models, evaluation draws, TTO and orbits."""

import functools
import os

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest

from configs import nvs_demo
from configs import shapenet as shapenet_config
from ginr_jax import input_pipeline
from ginr_jax import orbit
from ginr_jax import rendering
from ginr_jax import train
from ginr_jax import tto
from ginr_jax.datasets import scenes
from ginr_jax.datasets import shapenet
from ginr_jax.models import tokenizers
from ginr_jax.tasks import views


class TokensTest(absltest.TestCase):

  def test_views_are_patched_one_by_one_and_concatenated(self):
    x = np.random.default_rng(0).normal(size=(2, 3, 16, 16, 9))
    tokens = tokenizers.patchify(x, 8, 0, rank=2)
    self.assertEqual(tokens.shape, (2, 3 * 4, 9 * 64))
    for v in range(3):
      np.testing.assert_array_equal(tokens[:, 4 * v:4 * (v + 1)],
                                    tokenizers.patchify(x[:, v], 8, 0))

  def test_encoder_channels_are_rgb_then_the_rays(self):
    shapes = dict(support_shape=(2, 8, 8, 3), query_shape=(1, 8, 8, 3),
                  num_rays=16)
    batch = jax.tree.map(
        jnp.asarray,
        views.Views(**shapes).dummy_batch(2, np.random.default_rng(0)))
    origins, directions = rendering.poses_to_rays(batch["support_pose"][1, 0],
                                                  8, 8, batch["focal"][1])
    for render, rays in (("volume", jnp.concatenate([origins, directions], -1)),
                         ("light_field", rendering.plucker(origins,
                                                           directions))):
      x = views.Views(render=render, **shapes).encoder_input(batch)
      self.assertEqual(x.shape, (2, 2, 8, 8, 9))
      np.testing.assert_array_equal(x[..., :3], batch["support_image"])
      np.testing.assert_allclose(x[1, 0, ..., 3:], rays, atol=1e-6)
      # ray_scale scales what the encoder reads, not the decoder's rays.
      scaled = views.Views(render=render, ray_scale=0.25, **shapes)
      np.testing.assert_allclose(
          scaled.encoder_input(batch)[..., 3:], 0.25 * x[..., 3:], atol=1e-6)
      np.testing.assert_array_equal(
          scaled.eval_inputs(batch)[0],
          views.Views(render=render, **shapes).eval_inputs(batch)[0])


class SupportSwapTest(absltest.TestCase):
  """The swap test's support views: [objects, views, ...] with the object
  index in the images and the view index in the poses."""

  def batch(self):
    objects, n_views = 3, 3
    image = np.arange(objects)[:, None, None] + np.zeros((1, n_views, 2))
    pose = np.arange(n_views)[None, :, None] + np.zeros((objects, 1, 2))
    return {
        "support_image": jnp.asarray(image), "support_pose": jnp.asarray(pose)
    }

  def test_other_object_from_a_given_view_on(self):
    for first, kept in ((0, 0), (1, 1)):
      out = views.other_support(self.batch(), first=first)
      owner = np.asarray(out["support_image"])[:, :, 0]
      # Views before `first` stay the object's own; later ones are the
      # previous object's (rolled by one), at the same view index.
      np.testing.assert_array_equal(owner[:, :kept],
                                    [[0] * kept, [1] * kept, [2] * kept])
      np.testing.assert_array_equal(
          owner[:, kept:],
          np.array([[2], [0], [1]]) + np.zeros((1, 3 - kept)))
      np.testing.assert_array_equal(out["support_pose"],
                                    self.batch()["support_pose"])

  def test_first_view_repeated_in_every_slot(self):
    out = views.first_view_repeated(self.batch())
    np.testing.assert_array_equal(out["support_pose"], np.zeros((3, 3, 2)))
    np.testing.assert_array_equal(
        np.asarray(out["support_image"])[:, :, 0],
        np.array([[0], [1], [2]]) + np.zeros((1, 3)))


class RaySamplingTest(absltest.TestCase):

  def colours(self, foreground: int):
    """[2, 100, 3] white rays but for `foreground` grey ones per object."""
    c = np.ones((2, 100, 3), np.float32)
    c[:, 10:10 + foreground] = 0.5
    return jnp.asarray(c)

  def test_uniform_rays_are_distinct(self):
    idx = views.sample_rays(jax.random.key(0), self.colours(5), 40, False)
    self.assertEqual(idx.shape, (2, 40))
    for row in np.asarray(idx):
      self.assertLen(set(row), 40)

  def adaptive_halves(self, seed: int, foreground: int):
    """The foreground-weighted halves of 40 adaptive rays per instance."""
    idx = views.sample_rays(jax.random.key(seed), self.colours(foreground), 40,
                            True)
    return np.asarray(idx)[:, :20]

  def test_adaptive_half_is_foreground_without_replacement(self):
    for first in self.adaptive_halves(0, foreground=30):
      self.assertTrue(np.all((first >= 10) & (first < 40)))
      self.assertLen(set(first), 20)

  def test_too_little_foreground_is_duplicated(self):
    for first in self.adaptive_halves(1, foreground=3):
      self.assertTrue(np.all((first >= 10) & (first < 13)), first)
      self.assertEqual(set(first), {10, 11, 12})

  def test_no_foreground_falls_back_to_uniform(self):
    idx = np.asarray(
        views.sample_rays(jax.random.key(2), self.colours(0), 40, True))
    self.assertLen(set(idx[0, :20]), 20)


def tiny(arg: str):
  config = nvs_demo.get_config(arg + ",tiny")
  setup = train.Setup(config)
  params = setup.init(jax.random.key(0))["params"]
  batch = jax.tree.map(jnp.asarray, input_pipeline.eval_sample(config.input, 4))
  return config, setup, params, batch


def predict_views(setup, params, batch, chunk: int):
  """(colours, targets) [B, M, 3] of every query ray, `chunk` at a time."""
  kwargs = dict(model=setup.model, task=setup.task)
  latents, _ = train.encode(params, batch, meta=setup.meta, **kwargs)
  rays, targets = setup.task.eval_inputs(batch)
  return train.predict(params, latents, rays, chunk=chunk, **kwargs), targets


def assert_object_independent_of_the_batch(arg):
  _, setup, params, batch = tiny(arg)
  many, _ = predict_views(setup, params, batch, 64)
  one, _ = predict_views(setup, params, jax.tree.map(lambda x: x[2:3], batch),
                         64)
  np.testing.assert_allclose(many[2:3], one, atol=1e-5, err_msg=arg)


@pytest.mark.slow
class TransINRViewsTest(absltest.TestCase):

  def test_an_object_does_not_depend_on_the_rest_of_the_batch(self):
    assert_object_independent_of_the_batch("views=2,model=transinr")


class RenderingThroughTheModelTest(absltest.TestCase):

  def test_volume_prediction_is_the_rendered_field_of_each_hyponet(self):
    config, setup, params, batch = tiny("views=2")
    model, task = setup.model, setup.task
    pred, targets = predict_views(setup, params, batch, 37)
    latents = model.apply({"params": params}, task.encoder_input(batch),
                          method="encode")
    hypo = model.apply({"params": params}, latents, method="hypo_params")
    coords, _ = task.eval_inputs(batch)
    for i in (0, 3):
      weights = jax.tree.map(lambda x, i=i: x[i] if x.ndim == 3 else x, hypo)
      field = functools.partial(model.hyponet.apply, weights)
      expected = rendering.render_rays(field, coords[i, :, :3], coords[i, :,
                                                                       3:],
                                       None, num_points=config.task.num_points)
      np.testing.assert_allclose(pred[i], expected, atol=1e-5)
    self.assertEqual(targets.shape, pred.shape)

  def test_an_object_does_not_depend_on_the_rest_of_the_batch(self):
    # Both renderings: volume (IPC) and light field (LA-GINR).
    for arg in ("views=2", "views=2,model=la_ginr"):
      assert_object_independent_of_the_batch(arg)

  def test_light_field_reads_pluecker_coordinates(self):
    _, setup, params, batch = tiny("views=1,model=la_ginr")
    coords, _ = setup.task.eval_inputs(batch)
    self.assertEqual(coords.shape[-1], 6)
    # Moving every ray origin along its ray changes nothing.
    origins, directions = setup.task.rays(batch["query_image"],
                                          batch["query_pose"], batch["focal"])
    moved = rendering.plucker(origins + 0.7 * directions, 2.0 * directions)
    np.testing.assert_allclose(coords, moved.reshape(coords.shape), atol=1e-5)


class EvaluationProtocolTest(absltest.TestCase):

  def test_test_draws_are_the_same_at_every_evaluation(self):
    config = nvs_demo.get_config("views=3,tiny")
    mesh = train.Setup(config).mesh

    def poses():
      return [
          np.asarray(b["support_pose"])
          for b in input_pipeline.eval_batches(config.input, mesh)
      ]

    first, second = poses(), poses()
    for a, b in zip(first, second):
      np.testing.assert_array_equal(a, b)
    # ... and differ between the repeats of one object.
    self.assertFalse(np.array_equal(first[0][0], first[0][1]))

  def test_shapenet_config_reads_the_learnit_layout(self):
    root = self.create_tempdir().full_path
    scenes.generate(root, "lamps", num_objects={"train": 2, "test": 1},
                    num_views=30, image_size=16, seed=0)
    config = shapenet_config.get_config("lamps,views=2,tiny")
    config.input.name = "shapenet"
    config.input.data_dir = root
    config.input.kwargs = dict(category="lamps", n_support=2, train_repeat=3,
                               test_repeat=5)
    batch = next(
        input_pipeline.TrainIterator(config.input,
                                     train.Setup(config).mesh, 0))
    self.assertEqual(batch["support_image"].shape, (8, 2, 16, 16, 3))
    count = sum(
        int(np.sum(b["mask"]))
        for b in input_pipeline.eval_batches(config.input,
                                             train.Setup(config).mesh))
    self.assertEqual(count, 5)  # 1 test object x 5 repeats
    config.input.image_size = 32
    with self.assertRaisesRegex(ValueError, "input.image_size is 32"):
      next(
          input_pipeline.TrainIterator(config.input,
                                       train.Setup(config).mesh, 0))

  def test_generated_views_match_the_files_of_the_same_object(self):
    root = self.create_tempdir().full_path
    shapes, poses = scenes.scene((0, 1, 2), 30)
    scenes.write_object(os.path.join(root, "obj"), shapes, poses, 16)
    paths, _, _ = shapenet.read_transforms(os.path.join(root, "obj"))
    source, transform = scenes.make(split="test", train=False, image_size=16,
                                    n_support=1, test_objects=3, num_views=30)
    example = transform(source[2], np.random.default_rng(0))
    support, query = shapenet.draw_views(np.random.default_rng(0), 30, 1, 1,
                                         train=False)
    np.testing.assert_allclose(example["support_image"][0],
                               shapenet.load_view(paths[support[0]]), atol=1e-6)
    np.testing.assert_allclose(example["query_pose"][0], poses[query[0]],
                               atol=1e-6)


class TTOAndOrbitTest(absltest.TestCase):

  def test_tto_raises_the_novel_view_psnr(self):
    config, setup, params, batch = tiny("views=2")
    for what in ("latents", "all"):
      psnr, _ = tto.optimize(config, setup, params, batch, what=what, steps=8,
                             lr=3e-2, rays=64)
      self.assertEqual(psnr.shape, (9, 4))
      # Fitting the support views moves the query views' PSNR up on
      # average (these untrained objects are white-dominated blobs).
      self.assertGreater(psnr[-1].mean(), psnr[0].mean(), what)

  def test_orbit_frames_and_gif(self):
    _, setup, params, batch = tiny("views=1")
    example = {k: np.asarray(v[0]) for k, v in batch.items()}
    poses = orbit.orbit_poses(5, 30.0)
    # Every camera looks at the origin from the scenes' distance.
    np.testing.assert_allclose(np.linalg.norm(poses[:, :, 3], axis=-1), 4.0,
                               rtol=1e-5)
    np.testing.assert_allclose(
        np.einsum("fi,fi->f", -poses[:, :, 2], -poses[:, :, 3]), 4.0, rtol=1e-5)
    frames = orbit.render_orbit(setup, params, example, poses)
    size = example["query_image"].shape[-2]
    self.assertEqual(frames.shape, (5, size, size, 3))
    gif, png = orbit.write_orbit(self.create_tempdir().full_path, "o",
                                 example["support_image"], frames)
    self.assertEqual(Image.open(gif).n_frames, 5)
    self.assertEqual(np.asarray(Image.open(png)).shape[1], 6 * (size + 2) + 2)


if __name__ == "__main__":
  absltest.main()
