"""Tests for ginr_jax.datasets: layouts, splits, sources and errors (the
preprocessing of each source: preprocess_test.py).

Folder datasets are generated in their real on-disk layouts (tiny JPEG/PNG
files, conftest.py) in temporary folders; nothing touches the network.
"""

import os
import pickle
import tarfile

from absl.testing import flagsaver
import numpy as np
import pytest

from ginr_jax import datasets
from ginr_jax.cli import prepare
from ginr_jax.datasets import embedded
from ginr_jax.datasets import preprocess
from ginr_jax.datasets import synthetic
import image_files

# ----------------------------------------------------------------------------
# ImageNette


class TestImagenette:

  def test_files_sorted_by_class_then_name(self, imagenette_dir):
    data_dir, _ = imagenette_dir
    source, _ = image_files.make_imagenette(data_dir)
    names = [os.path.relpath(p, data_dir) for p in source]
    assert names == [
        "imagenette2-320/train/n01/a.JPEG", "imagenette2-320/train/n01/c.JPEG",
        "imagenette2-320/train/n02/b.JPEG"
    ]
    test, _ = image_files.make_imagenette(data_dir, split="test", train=False)
    assert [os.path.basename(p) for p in test] == ["d.JPEG", "e.JPEG"]

  def test_missing_folder_error(self, tmp_path):
    data_dir = str(tmp_path / "nowhere")
    with pytest.raises(datasets.DatasetNotFoundError) as info:
      image_files.make_imagenette(data_dir)
    message = str(info.value)
    assert os.path.join(data_dir, "imagenette2-320", "train") in message
    assert "python -m ginr_jax.cli.prepare imagenette" in message
    assert "{train,val}/<class>" in message
    assert isinstance(info.value, FileNotFoundError)

  def test_folder_without_images_error(self, tmp_path):
    (tmp_path / "imagenette2-320" / "val" / "n01").mkdir(parents=True)
    with pytest.raises(datasets.DatasetNotFoundError, match="no images"):
      image_files.make_imagenette(str(tmp_path), split="test", train=False)


# ----------------------------------------------------------------------------
# CelebA and FFHQ


class TestCeleba:

  @pytest.mark.parametrize("split, expected",
                           [("train", ["000001.jpg", "162770.jpg"]),
                            ("val", ["162771.jpg", "182637.jpg"]),
                            ("test", ["182638.jpg", "202599.jpg"])])
  def test_index_split(self, celeba_dir, split, expected):
    data_dir, _ = celeba_dir
    source, _ = datasets.make("celeba", split=split, train=False, image_size=32,
                              data_dir=data_dir)
    assert [os.path.basename(p) for p in source] == expected

  def test_empty_split_error(self, tmp_path):
    image_files.write_image(str(tmp_path / "img_align_celeba" / "000001.jpg"),
                            8, 8)
    with pytest.raises(datasets.DatasetNotFoundError, match="empty") as info:
      datasets.make("celeba", split="test", train=False, image_size=8,
                    data_dir=str(tmp_path))
    assert "ginr_jax.cli.prepare celeba" in str(info.value)

  def test_unknown_split(self, celeba_dir):
    with pytest.raises(ValueError, match="train, val, test"):
      datasets.make("celeba", split="valid", train=False, image_size=8,
                    data_dir=celeba_dir[0])


class TestFfhq:

  def test_split_by_file_name(self, ffhq_dir):
    for split, expected in [("train", ["00000.png", "00001.png", "59999.png"]),
                            ("test", ["60000.png", "69999.png"])]:
      source, _ = datasets.make("ffhq", split=split, train=False, image_size=16,
                                data_dir=ffhq_dir)
      assert [os.path.basename(p) for p in source] == expected

  def test_split_by_list_files(self, ffhq_dir, tmp_path):
    train_list = tmp_path / "ffhqtrain.txt"
    train_list.write_text("69999.png\nimages1024x1024/00000/00001.png\n\n")
    test_list = tmp_path / "ffhqvalidation.txt"
    test_list.write_text("00000.png\n")
    kwargs = dict(train=False, image_size=16, data_dir=ffhq_dir,
                  train_list=str(train_list), test_list=str(test_list))
    train, _ = datasets.make("ffhq", split="train", **kwargs)
    test, _ = datasets.make("ffhq", split="test", **kwargs)
    assert [os.path.basename(p) for p in train] == ["69999.png", "00001.png"]
    assert [os.path.basename(p) for p in test] == ["00000.png"]

  def test_listed_file_missing_error(self, ffhq_dir, tmp_path):
    test_list = tmp_path / "ffhqvalidation.txt"
    test_list.write_text("60000.png\n12345.png\n")
    with pytest.raises(datasets.DatasetNotFoundError, match="12345.png"):
      datasets.make("ffhq", split="test", train=False, image_size=16,
                    data_dir=ffhq_dir, test_list=str(test_list))


@pytest.mark.parametrize(
    "name, folder, split, stray_file",
    [
        ("celeba", "img_align_celeba", "test", None),  # no folder
        ("ffhq", "ffhq", "train", "face.png")  # no <index>.png in it
    ])
