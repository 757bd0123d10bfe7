r"""Reconstruct your own images (or audio) with a trained model, at any size.

  python -m ginr_jax.render --model=models/demo_ipc.npz --image=photo.jpg \
      --scale=4 --out=photo_x4.png
  python -m ginr_jax.render --workdir=workdirs/demo --images=photos/ \
      --size=256x256 --out_dir=renders/
  python -m ginr_jax.render --workdir=workdirs/audio_demo_ipc \
      --audio=clip.wav --rate=48000 --out=clip_48k.wav

Each image is resized and centre-cropped to the model's input size as its
test split is, encoded, and its representation rendered on a grid `--scale`
times denser (or of `--size` HxW) -- the INR is continuous. Audio models
read WAV files (resampled to 16 kHz, cut to the model's clip length) and
write their reconstruction at `--rate` samples per second. One input
writes `--out`; several (or a folder, `--images`) write to `--out_dir` as
<name>_x<scale>.png, <name>_<H>x<W>.png or <name>_<rate>hz.wav.
"""

import os

from absl import flags
from absl import logging
import numpy as np
from PIL import Image
import soundfile

from ginr_jax import api
from ginr_jax import cli
from ginr_jax import evaluators
from ginr_jax.datasets import images as images_lib

_WORKDIR = flags.DEFINE_string("workdir", None, "A training workdir.")
_MODEL = flags.DEFINE_string("model", None, "A model file of python -m "
                             "ginr_jax.export (instead of --workdir).")
_STEP = flags.DEFINE_integer("step", None, "--workdir's checkpoint step; "
                             "default latest.")
_IMAGE = flags.DEFINE_multi_string("image", [], "An image file (repeat the "
                                   "flag for several).")
_IMAGES = flags.DEFINE_string("images", None, "A folder of JPEG / PNG "
                              "images.")
_AUDIO = flags.DEFINE_multi_string("audio", [], "A WAV (or FLAC) file, for "
                                   "audio models (repeatable).")
_SCALE = flags.DEFINE_integer("scale", None, "Render this many times the "
                              "model's resolution (default 1).")
_SIZE = flags.DEFINE_string("size", None, "Render images at HxW pixels, "
                            "e.g. 256x256 (instead of --scale).")
_RATE = flags.DEFINE_integer("rate", api.SAMPLE_RATE, "Audio: samples per "
                             "second of the written WAV.")
_OUT = flags.DEFINE_string("out", None, "The output file (one input).")
_OUT_DIR = flags.DEFINE_string("out_dir", None, "The output folder (any "
                               "number of inputs).")


def parse_size(text: str) -> tuple[int, int]:
  """"HxW" -> (H, W), both positive."""
  try:
    h, w = (int(v) for v in text.lower().split("x"))
  except ValueError:
    h = w = 0
  if min(h, w) < 1:
    raise cli.ConfigError(f"--size={text}: pass HxW in pixels, e.g. "
                          "--size=256x256.")
  return h, w


def input_files() -> list[str]:
  """The input files of the command line, each checked to exist."""
  files = list(_IMAGE.value)
  if _IMAGES.value:
    if not os.path.isdir(_IMAGES.value):
      raise cli.NotFoundError(f"--images={_IMAGES.value}: no such folder.")
    files += [os.path.join(_IMAGES.value, f)
              for f in images_lib.image_files(_IMAGES.value)]
  files += _AUDIO.value
  if not files:
    raise cli.ConfigError("nothing to render: pass --image=FILE "
                          "(repeatable) or --images=FOLDER; audio models: "
                          "--audio=FILE.wav.")
  for path in files:
    if not os.path.isfile(path):
      raise cli.NotFoundError(f"{path}: no such file.")
  if _OUT.value and len(files) > 1:
    raise cli.ConfigError(f"--out names one file, but there are "
                          f"{len(files)} inputs; pass --out_dir=FOLDER.")
  if not _OUT.value and not _OUT_DIR.value:
    raise cli.ConfigError("pass --out=FILE (one input) or --out_dir=FOLDER.")
  return files


def check_kind(kind: str):
  """Fails on inputs of another kind than the model's."""
  if kind == "views":
    raise cli.ConfigError("this is a novel view synthesis model; render its "
                          "views with python -m ginr_jax.orbit --workdir=W.")
  if kind == "audio" and (_IMAGE.value or _IMAGES.value):
    raise cli.ConfigError("this is an audio model: pass --audio=FILE.wav, "
                          "not images.")
  if kind == "image" and _AUDIO.value:
    raise cli.ConfigError("this is an image model: pass --image=FILE or "
                          "--images=FOLDER, not --audio.")


def read_image(path: str) -> np.ndarray:
  try:
    return np.asarray(images_lib.load_image(path))
  except (OSError, SyntaxError, ValueError) as e:
    raise cli.UserError(f"cannot read image {path}: {e}; pass a JPEG or "
                        "PNG file.") from e


def read_audio(path: str) -> tuple[np.ndarray, int]:
  """(mono samples [T], sample rate) of a sound file."""
  try:
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
  except (OSError, RuntimeError) as e:    # soundfile's LibsndfileError
    raise cli.UserError(f"cannot read audio {path}: {e}; pass a WAV or "
                        "FLAC file.") from e
  return samples.mean(axis=1), rate


def output_path(path: str, suffix: str, extension: str) -> str:
  if _OUT.value:
    return _OUT.value
  name = os.path.splitext(os.path.basename(path))[0]
  return os.path.join(_OUT_DIR.value, f"{name}_{suffix}{extension}")


def main(argv):
  del argv
  if bool(_WORKDIR.value) == bool(_MODEL.value):
    raise cli.ConfigError("pass one of --workdir=W (a training run) or "
                          "--model=m.npz (python -m ginr_jax.export).")
  if _SCALE.value is not None and _SIZE.value:
    raise cli.ConfigError("pass one of --scale and --size.")
  scale = 1 if _SCALE.value is None else _SCALE.value
  if scale < 1 or _RATE.value < 1:
    raise cli.ConfigError("--scale and --rate must be at least 1.")
  size = parse_size(_SIZE.value) if _SIZE.value else None
  files = input_files()
  logging.set_verbosity(logging.WARNING)    # orbax's restore logs at INFO
  model = api.load(_WORKDIR.value or _MODEL.value, _STEP.value)
  check_kind(model.kind)
  for path in files:
    if model.kind == "audio":
      samples, rate = read_audio(path)
      latents = model.encode(samples, rate=rate)
      out = output_path(path, f"{_RATE.value}hz", ".wav")
      os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
      evaluators.write_wav(out, model.render(latents, rate=_RATE.value)[0],
                           _RATE.value)
    else:
      recon = model.reconstruct(read_image(path), scale=scale, size=size)[0]
      h, w = recon.shape[:2]
      out = output_path(path, f"{h}x{w}" if size else f"x{scale}", ".png")
      os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
      Image.fromarray(evaluators.to_uint8(recon)).save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
  cli.run(main)
