r"""Reconstruct your own images (or audio) with a trained model, at any size.

  python -m ginr_jax.cli.render --model=models/demo_ipc.npz --image=photo.jpg \
      --scale=4 --out=photo_x4.png
  python -m ginr_jax.cli.render --workdir=workdirs/demo --images=photos/ \
      --size=256x256 --out_dir=renders/
  python -m ginr_jax.cli.render --workdir=workdirs/audio_demo_ipc \
      --audio=clip.wav --rate=48000 --out=clip_48k.wav

Each image is resized and centre-cropped to the model's input size as its
test split is, encoded, and its representation rendered on a grid `--scale`
times denser (or of `--size` HxW) -- the INR is continuous. Audio models
read WAV files (resampled to 16 kHz, cut to the model's clip length) and
write their reconstruction at `--rate` samples per second. One input
writes `--out`; several (or a folder, `--images`) write to `--out_dir` as
<name>_x<scale>.png, <name>_<H>x<W>.png or <name>_<rate>hz.wav (a
folder's files with their subfolders).
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
from ginr_jax.datasets import folder
from ginr_jax.datasets import preprocess


def define_flags():
  """The command's flags (defined on use: other modules' share names)."""
  flags.DEFINE_string("workdir", None, "A training workdir.")
  flags.DEFINE_string(
      "model", None,
      "A model file of python -m ginr_jax.cli.export (instead of --workdir).")
  flags.DEFINE_integer("step", None,
                       "--workdir's checkpoint step; default latest.")
  flags.DEFINE_multi_string("image", [],
                            "An image file (repeat the flag for several).")
  flags.DEFINE_string(
      "images", None, "A folder of JPEG / PNG / WebP images, read recursively.")
  flags.DEFINE_multi_string(
      "audio", [], "A WAV (or FLAC) file, for audio models (repeatable).")
  flags.DEFINE_integer(
      "scale", None,
      "Render this many times the model's resolution (default 1).")
  flags.DEFINE_string(
      "size", None,
      "Render images at HxW pixels, e.g. 256x256 (instead of --scale).")
  flags.DEFINE_integer("rate", api.SAMPLE_RATE,
                       "Audio: samples per second of the written WAV.")
  flags.DEFINE_string("out", None, "The output file (one input).")
  flags.DEFINE_string("out_dir", None,
                      "The output folder (any number of inputs).")


def parse_size(text: str) -> tuple[int, int]:
  """ "HxW" -> (H, W), both positive."""
  try:
    h, w = (int(v) for v in text.lower().split("x"))
  except ValueError:
    h = w = 0
  if min(h, w) < 1:
    raise cli.ConfigError(
        f"--size={text}: pass HxW in pixels, e.g. --size=256x256.")
  return h, w


def input_files(f) -> list[str]:
  """The input files of the command line, each checked to exist."""
  files = list(f.image)
  if f.images:
    if not os.path.isdir(f.images):
      raise cli.NotFoundError(f"--images={f.images}: no such folder.")
    files += folder.image_files(f.images)
  files += f.audio
  if not files:
    raise cli.ConfigError("nothing to render: pass --image=FILE "
                          "(repeatable) or --images=FOLDER; audio models: "
                          "--audio=FILE.wav.")
  for path in files:
    if not os.path.isfile(path):
      raise cli.NotFoundError(f"{path}: no such file.")
  if f.out and len(files) > 1:
    raise cli.ConfigError(f"--out names one file, but there are "
                          f"{len(files)} inputs; pass --out_dir=FOLDER.")
  if not f.out and not f.out_dir:
    raise cli.ConfigError("pass --out=FILE (one input) or --out_dir=FOLDER.")
  return files


def check_kind(f, kind: str):
  """Fails on inputs of another kind than the model's."""
  if kind == "views":
    raise cli.ConfigError("this is a novel view synthesis model; render its "
                          "views with python -m ginr_jax.cli.orbit "
                          "--workdir=W.")
  if kind == "audio" and (f.image or f.images):
    raise cli.ConfigError(
        "this is an audio model: pass --audio=FILE.wav, not images.")
  if kind == "image" and f.audio:
    raise cli.ConfigError("this is an image model: pass --image=FILE or "
                          "--images=FOLDER, not --audio.")


def read_image(path: str) -> np.ndarray:
  try:
    return np.asarray(preprocess.load_image(path))
  except (OSError, SyntaxError, ValueError) as e:
    raise cli.UserError(
        f"cannot read image {path}: {e}; pass a JPEG or PNG file.") from e


def read_audio(path: str) -> tuple[np.ndarray, int]:
  """(mono samples [T], sample rate) of a sound file."""
  try:
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
  except (OSError, RuntimeError) as e:  # soundfile's LibsndfileError
    raise cli.UserError(
        f"cannot read audio {path}: {e}; pass a WAV or FLAC file.") from e
  return samples.mean(axis=1), rate


def output_path(f, path: str, suffix: str, extension: str) -> str:
  if f.out:
    return f.out
  name = os.path.basename(path)
  if f.images and path.startswith(os.path.join(f.images, "")):
    name = os.path.relpath(path, f.images)  # keeps --images' subfolders
  return os.path.join(f.out_dir,
                      f"{os.path.splitext(name)[0]}_{suffix}{extension}")


def main(argv):
  del argv
  f = flags.FLAGS
  if bool(f.workdir) == bool(f.model):
    raise cli.ConfigError("pass one of --workdir=W (a training run) or "
                          "--model=m.npz (python -m ginr_jax.cli.export).")
  if f.scale is not None and f.size:
    raise cli.ConfigError("pass one of --scale and --size.")
  scale = 1 if f.scale is None else f.scale
  if scale < 1 or f.rate < 1:
    raise cli.ConfigError("--scale and --rate must be at least 1.")
  size = parse_size(f.size) if f.size else None
  files = input_files(f)
  logging.set_verbosity(logging.WARNING)  # orbax's restore logs at INFO
  model = api.load(f.workdir or f.model, f.step)
  check_kind(f, model.kind)
  for path in files:
    if model.kind == "audio":
      samples, rate = read_audio(path)
      latents = model.encode(samples, rate=rate)
      out = output_path(f, path, f"{f.rate}hz", ".wav")
      os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
      evaluators.write_wav(out, model.render(latents, rate=f.rate)[0], f.rate)
    else:
      recon = model.reconstruct(read_image(path), scale=scale, size=size)[0]
      h, w = recon.shape[:2]
      out = output_path(f, path, f"{h}x{w}" if size else f"x{scale}", ".png")
      os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
      Image.fromarray(evaluators.to_uint8(recon)).save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
