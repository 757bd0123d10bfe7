"""Trained models from Python: encode signals, render them at any resolution.

  import ginr_jax
  model = ginr_jax.load("models/demo_ipc.npz")   # or a training workdir
  latents = model.encode(photo)        # HxWx3 or BxHxWx3, any size
  x4 = model.render(latents, size=(128, 128))    # the INR is continuous
  x4 = model.reconstruct(photo, scale=4)         # the same in one call
  recon, maps = model.locality(photo, tokens=[0, 9])
  psnr, seconds = model.tto(photo, what="latents", steps=100)

`load` reads a training workdir (its config.json and latest or given
checkpoint) or a file of `python -m ginr_jax.cli.export` (`portable.py`). The
handle runs on one device (the first accelerator, else the CPU) and keeps
its jitted functions, so each input shape compiles once.

Images are resized (short side) and centre-cropped to the model's input
size as its test split is (`datasets/preprocess.py`); float images of exactly
that size are used as they are, others are quantised to 8 bits first.
Audio clips are resampled to 16 kHz if `rate` says otherwise and cut to the
model's clip length as LibriSpeech's test split is (the first samples, zero
padded). NVS models encode support views with their camera poses and
render novel views from other poses (`render_views`).
"""

import functools
import os

import jax
import numpy as np
from scipy import signal as scipy_signal

from ginr_jax import analysis
from ginr_jax import checks
from ginr_jax import cli
from ginr_jax import coords as coords_lib
from ginr_jax import evaluators
from ginr_jax import portable
from ginr_jax import rendering
from ginr_jax import run_loop
from ginr_jax import train
from ginr_jax import tto as tto_lib
from ginr_jax.datasets import librispeech
from ginr_jax.datasets import preprocess
from ginr_jax.datasets import scenes
from ginr_jax.tasks import views

# Every audio dataset (LibriSpeech, the generated chirps) is 16 kHz.
SAMPLE_RATE = librispeech.SAMPLE_RATE


class InputError(cli.ConfigError):
  """Inputs the model cannot read; the message says what to pass."""


def load(path: str, step: int | None = None) -> "Model":
  """The model of a training workdir or of an exported .npz file.

  Args:
    path: a workdir (config.json and checkpoints/) or an export.
    step: a workdir's checkpoint step; None: the latest.

  Raises:
    cli.UserError: no such workdir, checkpoint or file, or a file that is
      not an export.
  """
  if os.path.isdir(path):
    config = checks.read_config(path)
    setup, state = run_loop.restore(train.Setup, on_one_device(config), path,
                                    step)
    return Model(config, setup, state["params"], int(state["step"]), path)
  if not os.path.isfile(path):
    raise cli.NotFoundError(
        f"{path}: no such workdir or file; pass a training workdir or a "
        "model file of python -m ginr_jax.cli.export.")
  if step is not None:
    raise cli.UserError(f"{path} holds one step; step= applies to workdirs.")
  config, params, saved_step = portable.read(path)
  setup = train.Setup(on_one_device(config))
  expected = setup.state_shape["params"]
  if jax.tree.structure(params) != jax.tree.structure(expected) or any(
      p.shape != e.shape
      for p, e in zip(jax.tree.leaves(params), jax.tree.leaves(expected))):
    raise cli.UserError(f"{path}: its parameters do not fit its config; "
                        "export the workdir again with python -m "
                        "ginr_jax.cli.export.")
  params = jax.device_put(params, setup.state_sharding["params"])
  return Model(config, setup, params, saved_step, path)


def on_one_device(config):
  """A copy of `config` that builds its mesh on the first device only:
  the handles' (a model this small needs no more)."""
  config = config.copy_and_resolve_references()
  config.num_devices = 1
  return config


