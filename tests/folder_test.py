"""The `folder` dataset (your own images) and `configs/folder.py`.

Folders are generated here: nested subfolders with every extension in
either case, grey, RGBA, palette and EXIF-rotated files, a too-small image,
corrupt files, and the train/ + test/ layout. A tiny `configs/folder.py`
run trains and evaluates on the held-out split, the command line's errors
are one line each, and `prepare photos` writes the embedded photos as a
folder of crops.
"""

import os
import re

from absl.testing import absltest
import numpy as np
from PIL import Image

from configs import folder as folder_config
from ginr_jax import cli
from ginr_jax import datasets
from ginr_jax import train
from ginr_jax import utils
from ginr_jax.cli import prepare
from ginr_jax.datasets import folder
from ginr_jax.datasets import preprocess
import errors_test
import tensorboard_test

_EXTENSIONS = ("jpg", "JPG", "jpeg", "png", "PNG", "webp")
# 24 files in 0-3 levels of subfolders, every extension in either case.
NAMES = [
    os.path.join(*"abc"[:i % 4], f"p{i:02d}.{_EXTENSIONS[i % 6]}")
    for i in range(24)
]
# The hash split at test_fraction 0.2: SHA-256 of the relative paths, the
# same on every machine and Python (a regression test against hash()).
TEST_NAMES = [
    "a/b/c/p07.JPG", "a/b/c/p11.webp", "a/b/c/p19.JPG", "a/b/p22.PNG", "p16.PNG"
]


