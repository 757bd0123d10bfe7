"""Tests for ginr_jax.datasets: layouts, splits, preprocessing and errors.

Folder datasets are generated in their real on-disk layouts (tiny JPEG/PNG
files) in temporary folders; nothing touches the network.
"""

import os
import pickle
import tarfile

from absl.testing import flagsaver
import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds

from ginr_jax import datasets
from ginr_jax.cli import prepare
from ginr_jax.datasets import embedded
from ginr_jax.datasets import images
from ginr_jax.datasets import synthetic


def _write_image(path, height, width, mode="RGB", seed=0):
  """Writes a random image file and returns it decoded as uint8 RGB."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
  pixels = np.random.default_rng(seed).integers(
      0, 256, (height, width, channels), np.uint8
  )
  Image.fromarray(pixels.squeeze(-1) if mode == "L" else pixels, mode).save(
      path
  )
  return np.asarray(Image.open(path).convert("RGB"))


def _run(transform, element, seed=0):
  return transform(element, np.random.default_rng(seed))["image"]


def _check_image(image, size):
  assert image.shape == (size, size, 3)
  assert image.dtype == np.float32
  assert 0 <= image.min() and image.max() <= 1


def _is_window(image, full):
  """Whether float `image` (R, R, 3) equals a window of uint8 `full`."""
  r = image.shape[0]
  windows = np.lib.stride_tricks.sliding_window_view(full, (r, r), (0, 1))
  target = np.round(image * 255).astype(np.uint8).transpose(2, 0, 1)
  return bool(np.all(windows == target, axis=(-3, -2, -1)).any())


def _expected_eval(full, size):
  """Resize(size) + CenterCrop(size) computed independently, as float32."""
  h, w = full.shape[:2]
  scale = size / min(h, w)
  new_h, new_w = (size, int(w * scale)) if h <= w else (int(h * scale), size)
  resized = np.asarray(
      Image.fromarray(full).resize((new_w, new_h), Image.BILINEAR)
  )
  top, left = round((new_h - size) / 2), round((new_w - size) / 2)
  return resized[top : top + size, left : left + size] / np.float32(255)


# ----------------------------------------------------------------------------
# ImageNette


@pytest.fixture
def imagenette_dir(tmp_path):
  """imagenette2-320/{train,val}/<class>/*.JPEG with decoded originals."""
  root = tmp_path / "imagenette2-320"
  originals = {}
  for split, cls, name, (h, w), mode in [
      ("train", "n02", "b.JPEG", (40, 56), "RGB"),
      ("train", "n01", "a.JPEG", (48, 40), "L"),
      ("train", "n01", "c.JPEG", (20, 30), "RGB"),  # Smaller than the crop.
      ("val", "n01", "d.JPEG", (36, 50), "RGB"),
      ("val", "n03", "e.JPEG", (50, 36), "RGB"),
  ]:
    path = str(root / split / cls / name)
    originals[path] = _write_image(path, h, w, mode, seed=len(originals))
  (root / "train" / "n01" / "notes.txt").write_text("not an image")
  return str(tmp_path), originals


class TestImagenette:

  def test_files_sorted_by_class_then_name(self, imagenette_dir):
    data_dir, _ = imagenette_dir
    source, _ = datasets.make(
        "imagenette", split="train", train=True, image_size=32,
        data_dir=data_dir,
    )
    names = [os.path.relpath(p, data_dir) for p in source]
    assert names == [
        "imagenette2-320/train/n01/a.JPEG",
        "imagenette2-320/train/n01/c.JPEG",
        "imagenette2-320/train/n02/b.JPEG",
    ]
    test, _ = datasets.make(
        "imagenette", split="test", train=False, image_size=32,
        data_dir=data_dir,
    )
    assert [os.path.basename(p) for p in test] == ["d.JPEG", "e.JPEG"]

  def test_train_crop_is_window_of_unresized_image(self, imagenette_dir):
    data_dir, originals = imagenette_dir
    source, transform = datasets.make(
        "imagenette", split="train", train=True, image_size=32,
        data_dir=data_dir,
    )
    path = source[2]  # 40 x 56: crops are windows of the full-size image.
    full = originals[path]
    flips = []
    for seed in range(12):
      image = _run(transform, path, seed)
      _check_image(image, 32)
      plain = _is_window(image, full)
      mirrored = _is_window(image[:, ::-1], full)
      assert plain or mirrored
      flips.append(mirrored and not plain)
    assert 0 < sum(flips) < len(flips)  # Both orientations occur.
    # The rng drives the crop: different seeds give different crops.
    assert not np.array_equal(
        _run(transform, path, 0), _run(transform, path, 1)
    )

  def test_grayscale_becomes_rgb(self, imagenette_dir):
    data_dir, _ = imagenette_dir
    source, transform = datasets.make(
        "imagenette", split="train", train=True, image_size=32,
        data_dir=data_dir,
    )
    image = _run(transform, source[0])  # The "L" JPEG.
    _check_image(image, 32)
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    np.testing.assert_array_equal(image[..., 0], image[..., 2])

  def test_small_image_is_zero_padded(self, imagenette_dir):
    data_dir, originals = imagenette_dir
    source, transform = datasets.make(
        "imagenette", split="train", train=True, image_size=32,
        data_dir=data_dir,
    )
    path = source[1]  # 20 x 30 < 32: padded 6/6 rows and 1/1 columns.
    padded = np.zeros((32, 32, 3), np.uint8)
    padded[6:26, 1:31] = originals[path]
    for seed in range(4):
      image = _run(transform, path, seed)
      assert np.array_equal(image, padded / np.float32(255)) or np.array_equal(
          image[:, ::-1], padded / np.float32(255)
      )

  def test_eval_is_resize_and_center_crop(self, imagenette_dir):
    data_dir, originals = imagenette_dir
    source, transform = datasets.make(
        "imagenette", split="test", train=False, image_size=32,
        data_dir=data_dir,
    )
    for path in source:
      image = _run(transform, path, seed=0)
      _check_image(image, 32)
      np.testing.assert_array_equal(image, _run(transform, path, seed=7))
      np.testing.assert_array_equal(image, _expected_eval(originals[path], 32))

  def test_missing_folder_error(self, tmp_path):
    data_dir = str(tmp_path / "nowhere")
    with pytest.raises(datasets.DatasetNotFoundError) as info:
      datasets.make(
          "imagenette", split="train", train=True, image_size=32,
          data_dir=data_dir,
      )
    message = str(info.value)
    assert os.path.join(data_dir, "imagenette2-320", "train") in message
    assert "python -m ginr_jax.cli.prepare imagenette" in message
    assert "{train,val}/<class>" in message
    assert isinstance(info.value, FileNotFoundError)

  def test_folder_without_images_error(self, tmp_path):
    (tmp_path / "imagenette2-320" / "val" / "n01").mkdir(parents=True)
    with pytest.raises(datasets.DatasetNotFoundError, match="no images"):
      datasets.make(
          "imagenette", split="test", train=False, image_size=32,
          data_dir=str(tmp_path),
      )


# ----------------------------------------------------------------------------
# CelebA and FFHQ


@pytest.fixture
def celeba_dir(tmp_path):
  folder = tmp_path / "img_align_celeba"
  originals = {}
  for i, index in enumerate(
      [1, 162770, 162771, 182637, 182638, 202599, 202600]
  ):
    path = str(folder / f"{index:06d}.jpg")
    originals[path] = _write_image(path, 44, 36, seed=i)  # 218 x 178 aspect.
  (folder / "list_eval_partition.txt").write_text("ignored")
  return str(tmp_path), originals


class TestCeleba:

  @pytest.mark.parametrize(
      "split, expected",
      [
          ("train", ["000001.jpg", "162770.jpg"]),
          ("val", ["162771.jpg", "182637.jpg"]),
          ("test", ["182638.jpg", "202599.jpg"]),
      ],
  )
  def test_index_split(self, celeba_dir, split, expected):
    data_dir, _ = celeba_dir
    source, _ = datasets.make(
        "celeba", split=split, train=False, image_size=32, data_dir=data_dir
    )
    assert [os.path.basename(p) for p in source] == expected

  def test_resize_center_crop_even_when_training(self, celeba_dir):
    data_dir, originals = celeba_dir
    source, transform = datasets.make(
        "celeba", split="test", train=True, image_size=32, data_dir=data_dir
    )
    for path in source:
      # 44 x 36 -> 39 x 32; the crop starts at round(3.5) = 4.
      expected = _expected_eval(originals[path], 32)
      np.testing.assert_array_equal(_run(transform, path, 0), expected)
      np.testing.assert_array_equal(_run(transform, path, 1), expected)

  def test_empty_split_error(self, tmp_path):
    _write_image(str(tmp_path / "img_align_celeba" / "000001.jpg"), 8, 8)
    with pytest.raises(datasets.DatasetNotFoundError, match="empty") as info:
      datasets.make(
          "celeba", split="test", train=False, image_size=8,
          data_dir=str(tmp_path),
      )
    assert "ginr_jax.cli.prepare celeba" in str(info.value)

  def test_missing_folder_error(self, tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError) as info:
      datasets.make(
          "celeba", split="test", train=False, image_size=8,
          data_dir=str(tmp_path),
      )
    assert str(tmp_path / "img_align_celeba") in str(info.value)
    assert "ginr_jax.cli.prepare celeba" in str(info.value)

  def test_unknown_split(self, celeba_dir):
    with pytest.raises(ValueError, match="train, val, test"):
      datasets.make(
          "celeba", split="valid", train=False, image_size=8,
          data_dir=celeba_dir[0],
      )


@pytest.fixture
def ffhq_dir(tmp_path):
  folder = tmp_path / "ffhq"
  for i, name in enumerate(["00000", "00001", "59999", "60000", "69999"]):
    _write_image(str(folder / f"{name}.png"), 24, 24, "RGBA", seed=i)
  return str(tmp_path)


class TestFfhq:

  def test_split_by_file_name(self, ffhq_dir):
    for split, expected in [
        ("train", ["00000.png", "00001.png", "59999.png"]),
        ("test", ["60000.png", "69999.png"]),
    ]:
      source, _ = datasets.make(
          "ffhq", split=split, train=False, image_size=16, data_dir=ffhq_dir
      )
      assert [os.path.basename(p) for p in source] == expected

  def test_split_by_list_files(self, ffhq_dir, tmp_path):
    train_list = tmp_path / "ffhqtrain.txt"
    train_list.write_text("69999.png\nimages1024x1024/00000/00001.png\n\n")
    test_list = tmp_path / "ffhqvalidation.txt"
    test_list.write_text("00000.png\n")
    kwargs = dict(
        train=False, image_size=16, data_dir=ffhq_dir,
        train_list=str(train_list), test_list=str(test_list),
    )
    train, _ = datasets.make("ffhq", split="train", **kwargs)
    test, _ = datasets.make("ffhq", split="test", **kwargs)
    assert [os.path.basename(p) for p in train] == ["69999.png", "00001.png"]
    assert [os.path.basename(p) for p in test] == ["00000.png"]

  def test_listed_file_missing_error(self, ffhq_dir, tmp_path):
    test_list = tmp_path / "ffhqvalidation.txt"
    test_list.write_text("60000.png\n12345.png\n")
    with pytest.raises(datasets.DatasetNotFoundError, match="12345.png"):
      datasets.make(
          "ffhq", split="test", train=False, image_size=16,
          data_dir=ffhq_dir, test_list=str(test_list),
      )

  def test_rgba_to_rgb_resize_center_crop(self, ffhq_dir):
    source, transform = datasets.make(
        "ffhq", split="test", train=True, image_size=16, data_dir=ffhq_dir
    )
    with Image.open(source[0]) as img:
      assert img.mode == "RGBA"
      rgb = np.asarray(img.convert("RGB"))
    image = _run(transform, source[0])
    _check_image(image, 16)
    np.testing.assert_array_equal(image, _expected_eval(rgb, 16))
    np.testing.assert_array_equal(image, _run(transform, source[0], 3))

  def test_malformed_folder_error(self, tmp_path):
    _write_image(str(tmp_path / "ffhq" / "face.png"), 8, 8)
    with pytest.raises(datasets.DatasetNotFoundError) as info:
      datasets.make(
          "ffhq", split="train", train=False, image_size=8,
          data_dir=str(tmp_path),
      )
    assert str(tmp_path / "ffhq") in str(info.value)
    assert "ginr_jax.cli.prepare ffhq" in str(info.value)


# ----------------------------------------------------------------------------
# TFDS (mocked: random examples of random sizes)


class TestTfds:

  def test_imagenette_mock(self, tmp_path):
    with tfds.testing.mock_data(num_examples=6, data_dir=str(tmp_path)):
      for split in ("train", "test"):
        source, transform = datasets.make(
            "tfds", split=split, train=split == "train", image_size=32,
            tfds_name="imagenette/320px-v2",
        )
        assert len(source) == 6
        for element in source:
          _check_image(_run(transform, element), 32)
      # Eval is deterministic and equals resize + centre crop.
      element = source[0]
      np.testing.assert_array_equal(
          _run(transform, element, 0), _run(transform, element, 1)
      )
      np.testing.assert_array_equal(
          _run(transform, element), _expected_eval(element["image"], 32)
      )

  def test_grayscale_crop_is_window(self, tmp_path):
    with tfds.testing.mock_data(num_examples=3, data_dir=str(tmp_path)):
      source, transform = datasets.make(
          "tfds", split="train", train=True, image_size=16,
          tfds_name="mnist", tfds_test_split="test",
      )
      element = source[0]
      assert element["image"].shape == (28, 28, 1)
      full = np.repeat(element["image"], 3, axis=-1)
      for seed in range(3):
        image = _run(transform, element, seed)
        _check_image(image, 16)
        assert _is_window(image, full) or _is_window(image[:, ::-1], full)

  def test_missing_dataset_error(self, tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError, match="not prepared"):
      datasets.make(
          "tfds", split="train", train=True, image_size=16,
          data_dir=str(tmp_path), tfds_name="mnist",
      )


# ----------------------------------------------------------------------------
# Synthetic and embedded


class TestSynthetic:

  def test_deterministic_smooth_and_in_range(self):
    source, transform = datasets.make(
        "synthetic", split="train", train=True, image_size=16
    )
    assert len(source) == 64
    image = _run(transform, source[3], seed=0)
    _check_image(image, 16)
    np.testing.assert_array_equal(image, _run(transform, source[3], seed=1))
    assert image.std() > 0.05  # Not flat...
    assert np.abs(np.diff(image, axis=0)).mean() < 0.1  # ...but smooth.
    assert not np.array_equal(image, _run(transform, source[4]))

  def test_train_and_test_differ(self):
    _, train_transform = datasets.make(
        "synthetic", split="train", train=False, image_size=16
    )
    test, test_transform = datasets.make(
        "synthetic", split="test", train=False, image_size=16,
        num_examples=5,
    )
    assert len(test) == 5
    assert not np.allclose(
        _run(train_transform, 0), _run(test_transform, 0), atol=0.05
    )

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
    source, transform = datasets.make(
        "embedded", split="test", train=False, image_size=16,
        photo_short_side=48, test_crops_per_photo=8,
    )
    assert len(source) == 16
    assert {name for name, _, _ in source} == {"chelsea", "coffee"}
    tops = {top for name, top, _ in source if name == "coffee"}
    lefts = {left for name, _, left in source if name == "coffee"}
    # coffee is 48 x 72: a 2 x 4 grid touching all four edges.
    assert tops == {0, 32} and lefts == {0, 19, 37, 56}
    for name, top, left in source:
      image = _run(transform, (name, top, left), seed=0)
      _check_image(image, 16)
      np.testing.assert_array_equal(
          image, _run(transform, (name, top, left), seed=5)
      )
      window = embedded.photo(name, 48)[top : top + 16, left : left + 16]
      np.testing.assert_array_equal(image, window / np.float32(255))

  def test_train_crops_are_windows_of_train_photos(self):
    source, transform = datasets.make(
        "embedded", split="train", train=True, image_size=16,
        photo_short_side=32, train_examples_per_epoch=50,
    )
    assert len(source) == 50
    photos = [embedded.photo(n, 32) for n in embedded.PHOTOS["train"]]
    for seed in range(3):
      image = _run(transform, source[seed], seed)
      _check_image(image, 16)
      assert any(
          _is_window(image, p) or _is_window(image[:, ::-1], p) for p in photos
      )

  def test_permute_channels_reorders_the_same_crop(self):
    kwargs = dict(split="train", train=True, image_size=16,
                  photo_short_side=32)
    _, plain = datasets.make("embedded", **kwargs)
    _, permuted = datasets.make("embedded", permute_channels=True, **kwargs)
    orders = set()
    for seed in range(12):
      a, b = _run(plain, 0, seed), _run(permuted, 0, seed)
      # Same draw, channels reordered: find the permutation.
      order = tuple(next(i for i in range(3) if np.array_equal(b[..., c],
                                                               a[..., i]))
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
    datasets.make(
        "synthetic", split="train", train=True, image_size=8, num_exmaples=3
    )


def test_random_map_is_seeded_and_varies_per_epoch(imagenette_dir):
  data_dir, _ = imagenette_dir

  def pipeline():
    source, transform = datasets.make(
        "imagenette", split="train", train=True, image_size=16,
        data_dir=data_dir,
    )
    # Crops of the same file in two epochs (repeat, then augment).
    ds = source.repeat(2).random_map(transform, seed=3)
    return np.stack([ds[i]["image"] for i in (0, len(source))])

  first = pipeline()
  np.testing.assert_array_equal(first, pipeline())
  assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("name", ["synthetic", "embedded", "imagenette"])
def test_eval_transform_accepts_no_rng(name, imagenette_dir):
  source, transform = datasets.make(
      name, split="test", train=False, image_size=16,
      data_dir=imagenette_dir[0],
  )
  np.testing.assert_array_equal(
      transform(source[0], None)["image"], _run(transform, source[0])
  )


@pytest.mark.parametrize("name", ["synthetic", "embedded", "imagenette"])
def test_source_and_transform_pickle(name, imagenette_dir):
  source, transform = datasets.make(
      name, split="test", train=False, image_size=16,
      data_dir=imagenette_dir[0],
  )
  element = pickle.loads(pickle.dumps(source[0]))
  np.testing.assert_array_equal(
      _run(pickle.loads(pickle.dumps(transform)), element),
      _run(transform, source[0]),
  )


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
        np.asarray(images.load_image(path)),
        originals[os.path.join(source_dir, "imagenette2-320/train/n02/b.JPEG")],
    )

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
