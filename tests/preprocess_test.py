"""The preprocessing of each image source (`datasets/preprocess.py`):
crops, flips, resizes and channel conversions as torchvision's, checked on
generated files (conftest.py) and mocked TFDS examples."""

import numpy as np
from PIL import Image
import tensorflow_datasets as tfds

from ginr_jax import datasets
import image_files


class TestImagenette:

  def test_train_crop_is_window_of_unresized_image(self, imagenette_dir):
    data_dir, originals = imagenette_dir
    source, transform = image_files.make_imagenette(data_dir)
    path = source[2]  # 40 x 56: crops are windows of the full-size image.
    full = originals[path]
    flips = []
    for seed in range(12):
      image = image_files.run(transform, path, seed)
      image_files.check_image(image, 32)
      plain = image_files.is_window(image, full)
      mirrored = image_files.is_window(image[:, ::-1], full)
      assert plain or mirrored
      flips.append(mirrored and not plain)
    assert 0 < sum(flips) < len(flips)  # Both orientations occur.
    # The rng drives the crop: different seeds give different crops.
    assert not np.array_equal(image_files.run(transform, path, 0),
                              image_files.run(transform, path, 1))

  def test_grayscale_becomes_rgb(self, imagenette_dir):
    data_dir, _ = imagenette_dir
    source, transform = image_files.make_imagenette(data_dir)
    image = image_files.run(transform, source[0])  # The "L" JPEG.
    image_files.check_image(image, 32)
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    np.testing.assert_array_equal(image[..., 0], image[..., 2])

  def test_small_image_is_zero_padded(self, imagenette_dir):
    data_dir, originals = imagenette_dir
    source, transform = image_files.make_imagenette(data_dir)
    path = source[1]  # 20 x 30 < 32: padded 6/6 rows and 1/1 columns.
    padded = np.zeros((32, 32, 3), np.uint8)
    padded[6:26, 1:31] = originals[path]
    for seed in range(4):
      image = image_files.run(transform, path, seed)
      assert np.array_equal(image, padded / np.float32(255)) or np.array_equal(
          image[:, ::-1], padded / np.float32(255))

  def test_eval_is_resize_and_center_crop(self, imagenette_dir):
    data_dir, originals = imagenette_dir
    source, transform = image_files.make_imagenette(data_dir, split="test",
                                                    train=False)
    for path in source:
      image = image_files.run(transform, path, seed=0)
      image_files.check_image(image, 32)
      np.testing.assert_array_equal(image,
                                    image_files.run(transform, path, seed=7))
      np.testing.assert_array_equal(
          image, image_files.expected_eval(originals[path], 32))


class TestCeleba:

  def test_resize_center_crop_even_when_training(self, celeba_dir):
    data_dir, originals = celeba_dir
    source, transform = datasets.make("celeba", split="test", train=True,
                                      image_size=32, data_dir=data_dir)
    for path in source:
      # 44 x 36 -> 39 x 32; the crop starts at round(3.5) = 4.
      expected = image_files.expected_eval(originals[path], 32)
      np.testing.assert_array_equal(image_files.run(transform, path, 0),
                                    expected)
      np.testing.assert_array_equal(image_files.run(transform, path, 1),
                                    expected)


class TestFfhq:

  def test_rgba_to_rgb_resize_center_crop(self, ffhq_dir):
    source, transform = datasets.make("ffhq", split="test", train=True,
                                      image_size=16, data_dir=ffhq_dir)
    with Image.open(source[0]) as img:
      assert img.mode == "RGBA"
      rgb = np.asarray(img.convert("RGB"))
    image = image_files.run(transform, source[0])
    image_files.check_image(image, 16)
    np.testing.assert_array_equal(image, image_files.expected_eval(rgb, 16))
    np.testing.assert_array_equal(image,
                                  image_files.run(transform, source[0], 3))


class TestTfds:

  def test_imagenette_mock(self, tmp_path):
    with tfds.testing.mock_data(num_examples=6, data_dir=str(tmp_path)):
      for split in ("train", "test"):
        source, transform = datasets.make("tfds", split=split,
                                          train=split == "train", image_size=32,
                                          tfds_name="imagenette/320px-v2")
        assert len(source) == 6
        for element in source:
          image_files.check_image(image_files.run(transform, element), 32)
      # Eval is deterministic and equals resize + centre crop.
      element = source[0]
      np.testing.assert_array_equal(image_files.run(transform, element, 0),
                                    image_files.run(transform, element, 1))
      np.testing.assert_array_equal(
          image_files.run(transform, element),
          image_files.expected_eval(element["image"], 32))

  def test_grayscale_crop_is_window(self, tmp_path):
    with tfds.testing.mock_data(num_examples=3, data_dir=str(tmp_path)):
      source, transform = datasets.make("tfds", split="train", train=True,
                                        image_size=16, tfds_name="mnist",
                                        tfds_test_split="test")
      element = source[0]
      assert element["image"].shape == (28, 28, 1)
      full = np.repeat(element["image"], 3, axis=-1)
      for seed in range(3):
        image = image_files.run(transform, element, seed)
        image_files.check_image(image, 16)
        assert image_files.is_window(image, full) or image_files.is_window(
            image[:, ::-1], full)
