"""Test environment: CPU only, four simulated devices, set before jax loads;
the image folders that several test files read.

The variables set here reach the commands that tests start as subprocesses
too, so those compile and start the way the tests' own process does.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

os.environ["JAX_PLATFORMS"] = "cpu"
# Tiny shapes compile much faster without XLA's optimisation passes and
# with its older CPU kernel emitters (a tiny train step: 1.5 s instead of
# 3.3 s); what the tests check does not depend on either.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_force_host_platform_device_count=4" +
                           " --xla_cpu_use_fusion_emitters=false")
os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"
# Entry points started by tests skip their malloc-tuning restart (a second
# interpreter start and JAX import); host_memory_test checks the restart.
os.environ.setdefault("GINR_JAX_MALLOC_TUNING", "0")
# Compiled programs are kept on disk and shared by the test processes (xdist
# workers and the commands they start): many tests compile the same tiny
# steps. Keyed by the program, jax version and flags, so never stale; a
# second run of the suite compiles almost nothing. (An entry read while
# another process still writes it fails to decompress, and JAX compiles
# instead; a size limit would lock the cache, at a rescan per write.)
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(ROOT, ".jax_test_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags
import pytest

import image_files

# grain and absl-based code read flags; pytest never parses them.
flags.FLAGS.mark_as_parsed()

# The folder datasets in their on-disk layouts (datasets_test,
# preprocess_test).


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
      ("val", "n03", "e.JPEG", (50, 36), "RGB")
  ]:
    path = str(root / split / cls / name)
    originals[path] = image_files.write_image(path, h, w, mode,
                                              seed=len(originals))
  (root / "train" / "n01" / "notes.txt").write_text("not an image")
  return str(tmp_path), originals


@pytest.fixture
def celeba_dir(tmp_path):
  """img_align_celeba/<index>.jpg around the split boundaries, decoded."""
  folder = tmp_path / "img_align_celeba"
  originals = {}
  for i, index in enumerate([1, 162770, 162771, 182637, 182638, 202599,
                             202600]):
    path = str(folder / f"{index:06d}.jpg")
    # 218 x 178 aspect.
    originals[path] = image_files.write_image(path, 44, 36, seed=i)
  (folder / "list_eval_partition.txt").write_text("ignored")
  return str(tmp_path), originals


@pytest.fixture
def ffhq_dir(tmp_path):
  """ffhq/<index>.png (RGBA) around the train / test boundary."""
  folder = tmp_path / "ffhq"
  for i, name in enumerate(["00000", "00001", "59999", "60000", "69999"]):
    image_files.write_image(str(folder / f"{name}.png"), 24, 24, "RGBA", seed=i)
  return str(tmp_path)
