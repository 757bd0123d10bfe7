"""Sampling: DDIM from the EMA parameters, decoding, grids and metrics.

Latents are sampled in the standardised space with classifier-free guidance
(`schedule.py`; App. A.3: 250 DDIM steps, scale 2.5), unstandardised with the
training statistics, and decoded by the frozen stage-1 decoder on a pixel
grid of any density (`upsample` times the training resolution: the INR is
continuous). Evaluation writes, per evaluated step, DDIM steps S, guidance
g and upsampling factor u, one PNG per class (a row of samples,
`samples/class_<k>_<name>_<step>_ddim<S>_g<g>_x<u>.png`) and one grid with
a row per class (`samples/<step>_ddim<S>_g<g>_x<u>.png`), and logs:

  sample/fid            FID against real images of the stage-1 dataset, with
                        the Inception network (or `standin` in tests: then it
                        is NOT an FID);
  sample/nn_accuracy    share of samples whose nearest real image (pixel L2,
                        over every class) has the sampled class: whether a
                        sample looks like its class (meaningful for the demo's
                        photo classes, where FID on 32 px crops is not);
  sample/nn_psnr        PSNR of each sample to its nearest real image;
  latents/psnr          the exported latents' reconstruction PSNR (Table 5).
"""

import functools
import json
import os

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ginr_jax import datasets
from ginr_jax import evaluators
from ginr_jax import sharding
from ginr_jax import train as stage1
from ginr_jax.diffusion import fid as fid_lib
from ginr_jax.diffusion import latents as latents_lib
from ginr_jax.diffusion import schedule


def guided_denoiser(model, params, labels: jax.Array, scale: float):
  """(x_t, t) -> guided x0 prediction for class `labels` [B]."""
  apply = functools.partial(model.apply, {"params": params})
  if scale == 1.0:  # the conditional model: no unconditional pass
    return lambda x, t: apply(x, t, labels)
  null = jnp.full_like(labels, model.num_classes)

  def denoise(x, t):
    both = apply(jnp.concatenate([x, x]), jnp.concatenate([t, t]),
                 jnp.concatenate([labels, null]))
    cond, uncond = jnp.split(both, 2)
    return schedule.guide(cond, uncond, scale)

  return denoise


def sample_latents(params, rng, labels, *, model, abar: np.ndarray,
                   sample_steps: int, guidance: float) -> jax.Array:
  """Standardised latents [B, R, d] of classes `labels` [B] by DDIM."""
  noise = jax.random.normal(
      rng, (labels.shape[0], model.num_tokens, model.token_dim))
  return schedule.ddim_sample(guided_denoiser(model, params, labels, guidance),
                              noise, abar, sample_steps)


def nearest_neighbours(samples: np.ndarray, real: np.ndarray):
  """Index [M] and MSE [M] of each sample's nearest real image (pixel L2)."""
  a = samples.reshape(len(samples), -1).astype(np.float64)
  b = real.reshape(len(real), -1).astype(np.float64)
  d = np.square(a).sum(1)[:, None] + np.square(b).sum(1)[None] - 2.0 * a @ b.T
  idx = np.argmin(d, axis=1)
  return idx, np.maximum(d[np.arange(len(a)), idx], 0.0) / a.shape[1]


def real_images(meta: dict, split: str, max_examples: int, chunk: int = 1000):
  """Chunks (images [n, H, W, 3], labels [n]) of `max_examples` examples
  spread evenly over the exported split, with the export's preprocessing."""
  with open(os.path.join(meta["stage1_workdir"], "config.json")) as f:
    cfg = ml_collections.ConfigDict(json.load(f)).input
  source, transform = datasets.make(cfg.name, split=split, train=False,
                                    image_size=cfg.image_size,
                                    data_dir=cfg.data_dir,
                                    **meta["input_kwargs"])
  n = len(source)
  idx = np.unique(
      np.linspace(0, n - 1, min(n, max_examples)).round().astype(int))
  for start in range(0, len(idx), chunk):
    elements = [source[int(i)] for i in idx[start:start + chunk]]
    yield (np.stack([transform(e, None)["image"] for e in elements]),
           np.asarray([
               latents_lib.element_label(cfg.name, split, e) for e in elements
           ]))


