"""Generated scenes in learnit's layout and the ShapeNet loader."""

import json
import os
import pickle

import numpy as np
from PIL import Image
import pytest

from ginr_jax import rendering
from ginr_jax.cli import prepare
from ginr_jax.datasets import images
from ginr_jax.datasets import scenes
from ginr_jax.datasets import shapenet


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("scenes"))
  scenes.generate(root, "chairs", num_objects={"train": 2, "test": 1},
                  num_views=30, image_size=24, seed=0)
  return root


def test_layout_and_composited_views(scene_dir):
  folders = shapenet.object_folders(scene_dir, "chairs", "train")
  assert [os.path.basename(f) for f in folders] == ["train_0000", "train_0001"]
  paths, poses, angle = shapenet.read_transforms(folders[0])
  assert len(paths) == 30 and poses.shape == (30, 3, 4)
  assert angle == pytest.approx(scenes.CAMERA_ANGLE_X)
  rgba = np.asarray(Image.open(paths[0]))
  assert rgba.shape == (24, 24, 4)
  view = shapenet.load_view(paths[0])
  background = rgba[..., 3] == 0
  assert background.any() and (~background).any()
  np.testing.assert_array_equal(view[background], 1.0)  # white
  np.testing.assert_allclose(view[~background],
                             rgba[~background][:, :3] / 255.0, atol=1e-6)


def test_pose_and_focal_put_the_object_where_the_pixels_show_it(tmp_path):
  """A sphere of radius 0.8 at the origin: the rays the loader's pose and
  focal give for foreground pixels pass within 0.8 of the origin, the
  background ones outside it (learnit's conventions, both ways)."""
  shapes = [("sphere", np.zeros(3), 0.8, np.asarray([0.2, 0.5, 0.9]))]
  poses = scenes.camera_poses(np.random.default_rng(1), 3)
  scenes.write_object(str(tmp_path / "obj"), shapes, poses, 32)
  paths, loaded, angle = shapenet.read_transforms(str(tmp_path / "obj"))
  np.testing.assert_allclose(loaded, poses, atol=1e-6)
  for path, pose in zip(paths, loaded):
    foreground = np.asarray(Image.open(path))[..., 3] > 0
    o, d = (np.asarray(a, np.float64) for a in rendering.poses_to_rays(
        pose, 32, 32, rendering.focal_length(32, angle)))
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    miss = np.linalg.norm(np.cross(o, d), axis=-1)  # distance to origin
    assert np.all(miss[foreground] <= 0.8 + 1e-6)
    assert np.all(miss[~foreground] >= 0.8 - 1e-6)
    assert 0.1 < foreground.mean() < 0.9


def test_views_drawn_as_the_official_code(scene_dir):
  rng = np.random.default_rng(0)
  for _ in range(20):
    support, query = shapenet.draw_views(rng, 30, 4, 1, train=True)
    drawn = np.concatenate([support, query])
    assert len(set(drawn)) == 5 and drawn.max() < shapenet.TRAIN_VIEWS
  test_draws = np.concatenate([
      np.concatenate(shapenet.draw_views(rng, 30, 4, 1, train=False))
      for _ in range(20)
  ])
  assert test_draws.max() >= shapenet.TRAIN_VIEWS  # all views at test
  with pytest.raises(ValueError, match="need 27 distinct views"):
    shapenet.draw_views(rng, 30, 26, 1, train=True)
  example = shapenet.load_example(
      shapenet.object_folders(scene_dir, "chairs", "test")[0], rng, n_support=3,
      n_query=2, train=False)
  assert example["support_image"].shape == (3, 24, 24, 3)
  assert example["query_pose"].shape == (2, 3, 4)
  assert example["focal"] == pytest.approx(
      rendering.focal_length(24, scenes.CAMERA_ANGLE_X))


def test_more_support_views_keep_the_query_views():
  for seed in range(10):
    draws = [
        shapenet.draw_views(np.random.default_rng(seed), 50, s, 2, train=False)
        for s in (1, 3, 5)
    ]
    for support, query in draws:
      np.testing.assert_array_equal(query, draws[0][1])
      np.testing.assert_array_equal(support[:1], draws[0][0])
    np.testing.assert_array_equal(draws[2][0][:3], draws[1][0])


def test_figure_columns_need_more_than_one_view():
  # What makes more support views worth having: no camera sees all four
  # coloured columns of a figure's body (the lid hides its top), a ring of
  # cameras around it does.
  for index in range(5):
    shapes, _ = scenes.scene((0, 0, index), 1, "figure")
    assert [s[0] for s in shapes[:5]] == ["box"] * 5
    seen = []
    for azimuth in np.radians(np.arange(0, 360, 30) + 15):
      for elevation in np.radians([-10, 20, 60]):
        eye = scenes.CAMERA_RADIUS * np.array([
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation)
        ])
        ids = scenes.part_ids(shapes, scenes.look_at(eye), 32)
        columns = {i for i in range(4) if np.sum(ids == i) >= 2}
        assert len(columns) <= 3, (index, azimuth, elevation)
        seen.append(columns)
    assert set().union(*seen) == {0, 1, 2, 3}