def write(path, image, **save_kwargs):
  """Saves a PIL image or a uint8 array at `path`; returns the path."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  if isinstance(image, np.ndarray):
    image = Image.fromarray(image)
  image.save(path, **save_kwargs)
  return path


def noise(shape, seed=0):
  return np.random.default_rng(seed).integers(0, 256, shape, np.uint8)


def write_folder(root, names=NAMES, shape=(10, 12, 3)):
  """Random RGB images at `names` under root, plus files to ignore."""
  for i, name in enumerate(names):
    write(os.path.join(root, name), noise(shape, i))
  write(os.path.join(root, ".hidden", "h.png"), noise(shape))
  write(os.path.join(root, "a", ".h.png"), noise(shape))
  with open(os.path.join(root, "notes.txt"), "w") as f:
    f.write("not an image")
  return root


def truncate(path):
  with open(path, "rb") as f:
    data = f.read()
  with open(path, "wb") as f:
    f.write(data[:len(data) // 3])


def relative(root, paths):
  return sorted(os.path.relpath(p, root) for p in paths)


def eval_image(path, size=8):
  """The test split's transform of the only image under path's folder."""
  source, transform = datasets.make(
      "folder", split="test", train=False, image_size=size,
      data_dir=os.path.dirname(os.path.dirname(path)))
  return transform(source[0], None)["image"]


def single(root, image, name="x.png", **save_kwargs):
  """A folder with `image` as its only test image (and one train image)."""
  write(os.path.join(root, "train", "t.png"), noise((8, 8, 3)))
  return write(os.path.join(root, "test", name), image, **save_kwargs)


class SplitTest(absltest.TestCase):

  def test_hash_split_is_fixed_disjoint_and_stable(self):
    root = write_folder(self.create_tempdir().full_path)
    splits = folder.split_files(root, test_fraction=0.2)
    self.assertEqual(relative(root, splits["test"]), TEST_NAMES)
    self.assertEqual(relative(root, splits["train"] + splits["test"]),
                     sorted(NAMES))
    self.assertEmpty(set(splits["train"]) & set(splits["test"]))
    self.assertEqual(splits, folder.split_files(root, test_fraction=0.2))
    # A new file changes no other file's split.
    write(os.path.join(root, "a", "new.png"), noise((10, 12, 3)))
    again = folder.split_files(root, test_fraction=0.2)
    for split in ("train", "test"):
      self.assertContainsSubset(splits[split], again[split])

  def test_train_and_test_subfolders(self):
    for test in ("test", "val"):
      root = self.create_tempdir(test).full_path
      write_folder(os.path.join(root, "train"), NAMES[:4])
      write_folder(os.path.join(root, test), NAMES[4:6])
      splits = folder.split_files(root)
      self.assertEqual(relative(root, splits["train"]),
                       sorted(os.path.join("train", n) for n in NAMES[:4]))
      self.assertEqual(relative(root, splits["test"]),
                       sorted(os.path.join(test, n) for n in NAMES[4:6]))

  def test_layout_errors(self):
    root = self.create_tempdir().full_path
    cases = {
        "missing": "no such folder: ",
        "empty": "no .jpg, .jpeg, .png, .webp images under ",
        "one_image": "puts none of the 1 images under ",
        "train_only": "has a train/ subfolder but no test/ (or val/)",
        "empty_test": "no .jpg, .jpeg, .png, .webp images under "
    }
    os.makedirs(os.path.join(root, "empty", "sub"))
    write_folder(os.path.join(root, "one_image"), ["p00.jpg"])
    write_folder(os.path.join(root, "train_only", "train"), NAMES[:2])
    write_folder(os.path.join(root, "empty_test", "train"), NAMES[:2])
    os.makedirs(os.path.join(root, "empty_test", "test"))
    for name, message in cases.items():
      with self.assertRaisesRegex(datasets.DatasetNotFoundError,
                                  "folder: .*" + re.escape(message)):
        folder.split_files(os.path.join(root, name))
    with self.assertRaisesRegex(cli.ConfigError, "data_dir=PATH"):
      datasets.make("folder", split="train", train=True, image_size=8)


class ConversionTest(absltest.TestCase):

  def test_rgba_drops_alpha(self):
    rgba = noise((12, 10, 4))
    path = single(self.create_tempdir().full_path, rgba)
    expected = preprocess.eval_preprocess(Image.fromarray(rgba[..., :3]), 8)
    np.testing.assert_array_equal(eval_image(path), expected)

  def test_grey_and_palette_become_rgb(self):
    grey = noise((12, 10))
    path = single(self.create_tempdir("grey").full_path, grey, "x.jpg")
    image = eval_image(path)
    np.testing.assert_array_equal(image[..., 0], image[..., 2])
    self.assertGreater(image.std(), 0.1)
    palette = Image.fromarray(noise((12, 10, 3))).quantize(16)
    path = single(self.create_tempdir("palette").full_path, palette)
    np.testing.assert_array_equal(
        eval_image(path), preprocess.eval_preprocess(palette.convert("RGB"), 8))

  def test_exif_orientation_turns_photos_upright(self):
    pixels = noise((10, 16, 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: shown turned 90 degrees clockwise
    path = single(self.create_tempdir().full_path, pixels, "x.webp",
                  lossless=True, exif=exif)
    upright = Image.fromarray(pixels).transpose(Image.Transpose.ROTATE_270)
    np.testing.assert_array_equal(eval_image(path),
                                  preprocess.eval_preprocess(upright, 8))

  def test_small_images_are_upscaled_and_counted(self):
    root = self.create_tempdir().full_path
    write_folder(os.path.join(root, "train"), NAMES[:3])
    small = write(os.path.join(root, "test", "small.png"), noise((6, 5, 3)))
    with self.assertLogs(level="WARNING") as logs:
      image = eval_image(small)
    np.testing.assert_array_equal(
        image, preprocess.eval_preprocess(Image.open(small).convert("RGB"), 8))
    self.assertIn("1 of the 4 images are smaller than 8 px", logs.output[0])
    self.assertIn(f"the smallest: {small} (5 px)", logs.output[0])

  def test_training_flips_at_random(self):
    root = write_folder(self.create_tempdir().full_path)
    source, transform = datasets.make("folder", split="train", train=True,
                                      image_size=8, data_dir=root)
    eval_source, eval_transform = datasets.make("folder", split="train",
                                                train=False, image_size=8,
                                                data_dir=root)
    self.assertEqual(list(source), list(eval_source))
    plain = eval_transform(source[0], None)["image"]
    flipped = set()
    for seed in range(8):
      image = transform(source[0], np.random.default_rng(seed))["image"]
      flipped.add(not np.array_equal(image, plain))
      self.assertTrue(
          np.array_equal(image, plain) or np.array_equal(image, plain[:, ::-1]))
    self.assertEqual(flipped, {False, True})


class UnreadableTest(absltest.TestCase):

  def test_stops_naming_the_first_bad_file_or_skips_them(self):
    root = write_folder(self.create_tempdir().full_path)
    for name in ("a/p01.JPG", "a/b/c/p19.JPG"):  # one per split
      truncate(os.path.join(root, name))
    with self.assertRaisesRegex(
        datasets.UnreadableFileError,
        f"2 of the 24 images under {root} are unreadable, the first "
        f"{os.path.join(root, 'a', 'b', 'c', 'p19.JPG')} "):
      datasets.make("folder", split="train", train=True, image_size=8,
                    data_dir=root)
    with self.assertLogs(level="WARNING") as logs:
      source, _ = datasets.make("folder", split="test", train=False,
                                image_size=8, data_dir=root,
                                skip_bad_files=True, test_fraction=0.2)
    self.assertIn("skipped 2 unreadable images of the 24", logs.output[0])
    self.assertEqual(relative(root, source),
                     [n for n in TEST_NAMES if n != "a/b/c/p19.JPG"])


class PreparePhotosTest(absltest.TestCase):

  def test_writes_crops_of_each_photo_split_by_photo(self):
    root = os.path.join(self.create_tempdir().full_path, "photos")
    counts = prepare.prepare_photos(root, crops={"train": 1, "test": 2})
    self.assertEqual(counts, {"train": 7, "test": 4})
    splits = folder.split_files(root)
    self.assertEqual({s: len(f) for s, f in splits.items()}, counts)
    self.assertEqual(
        sorted({os.path.basename(os.path.dirname(p)) for p in splits["test"]}),
        ["chelsea", "coffee"])
    for path in splits["train"] + splits["test"]:
      with Image.open(path) as img:
        self.assertBetween(min(img.size), 64, 192)
        self.assertLessEqual(max(img.size), 192)
    with self.assertRaisesRegex(cli.ExistsError, "is not empty"):
      prepare.prepare_photos(root)


class RunTest(absltest.TestCase):
  """configs/folder.py with tiny sizes on a generated folder."""

  def test_tiny_run_trains_and_evaluates_on_the_held_out_split(self):
    root = write_folder(self.create_tempdir().full_path)
    config = folder_config.get_config("size=16,tiny")
    config.input.update(name="folder", data_dir=root,
                        kwargs=dict(test_fraction=0.2))
    config.eval_max_examples = 0
    config.render_upsample = (1,)  # one renderer to compile
    workdir = self.create_tempdir().full_path
    with self.assertLogs(level="INFO") as logs:
      train.train_and_evaluate(config, workdir)
    last = utils.read_metrics(workdir)[-1]
    self.assertEqual(last["step"], config.total_steps)
    self.assertEqual(last["eval/num_examples"], len(TEST_NAMES))
    self.assertTrue(np.isfinite(last["eval/psnr"]))
    self.assertIn("folder: 19 train and 5 test images under",
                  "\n".join(logs.output))
    # The parameter table of each module, and the evaluation's images in
    # TensorBoard beside the PNGs.
    self.assertTrue(
        any("Parameters of encoder:" in line and "patch_embed/kernel" in line
            for line in logs.output))
    tags = tensorboard_test.image_tags(os.path.join(workdir, "tensorboard"))
    self.assertEqual(tags, {"images/recon_x1"})
    self.assertIn("recon_00000003_x1.png",
                  os.listdir(os.path.join(workdir, "images")))

  def test_command_line_errors_are_one_line(self):
    root = self.create_tempdir().full_path
    bad = write_folder(os.path.join(root, "bad"))
    truncate(os.path.join(bad, "a", "p01.JPG"))
    os.makedirs(os.path.join(root, "empty"))
    command = lambda arg, *flags: ("ginr_jax.cli.main", [
        f"--config=configs/folder.py:{arg}", "--config.input.name=folder",
        f"--workdir={os.path.join(root, 'w')}", *flags
    ])
    data = lambda name: f"--config.input.data_dir={os.path.join(root, name)}"
    results = errors_test.run_commands([
        command("size=16,tiny", data("bad")),
        command("size=16,tiny", data("empty")),
        command("size=16,tiny"),
        command("size=30", data("bad"))
    ])
    expected = [
        f"1 of the 24 images under {bad} are unreadable, the first "
        f"{os.path.join(bad, 'a', 'p01.JPG')} (",
        f"no .jpg, .jpeg, .png, .webp images under {root}/empty",
        "pass the folder of your images as --config.input.data_dir=PATH",
        "size=30: use a multiple of 4"
    ]
    for result, text in zip(results, expected):
      output = result["output"]
      self.assertEqual(result["rc"], 1, output)
      self.assertNotIn("Traceback", output)
      errors = [l for l in output.splitlines() if l.startswith("error: ")]
      self.assertLen(errors, 1, output)
      self.assertIn(text, errors[0])
    self.assertFalse(os.path.exists(os.path.join(root, "w")))


if __name__ == "__main__":
  absltest.main()