def test_missing_or_malformed_folder_names_it_and_the_command(
    name, folder, split, stray_file, tmp_path):
  if stray_file:
    image_files.write_image(str(tmp_path / folder / stray_file), 8, 8)
  with pytest.raises(datasets.DatasetNotFoundError) as info:
    datasets.make(name, split=split, train=False, image_size=8,
                  data_dir=str(tmp_path))
  assert str(tmp_path / folder) in str(info.value)
  assert f"ginr_jax.cli.prepare {name}" in str(info.value)


# ----------------------------------------------------------------------------
# TFDS (mocked: random examples of random sizes)


class TestTfds:

  def test_missing_dataset_error(self, tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError, match="not prepared"):
      datasets.make("tfds", split="train", train=True, image_size=16,
                    data_dir=str(tmp_path), tfds_name="mnist")


# ----------------------------------------------------------------------------
# Synthetic and embedded


class TestSynthetic:

  def test_deterministic_smooth_and_in_range(self):
    source, transform = datasets.make("synthetic", split="train", train=True,
                                      image_size=16)
    assert len(source) == 64
    image = image_files.run(transform, source[3], seed=0)
    image_files.check_image(image, 16)
    np.testing.assert_array_equal(image,
                                  image_files.run(transform, source[3], seed=1))
    assert image.std() > 0.05  # Not flat...
    assert np.abs(np.diff(image, axis=0)).mean() < 0.1  # ...but smooth.
    assert not np.array_equal(image, image_files.run(transform, source[4]))

  def test_train_and_test_differ(self):
    _, train_transform = datasets.make("synthetic", split="train", train=False,
                                       image_size=16)
    test, test_transform = datasets.make("synthetic", split="test", train=False,
                                         image_size=16, num_examples=5)
    assert len(test) == 5
    assert not np.allclose(image_files.run(train_transform, 0),
                           image_files.run(test_transform, 0), atol=0.05)

  def test_same_field_at_any_resolution(self):
    small = synthetic.smooth_image((0, 1), 8)
    large = synthetic.smooth_image((0, 1), 32)
    # 4x4 block means of the large image approximate the small one.
    pooled = large.reshape(8, 4, 8, 4, 3).mean(axis=(1, 3))
    assert np.abs(pooled - small).max() < 0.1


class TestEmbedded:

  def test_splits_use_disjoint_photos(self):
    train, test = embedded.PHOTOS["train"], embedded.PHOTOS["test"]
    assert not set(train) & set(test)
    assert set(test) == {"chelsea", "coffee"}
    assert {"stereo_motorcycle_left", "stereo_motorcycle_right"} <= set(train)
    assert set(train) | set(test) == set(embedded._LOADERS)

  def test_photo_downscaled_and_cached(self):
    photo = embedded.photo("chelsea", 64)
    assert photo.shape == (64, 96, 3) and photo.dtype == np.uint8
    assert embedded.photo("chelsea", 64) is photo

  def test_test_crops_fixed_grid(self):
    source, transform = datasets.make("embedded", split="test", train=False,
                                      image_size=16, photo_short_side=48,
                                      test_crops_per_photo=8)
    assert len(source) == 16
    assert {name for name, _, _ in source} == {"chelsea", "coffee"}
    tops = {top for name, top, _ in source if name == "coffee"}
    lefts = {left for name, _, left in source if name == "coffee"}
    # coffee is 48 x 72: a 2 x 4 grid touching all four edges.
    assert tops == {0, 32} and lefts == {0, 19, 37, 56}
    for name, top, left in source:
      image = image_files.run(transform, (name, top, left), seed=0)
      image_files.check_image(image, 16)
      np.testing.assert_array_equal(
          image, image_files.run(transform, (name, top, left), seed=5))
      window = embedded.photo(name, 48)[top:top + 16, left:left + 16]
      np.testing.assert_array_equal(image, window / np.float32(255))

  def test_train_crops_are_windows_of_train_photos(self):
    source, transform = datasets.make("embedded", split="train", train=True,
                                      image_size=16, photo_short_side=32,
                                      train_examples_per_epoch=50)
    assert len(source) == 50
    photos = [embedded.photo(n, 32) for n in embedded.PHOTOS["train"]]
    for seed in range(3):
      image = image_files.run(transform, source[seed], seed)
      image_files.check_image(image, 16)
      assert any(
          image_files.is_window(image, p) or
          image_files.is_window(image[:, ::-1], p) for p in photos)

  def test_permute_channels_reorders_the_same_crop(self):
    kwargs = dict(split="train", train=True, image_size=16, photo_short_side=32)
    _, plain = datasets.make("embedded", **kwargs)
    _, permuted = datasets.make("embedded", permute_channels=True, **kwargs)
    orders = set()
    for seed in range(12):
      a, b = image_files.run(plain, 0, seed), image_files.run(permuted, 0, seed)
      # Same draw, channels reordered: find the permutation.
      order = tuple(
          next(i
               for i in range(3)
               if np.array_equal(b[..., c], a[..., i]))
          for c in range(3))
      assert sorted(order) == [0, 1, 2]
      orders.add(order)
    assert len(orders) > 1

  def test_crop_larger_than_photo_error(self):
    with pytest.raises(ValueError, match="photo_short_side"):
      datasets.make("embedded", split="train", train=True, image_size=200)