def test_trace_colours_the_part_each_pixel_sees():
  shapes, poses = scenes.scene((0, 1, 2), 3, "figure")
  rgba = scenes.trace(shapes, poses[0], 24)
  ids = scenes.part_ids(shapes, poses[0], 24)
  np.testing.assert_array_equal(rgba[..., 3] == 255, ids >= 0)
  for i in np.unique(ids[ids >= 0]):
    # Lambertian shading scales the part's colour: the hue stays.
    rgb = rgba[ids == i, :3].astype(float)
    colour = np.asarray(shapes[i][3])
    ratio = rgb / (255 * colour)
    np.testing.assert_allclose(ratio, ratio[:, :1].repeat(3, 1), atol=0.03)


def test_view_cache_traces_once_and_drops_the_least_recent():
  cache = scenes.ViewCache(max_bytes=2 * 64)
  traced = []

  def view(k):

    def trace_view():
      traced.append(k)
      return np.full((4, 4, 4), k, np.uint8)  # 64 bytes

    return trace_view

  cache.get("a", view(1))
  cache.get("b", view(2))
  np.testing.assert_array_equal(cache.get("a", view(1)), 1)
  assert traced == [1, 2]
  cache.get("c", view(3))  # past 128 bytes: "b", the least recently read
  cache.get("a", view(1))
  cache.get("b", view(2))
  assert traced == [1, 2, 3, 2]


def test_examples_from_the_view_cache_equal_traced_ones(monkeypatch):
  _, transform = scenes.make(split="train", train=True, image_size=8,
                             n_support=2, objects="figure")
  first, cached = (transform(3, np.random.default_rng(0)) for _ in range(2))
  monkeypatch.setattr(scenes, "_VIEWS", scenes.ViewCache(max_bytes=0))
  traced = transform(3, np.random.default_rng(0))
  for key in first:
    np.testing.assert_array_equal(cached[key], first[key])
    np.testing.assert_array_equal(traced[key], first[key])


def test_make_repeats_objects_and_pickles(scene_dir):
  source, transform = shapenet.make(split="train", train=True,
                                    category="chairs", n_support=2,
                                    train_repeat=3, test_repeat=5,
                                    data_dir=scene_dir)
  assert len(source) == 6
  test_source, _ = shapenet.make(split="test", train=False, category="chairs",
                                 n_support=2, train_repeat=3, test_repeat=5,
                                 data_dir=scene_dir)
  assert len(test_source) == 5 * len(
      shapenet.object_folders(scene_dir, "chairs", "test"))
  transform = pickle.loads(pickle.dumps(transform))
  a = transform(source[0], np.random.default_rng(5))
  b = transform(source[0], np.random.default_rng(5))
  np.testing.assert_array_equal(a["support_image"], b["support_image"])
  with pytest.raises(ValueError, match="unknown category 'planes'"):
    shapenet.make(split="train", train=True, category="planes", n_support=1)


def test_split_entries_as_paths_and_objects_without_transforms(tmp_path):
  root = tmp_path / shapenet.FOLDER / "lamps"
  (root / "a").mkdir(parents=True)
  (root / "a" / "transforms.json").write_text(
      json.dumps({"camera_angle_x": 0.7, "frames": []}))
  (root / "b").mkdir()  # no transforms.json
  with open(shapenet.splits_file(str(tmp_path), "lamps"), "w") as f:
    json.dump({"train": ["/data/learnit/lamps/a/", "b"], "test": ["b"]}, f)
  assert shapenet.object_folders(str(tmp_path), "lamps",
                                 "train") == [str(root / "a")]
  with pytest.raises(images.DatasetNotFoundError, match="no object of split"):
    shapenet.object_folders(str(tmp_path), "lamps", "test")
  with pytest.raises(ValueError, match="has no split 'val'"):
    shapenet.object_folders(str(tmp_path), "lamps", "val")


def test_missing_dataset_names_the_folder_and_how_to_get_it(tmp_path):
  with pytest.raises(images.DatasetNotFoundError) as error:
    shapenet.object_folders(str(tmp_path), "cars", "train")
  message = str(error.value)
  assert os.path.join(str(tmp_path), shapenet.FOLDER,
                      "car_splits.json") in (message)
  assert "tancik/learnit" in message and "prepare scenes" in message


def test_prepare_scenes_refuses_to_overwrite(scene_dir):
  with pytest.raises(FileExistsError, match="chair_splits.json exists"):
    prepare.prepare_scenes(scene_dir)