class Evaluator:
  """Samples, decodes, writes grids and metrics for a diffusion run."""

  def __init__(self, config, setup, meta: dict):
    self.config, self.setup, self.meta = config, setup, meta
    self.cfg = config.eval
    self.mean, self.std = latents_lib.read_stats(config.latents_dir)
    self._stage1 = None

  def stage1(self):
    """(config, Setup, params) of the frozen stage-1 model, loaded once."""
    if self._stage1 is None:
      self._stage1 = stage1.load_workdir(self.meta["stage1_workdir"])
    return self._stage1

  def sample(self, params, labels: np.ndarray, rng: jax.Array,
             sample_steps: int, guidance: float,
             batch_size: int | None = None) -> list[tuple[jax.Array, int]]:
    """Unstandardised latents of classes `labels` [N]: a list of (padded
    batch [batch_size, R, d], number of its real samples)."""
    mesh, model = self.setup.mesh, self.setup.model
    batch_size = batch_size or self.cfg.batch_size
    sharding.check_batch_size(batch_size, mesh, "eval.batch_size")
    d = self.config.diffusion
    sample_fn = _sampler(model, (d.num_steps, d.beta_start, d.beta_end),
                         sample_steps, guidance)
    out = []
    for start in range(0, len(labels), batch_size):
      chunk = labels[start:start + batch_size]
      # The last batch is padded by repeating its final label.
      padded = np.concatenate(
          [chunk, np.repeat(chunk[-1:], batch_size - len(chunk))])
      z = sample_fn(
          params, jax.random.fold_in(rng, start),
          jax.device_put(padded.astype(np.int32), sharding.data_sharded(mesh)))
      out.append((latents_lib.unstandardize(z, self.mean,
                                            self.std), len(chunk)))
    return out

  def decode(self, batches, upsample: int = 1) -> np.ndarray:
    """Images [N, H*u, W*u, 3] in [0, 1] of `sample`'s latents, decoded by
    the frozen stage-1 decoder on a grid `upsample` times denser."""
    config, setup, params = self.stage1()
    render = _renderer(setup.model, (config.input.image_size,) * 2,
                       config.eval_coord_chunk)
    return np.concatenate([
        np.clip(
            np.asarray(jax.device_get(render(params, z, upsample)))[:n], 0.0,
            1.0) for z, n in batches
    ])

  def generate(self, params, labels: np.ndarray, rng: jax.Array,
               sample_steps: int, guidance: float,
               upsample: int = 1) -> np.ndarray:
    """Decoded samples [N, H*u, W*u, 3] in [0, 1] of classes `labels` [N]."""
    return self.decode(self.sample(params, labels, rng, sample_steps, guidance),
                       upsample)

  def write_grids(self, images: np.ndarray, labels: np.ndarray, directory: str,
                  tag: str) -> list[str]:
    """One PNG per class (`class_<k>_<name>_<tag>.png`) and `<tag>.png` with
    a row per class; images [N, H, W, 3] of classes labels [N]."""
    names = self.meta["splits"]["train"].get("class_names") or []
    rows, paths = [], []
    for k in np.unique(labels):
      row = images[labels == k]
      name = f"class_{k:04d}" + (f"_{names[k]}" if k < len(names) else "")
      paths.append(os.path.join(directory, f"{name}_{tag}.png"))
      if jax.process_index() == 0:
        evaluators.save_grid(paths[-1], [row])
      rows.append(row)
    paths.append(os.path.join(directory, f"{tag}.png"))
    if jax.process_index() == 0:
      evaluators.save_grid(paths[-1], rows)
    return paths

  def shown_labels(self) -> np.ndarray:
    """`per_class` samples of each of the first `max_classes` classes."""
    k = min(self.meta["num_classes"], self.cfg.max_classes)
    return np.repeat(np.arange(k), self.cfg.per_class)

  def metrics(self, params, rng: jax.Array, sample_steps: int,
              guidance: float) -> dict[str, float]:
    """FID and nearest-neighbour metrics (module doc) of `eval.num_samples`
    samples, classes in turn, against `eval.num_real` real images."""
    cfg = self.cfg
    extractor = (fid_lib.make_extractor(cfg.fid_extractor, cfg.inception_path)
                 if cfg.fid_extractor else None)
    labels = np.arange(cfg.num_samples) % self.meta["num_classes"]
    chunk = 16 * cfg.batch_size  # bounds host memory (ImageNet: 50k)
    fake, real = ({"features": [],
                   "images": []}, {"features": [], "images": [], "labels": []})
    for start in range(0, len(labels), chunk):
      images = self.generate(params, labels[start:start + chunk],
                             jax.random.fold_in(rng, start), sample_steps,
                             guidance)
      self._collect(fake, images, extractor)
    for images, real_labels in real_images(self.meta, "train", cfg.num_real,
                                           chunk):
      self._collect(real, images, extractor)
      if cfg.nn_metrics:
        real["labels"].append(real_labels)
    scalars = {"latents/psnr": self.meta["splits"]["train"]["psnr"]}
    if extractor is not None:
      scalars["sample/fid"] = fid_lib.frechet_distance(
          *fid_lib.feature_stats(np.concatenate(fake["features"])),
          *fid_lib.feature_stats(np.concatenate(real["features"])))
    if cfg.nn_metrics:
      idx, mse = nearest_neighbours(np.concatenate(fake["images"]),
                                    np.concatenate(real["images"]))
      scalars["sample/nn_accuracy"] = float(
          np.mean(np.concatenate(real["labels"])[idx] == labels))
      scalars["sample/nn_psnr"] = float(np.mean(-10.0 * np.log10(mse)))
    return scalars

  def _collect(self, into: dict, images: np.ndarray, extractor):
    if extractor is not None:
      into["features"].append(fid_lib.features_of(extractor, images))
    if self.cfg.nn_metrics:
      into["images"].append(images)

  def evaluate(self, params, writer, step: int, workdir: str,
               sample_steps: int | None = None, guidance: float | None = None,
               upsample: tuple[int, ...] | None = None) -> dict[str, float]:
    """Grids at each upsampling factor, then the metrics, logged at `step`."""
    cfg = self.cfg
    sample_steps = sample_steps or cfg.sample_steps
    guidance = cfg.guidance if guidance is None else guidance
    rng = jax.random.key(self.config.seed + 2)
    labels = self.shown_labels()
    batches = self.sample(params, labels, rng, sample_steps, guidance)
    for factor in upsample or cfg.upsample:
      paths = self.write_grids(
          self.decode(batches,
                      factor), labels, os.path.join(workdir, "samples"),
          f"{step:08d}_ddim{sample_steps}_g{guidance:g}_x{factor}")
    scalars = dict(
        self.metrics(params, rng, sample_steps, guidance),
        **{"sample/ddim_steps": sample_steps, "sample/guidance": guidance})
    writer.write_scalars(step, scalars)
    logging.info(
        "samples at step %d (%d DDIM steps, guidance %.2f): %s; grid %s", step,
        sample_steps, guidance,
        " ".join(f"{k} {v:.4g}" for k, v in scalars.items()), paths[-1])
    return scalars


# Cached across evaluators (and runs in one process): each compiles once.
@functools.lru_cache(maxsize=16)
def _sampler(model, schedule_args: tuple, sample_steps: int, guidance: float):
  abar = schedule.alphas_cumprod(schedule.linear_betas(*schedule_args))
  return jax.jit(
      functools.partial(sample_latents, model=model, abar=abar,
                        sample_steps=sample_steps, guidance=guidance))


@functools.lru_cache(maxsize=16)
def _renderer(model, shape: tuple[int, ...], chunk: int):
  """(params, latents, upsample) -> images, jitted."""

  def render(params, z, upsample):
    decode = functools.partial(model.apply, {"params": params}, method="decode")
    return evaluators.render(decode, z, shape, upsample=upsample, chunk=chunk)

  return jax.jit(render, static_argnums=2)