# ----------------------------------------------------------------------------
# Dispatch, grain integration and pickling


def test_unknown_name_lists_valid_names():
  with pytest.raises(ValueError) as info:
    datasets.make("imagenet", split="train", train=True, image_size=8)
  for name in datasets.NAMES:
    assert name in str(info.value)


def test_unknown_kwarg_raises():
  with pytest.raises(TypeError):
    datasets.make("synthetic", split="train", train=True, image_size=8,
                  num_exmaples=3)


def test_random_map_is_seeded_and_varies_per_epoch(imagenette_dir):
  data_dir, _ = imagenette_dir

  def pipeline():
    source, transform = image_files.make_imagenette(data_dir, image_size=16)
    # Crops of the same file in two epochs (repeat, then augment).
    ds = source.repeat(2).random_map(transform, seed=3)
    return np.stack([ds[i]["image"] for i in (0, len(source))])

  first = pipeline()
  np.testing.assert_array_equal(first, pipeline())
  assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("name", ["synthetic", "embedded", "imagenette"])
def test_eval_transform_accepts_no_rng(name, imagenette_dir):
  source, transform = datasets.make(name, split="test", train=False,
                                    image_size=16, data_dir=imagenette_dir[0])
  np.testing.assert_array_equal(
      transform(source[0], None)["image"],
      image_files.run(transform, source[0]))


@pytest.mark.parametrize("name", ["synthetic", "embedded", "imagenette"])
def test_source_and_transform_pickle(name, imagenette_dir):
  source, transform = datasets.make(name, split="test", train=False,
                                    image_size=16, data_dir=imagenette_dir[0])
  element = pickle.loads(pickle.dumps(source[0]))
  np.testing.assert_array_equal(
      image_files.run(pickle.loads(pickle.dumps(transform)), element),
      image_files.run(transform, source[0]))


# ----------------------------------------------------------------------------
# prepare.py (the download itself is not tested; a local file:// URL is)


class TestPrepare:

  def test_validate_good_and_bad_layouts(self, imagenette_dir):
    data_dir, originals = imagenette_dir
    assert prepare.validate("imagenette", data_dir) == {"train": 3, "test": 2}
    for path in originals:
      if "/val/" in path:
        os.remove(path)
    with pytest.raises(datasets.DatasetNotFoundError) as info:
      prepare.validate("imagenette", data_dir)
    assert os.path.join("imagenette2-320", "val") in str(info.value)

  def test_validate_celeba_and_ffhq(self, celeba_dir, ffhq_dir, tmp_path):
    counts = prepare.validate("celeba", celeba_dir[0])
    assert counts == {"train": 2, "val": 2, "test": 2}
    assert prepare.validate("ffhq", ffhq_dir) == {"train": 3, "test": 2}
    with pytest.raises(datasets.DatasetNotFoundError):
      prepare.validate("ffhq", str(tmp_path / "empty"))

  def test_prepare_imagenette_from_archive(self, imagenette_dir, tmp_path):
    source_dir, originals = imagenette_dir
    archive = tmp_path / "imagenette2-320.tgz"
    with tarfile.open(archive, "w:gz") as tar:
      tar.add(os.path.join(source_dir, "imagenette2-320"), "imagenette2-320")
    data_dir = str(tmp_path / "data")
    counts = prepare.prepare_imagenette(data_dir, url=archive.as_uri())
    assert counts == {"train": 3, "test": 2}
    assert os.listdir(data_dir) == ["imagenette2-320"]  # No leftovers.
    # A second call finds the copy and does not download.
    counts = prepare.prepare_imagenette(data_dir, url="file:///nonexistent")
    assert counts == {"train": 3, "test": 2}
    path = os.path.join(data_dir, "imagenette2-320/train/n02/b.JPEG")
    np.testing.assert_array_equal(
        np.asarray(preprocess.load_image(path)),
        originals[os.path.join(source_dir, "imagenette2-320/train/n02/b.JPEG")])

  def test_main_prints_manual_steps(self, celeba_dir, tmp_path, capsys):
    with flagsaver.flagsaver(data_dir=celeba_dir[0]):
      assert prepare.main(["prepare", "celeba"]) == 0
    out = capsys.readouterr().out
    assert "img_align_celeba/000001.jpg" in out
    assert "test 2 images" in out
    with flagsaver.flagsaver(data_dir=str(tmp_path / "none")):
      assert prepare.main(["prepare", "ffhq"]) == 1
    captured = capsys.readouterr()
    assert "NVlabs/ffhq-dataset" in captured.out
    assert str(tmp_path / "none" / "ffhq") in captured.err