class Model:
  """A trained model (from `load`).

  Attributes:
    config: the resolved config it was trained with.
    step: the training step of its parameters.
    kind: "image", "audio" or "views" (novel view synthesis).
    input_shape: one input's shape: [H, W, C] of an image, [T, 1] of a
      clip, [S, H, W, 3] of the support views of an object.
    params: its parameters.
    setup: the trainer's `Setup` of its config (model, task, the jitted
      functions of evaluation, which render `eval_coord_chunk` coordinates
      at a time: batches of up to `eval_batch_size` fit where evaluation
      does).
  """

  def __init__(self, config, setup: train.Setup, params, step: int,
               source: str):
    self.config, self.params, self.step = config, params, step
    self.setup, self._source = setup, source
    task = setup.task
    self.kind = "views" if isinstance(task, views.Views) else task.key
    self.input_shape = (task.support_shape
                        if self.kind == "views" else task.shape)

  def __repr__(self):
    return (f"Model({self.config.model_name}, {self.kind} "
            f"{tuple(self.input_shape)}, step {self.step}, "
            f"from {self._source})")

  # Inputs.

  def preprocess(self, inputs, rate: int | None = None) -> np.ndarray:
    """Images (or clips) as the model reads them: [B, *input_shape]
    float32 (module docstring)."""
    if self.kind == "image":
      return self._images(inputs)
    if self.kind == "audio":
      return self._clips(inputs, rate)
    raise InputError("an NVS model reads support views with their poses: "
                     "call encode(views, poses).")

  def _images(self, images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 3:
      images = images[None]
    h, w, c = self.input_shape
    if images.ndim != 4:
      raise InputError(f"images of shape {images.shape}: pass one HxWx{c} "
                       f"image or a batch BxHxWx{c}.")
    if images.shape[-1] != c:
      raise InputError(
          f"images with {images.shape[-1]} channels: this model reads {c} "
          "(RGB); repeat a grey channel (np.repeat(x, 3, -1)) or drop alpha "
          "(x[..., :3]).")
    if images.dtype != np.uint8:
      images = images.astype(np.float32)
      if images.min() < 0.0 or images.max() > 1.0:
        raise InputError("float images must lie in [0, 1]; pass uint8 "
                         "0..255 images or divide them by 255.")
      if images.shape[1:3] == (h, w):
        return images
      images = evaluators.to_uint8(images)
    return np.stack(
        [preprocess.eval_preprocess(preprocess.to_pil(x), h) for x in images])

  def _clips(self, clips, rate: int | None) -> np.ndarray:
    clips = np.asarray(clips, np.float32)
    if clips.ndim == 3:
      if clips.shape[-1] != 1:
        raise InputError(f"clips with {clips.shape[-1]} channels: this "
                         "model reads mono audio; average the channels.")
      clips = clips[..., 0]
    if clips.ndim == 1:
      clips = clips[None]
    if clips.ndim != 2:
      raise InputError(f"audio of shape {clips.shape}: pass one clip [T], "
                       "a batch [B, T] or [B, T, 1].")
    if rate and rate != SAMPLE_RATE:
      gcd = np.gcd(int(rate), SAMPLE_RATE)
      clips = scipy_signal.resample_poly(clips, SAMPLE_RATE // gcd,
                                         int(rate) // gcd, axis=1)
    seconds = self.input_shape[0] / SAMPLE_RATE
    return np.stack([
        librispeech.crop(x, None, seconds=seconds, train=False) for x in clips
    ])[..., None]

  def _support(self, support_views, poses, focal) -> dict:
    """The encoder's batch of support views [B, S, H, W, 3] and poses."""
    support_views = np.asarray(support_views, np.float32)
    poses = np.asarray(poses, np.float32)
    if support_views.ndim == 4:
      support_views, poses = support_views[None], poses[None]
    shape = tuple(self.input_shape)
    if support_views.shape[1:] != shape or poses.shape != (len(support_views),
                                                           shape[0], 3, 4):
      raise InputError(
          f"support views {support_views.shape} with poses {poses.shape}: "
          f"this model reads {shape[0]} views of {shape[1]}x{shape[2]}x3 "
          f"with {shape[0]} camera-to-world poses 3x4 (per object).")
    if focal is None:
      focal = self._focal(shape[2])
    focal = np.full((len(support_views),), focal, np.float32)
    return {
        "support_image": support_views, "support_pose": poses, "focal": focal
    }

  @staticmethod
  def _focal(width: int) -> float:
    """The ShapeNet renders' (and generated scenes') focal length."""
    return rendering.focal_length(width, scenes.CAMERA_ANGLE_X)

  # Encoding and rendering.

  def encode(self, inputs, poses=None, focal: float | None = None,
             rate: int | None = None):
    """Latents of images (clips; an NVS model: support views [S, H, W, 3]
    or [B, S, H, W, 3] with their poses [(B,) S, 3, 4] and the focal
    length in pixels, default the ShapeNet renders'). Meta-learned models
    adapt them on the inputs first."""
    if self.kind == "views":
      batch = self._support(inputs, poses, focal)
    else:
      batch = {self.kind: self.preprocess(inputs, rate)}
    return self.setup.encode_fn(self.params, batch)[0]

  def render(self, latents, size: tuple[int, int] | None = None,
             seconds: float | None = None,
             rate: int | None = None) -> np.ndarray:
    """Decodes latents on a grid of any density.

    Images: [B, H, W, C] in [0, 1] at `size` (H, W), default the model's.
    Audio: [B, T, 1] of `seconds` (default the model's clip) at `rate`
    samples per second (default 16 kHz).
    """
    task = self.setup.task
    if self.kind == "image":
      return np.clip(self._image_grid(latents, size), 0.0, 1.0)
    if self.kind == "audio":
      clip = self.input_shape[0] / SAMPLE_RATE
      seconds, rate = seconds or clip, rate or SAMPLE_RATE
      # The clip spans [-coord_range, coord_range].
      end = -task.coord_range + 2 * task.coord_range * seconds / clip
      coords = coords_lib.grid((round(seconds * rate),), -task.coord_range, end)
      return np.asarray(self.setup.predict_fn(self.params, latents, coords))
    raise InputError(
        "an NVS model renders views: call render_views(latents, poses).")

  def _image_grid(self, latents, size=None) -> np.ndarray:
    """Unclamped predictions [B, H, W, C] on the (H, W) pixel grid."""
    size = tuple(size or self.input_shape[:2])
    if len(size) != 2 or min(size) < 1:
      raise InputError(f"size={size}: pass (height, width).")
    coords = self.setup.task.grid(size).reshape(-1, 2)
    pred = self.setup.predict_fn(self.params, latents, coords)
    return np.asarray(pred).reshape(-1, *size, pred.shape[-1])

  def reconstruct(self, inputs, scale: int = 1,
                  size: tuple[int, int] | None = None,
                  rate: int | None = None) -> np.ndarray:
    """`render(encode(inputs))` at `scale` times the model's resolution
    (or at `size`); audio at `scale` times its sample rate."""
    if self.kind == "views":
      raise InputError("an NVS model renders views: call render_views("
                       "encode(views, poses), poses).")
    latents = self.encode(inputs, rate=rate)
    if self.kind == "audio":
      return self.render(latents, rate=scale * SAMPLE_RATE)
    return self.render(
        latents, size or
        (scale * self.input_shape[0], scale * self.input_shape[1]))

  def render_views(self, latents, poses, size: int | None = None,
                   focal: float | None = None) -> np.ndarray:
    """Views [B, Q, size, size, 3] of NVS latents from camera-to-world
    poses [Q, 3, 4] (the same for every object) or [B, Q, 3, 4]; `focal`
    in pixels of the rendered size (default the ShapeNet renders')."""
    if self.kind != "views":
      raise InputError(f"render_views renders novel views; this is a "
                       f"{self.kind} model: call render.")
    b = jax.tree.leaves(latents)[0].shape[0]
    poses = np.asarray(poses, np.float32)
    poses = np.broadcast_to(poses, (b, *poses.shape[-3:]))
    size = size or self.input_shape[1]
    q = poses.shape[1]
    batch = {
        "query_image": np.zeros((b, q, size, size, 3), np.float32),
        "query_pose": poses, "focal": np.full(
            (b,),
            self._focal(size) if focal is None else focal, np.float32)
    }
    rays, _ = self.setup.task.eval_inputs(batch)
    pred = self.setup.predict_fn(self.params, latents, rays)
    return np.asarray(pred).reshape(b, q, size, size, 3)

  # Analysis.

  def locality(self, images, tokens=None, scale: int = 1):
    """(reconstructions [B, H', W', C], maps [T, B, H', W']): |change| of
    the prediction when each of `tokens` (default 8 spread over all) is
    zeroed (`analysis.py`), at `scale` times the model's resolution."""
    if self.kind != "image":
      raise InputError(
          f"locality draws maps over image pixels; this is a {self.kind} model."
      )
    latents = self.encode(images)
    if tokens is None:
      tokens = analysis.spread_tokens(jax.tree.leaves(latents)[0].shape[1])
    size = (scale * self.input_shape[0], scale * self.input_shape[1])
    return analysis.zeroed_token_maps(
        functools.partial(self._image_grid, size=size), latents, tokens)

  def tto(self, inputs, what: str = "latents", steps: int = 100,
          lr: float = 1e-3, optimizer: str = "adam", rays: int = 1024):
    """Test-time optimisation (`tto.py`) from the model's prediction of
    each input: `what` = "latents" or "all" (with a per-instance copy of
    the decoder). NVS: `inputs` is a batch of the dataset's views.

    Returns:
      (PSNR [steps + 1, B], seconds [steps + 1]).
    """
    batch = (inputs
             if self.kind == "views" else {self.kind: self.preprocess(inputs)})
    return tto_lib.optimize(self.config, self.setup, self.params, batch,
                            what=what, steps=steps, lr=lr, optimizer=optimizer,
                            rays=rays)

  def fit_ffnets(self, images, steps: int = 100, lr: float = 1e-3):
    """The per-sample baseline of TTO: a randomly initialised FFNet of the
    model's hyponet shape trained on each image (`tto.fit_scratch`).

    Returns:
      (PSNR [steps + 1, B], seconds [steps + 1]).
    """
    if self.kind != "image":
      raise InputError(
          f"fit_ffnets trains an FFNet per image; this is a {self.kind} model.")
    images = self._images(images)
    return tto_lib.fit_scratch(tto_lib.scratch_net(self.config, images), images,
                               steps=steps, lr=lr)
