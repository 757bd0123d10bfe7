"""Datasets by name: `make(name, ...) -> (source, transform)`.

This file owns the dispatch from a dataset name to its module:

  embedded    real photos shipped with scikit-image (`embedded.py`)
  synthetic   generated smooth images for `:tiny` configs (`synthetic.py`)
  imagenette  `DATA_DIR/imagenette2-320/` (`images.py`)
  celeba      `DATA_DIR/img_align_celeba/` (`images.py`)
  ffhq        `DATA_DIR/ffhq/` (`images.py`)
  folder      your own images: any folder of JPEG/PNG/WebP files
              (`folder.py`)
  tfds        any prepared TFDS image dataset, read TF-free (`images.py`)
  librispeech `DATA_DIR/LibriSpeech/` audio (`librispeech.py`)
  synthetic_audio  generated chirps for `:tiny` audio configs
                   (`synthetic_audio.py`)
  shapenet    `DATA_DIR/learnit_shapenet/` views for NVS (`shapenet.py`)
  scenes      generated objects' views, traced on the fly (`scenes.py`)

Usage with grain, augmenting after shuffle/repeat so every epoch differs:

  source, transform = datasets.make("imagenette", split="train", train=True,
                                    image_size=178, data_dir="data")
  ds = source.shuffle(seed=0).repeat().random_map(transform, seed=1)

Folder datasets are prepared with `python -m ginr_jax.cli.prepare`.
"""

from ginr_jax import cli
from ginr_jax.datasets import embedded
from ginr_jax.datasets import folder
from ginr_jax.datasets import images
from ginr_jax.datasets import librispeech
from ginr_jax.datasets import scenes
from ginr_jax.datasets import shapenet
from ginr_jax.datasets import synthetic
from ginr_jax.datasets import synthetic_audio

DatasetNotFoundError = images.DatasetNotFoundError
UnreadableFileError = images.UnreadableFileError

_MAKERS = {
    "embedded": embedded.make,
    "synthetic": synthetic.make,
    "imagenette": images.make_imagenette,
    "celeba": images.make_celeba,
    "ffhq": images.make_ffhq,
    "folder": folder.make,
    "tfds": images.make_tfds,
    # Audio and views have no image size (`element_spec` gives theirs).
    "librispeech": lambda image_size, **kw: librispeech.make(**kw),
    "synthetic_audio": lambda image_size, **kw: synthetic_audio.make(**kw),
    "shapenet": shapenet.make,
    "scenes": scenes.make
}
AUDIO = ("librispeech", "synthetic_audio")
# The datasets of image files, which can skip unreadable ones.
IMAGE_FILES = ("imagenette", "celeba", "ffhq", "folder")
NAMES = tuple(_MAKERS)


def make(name, *, split, train, image_size, data_dir=None, skip_bad_files=False,
         **kwargs):
  """Builds a dataset's random-access source and its per-example transform.

  Args:
    name: one of `NAMES`.
    split: "train" or "test"; "test" is the split the papers evaluate on
      (ImageNette `val`, CelebA `test`, FFHQ validation). CelebA also has
      "val".
    train: True for random training augmentation, False for deterministic
      evaluation preprocessing (the transform then ignores its rng, which
      may be None).
    image_size: side R of the square output images.
    data_dir: root folder of the folder datasets (default "data"), the
      folder of images of "folder", or the TFDS data_dir. Ignored by
      "embedded" and "synthetic".
    skip_bad_files: for the datasets of image files (`IMAGE_FILES`), read
      the next readable file instead of an unreadable one, with a warning
      and a count in the log ("folder" checks every file at start and
      leaves the unreadable ones out); without it an unreadable file stops
      the run naming it (`UnreadableFileError`). Ignored by the others.
    **kwargs: dataset-specific options; see the `make*` function of each
      module (unknown ones raise TypeError).

  Returns:
    source: a `grain.MapDataset` of raw elements (paths, indices, decoded
      TFDS examples or crop descriptors).
    transform: `transform(element, rng: np.random.Generator)` -> `{"image":
      float32 (R, R, 3) in [0, 1]}`, RGB (audio: {"audio": [T, 1]}; views:
      `shapenet.load_example`'s dict). Apply it with
      `MapDataset.random_map(transform, seed=...)`. It is picklable, for
      grain's worker processes.

  Raises:
    ValueError: an unknown name or split, or a bad size.
    DatasetNotFoundError: a missing or malformed dataset, or an empty split.
      Raised here, not when examples are read.
  """
  if name not in _MAKERS:
    raise cli.ConfigError(
        f"Unknown dataset {name!r}; valid names: {', '.join(NAMES)}.")
  if image_size < 1:
    raise cli.ConfigError(f"image_size={image_size} must be >= 1.")
  if name in IMAGE_FILES:
    kwargs["skip_bad_files"] = skip_bad_files
  return _MAKERS[name](split=split, train=train, image_size=image_size,
                       data_dir=data_dir, **kwargs)


def element_spec(input_cfg) -> dict[str, tuple[int, ...]]:
  """The shapes of one example's signal arrays, from `config.input`."""
  kwargs = input_cfg.kwargs
  if input_cfg.name == "librispeech":
    return {"audio": (kwargs["seconds"] * librispeech.SAMPLE_RATE, 1)}
  if input_cfg.name == "synthetic_audio":
    return {"audio": (synthetic_audio.num_samples(kwargs["seconds"]), 1)}
  size = input_cfg.image_size
  if input_cfg.name in ("shapenet", "scenes"):
    return {
        "support_image": (kwargs["n_support"], size, size, 3),
        "query_image": (kwargs.get("n_query", 1), size, size, 3)
    }
  return {"image": (size, size, 3)}
