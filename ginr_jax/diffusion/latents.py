r"""Latent export (stage 1 -> stage 2), the latent dataset and standardisation.

  python -m ginr_jax.cli.export_latents --workdir=workdirs/demo_la_ginr \
      --out=workdirs/demo_latents [--splits=train,test] \
      [--input_kwargs='{"test_crops_per_photo": 256}']

restores the stage-1 checkpoint (LA-GINR, or IPC: any model whose `encode`
gives [B, R, d]), encodes every image of each split with its evaluation
preprocessing and writes, into --out:

  <split>_latents.npy  float32 [N, R, d], the latent tokens
  <split>_labels.npy   int32 [N], class labels
  stats.npz            mean, std [R, d]: per token and channel, over train
  meta.json            stage-1 workdir, shapes, classes and the latents'
                       reconstruction PSNR per split (LA-GINR Table 5)

Plain .npy files: memory-mapped, they are a random-access source for grain
(`LatentSource`) without loading a split into memory.

Class labels: a TFDS dataset's "label" feature (ImageNet); for the embedded
photo crops, the source photo (its index in `embedded.PHOTOS[split]`);
datasets without labels get class 0 for every example (one class).

Standardisation (App. A.3, "for the stability of training"): every channel of
every latent token is shifted and scaled by its training-split mean and
standard deviation, z' = (z - mean) / std, and unstandardised before decoding.
"""

import json
import os
import time

from absl import logging
import grain
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import cli
from ginr_jax import datasets
from ginr_jax import evaluators
from ginr_jax import sharding
from ginr_jax import train as stage1
from ginr_jax.datasets import embedded

STD_FLOOR = 1e-6  # a constant channel would divide by zero


def export_command(workdir: str = "STAGE1_WORKDIR",
                   out: str = "LATENT_DIR") -> str:
  return (
      f"python -m ginr_jax.cli.export_latents --workdir={workdir} --out={out}")


def element_label(dataset: str, split: str, element) -> int:
  """The class label of a raw dataset element (module doc)."""
  if dataset == "embedded":
    return embedded.PHOTOS[split].index(element[0])
  if isinstance(element, dict) and "label" in element:
    return int(element["label"])
  return 0


def class_names(dataset: str, split: str) -> list[str] | None:
  return list(embedded.PHOTOS[split]) if dataset == "embedded" else None


def _encode_fn(params, images, *, model, task, meta, chunk: int):
  """Latents [B, R, d] and their per-instance reconstruction PSNR [B]."""
  latents, _ = stage1.encode(params, {"image": images}, model=model, task=task,
                             meta=meta)
  if not isinstance(latents, jax.Array) or latents.ndim != 3:
    raise ValueError(
        "latent export needs latents [B, R, d] (LA-GINR or IPC); this model's"
        f" encode gives {jax.tree.map(jnp.shape, latents)}.")
  decode = lambda z, c: model.apply({"params": params}, z, c, method="decode")
  pred = evaluators.render(decode, latents, images.shape[1:-1], chunk=chunk)
  return latents, evaluators.reconstruction_metrics(pred, images)["psnr"]


def export(workdir: str, out: str, splits=("train", "test"),
           batch_size: int = 64, input_kwargs: dict | None = None,
           max_examples: int | None = None) -> dict:
  """Writes the latents of `splits` (module doc); returns meta.json's dict.

  Args:
    workdir: a stage-1 training workdir (config.json + checkpoints).
    out: the latent directory to write.
    splits: dataset splits to encode; "train" is needed for the statistics.
    batch_size: images per encoding step (a multiple of the devices).
    input_kwargs: overrides of the stage-1 config's `input.kwargs` (e.g. more
      embedded crops per photo).
    max_examples: encode at most this many examples per split.
  """
  if "train" not in splits:
    raise ValueError(
        f"splits={splits}: 'train' is needed for the standardisation statistics."
    )
  config, setup, params = stage1.load_workdir(workdir)
  if getattr(setup.task, "key", None) != "image":
    raise ValueError(
        f"{workdir} was trained on {setup.task}; latent export encodes images.")
  cfg = config.input
  kwargs = dict(cfg.kwargs.to_dict(), **(input_kwargs or {}))
  mesh = setup.mesh
  sharding.check_batch_size(batch_size, mesh, "--batch_size")
  encode = jax.jit(
      lambda p, x: _encode_fn(p, x, model=setup.model, task=setup.task, meta=
                              setup.meta, chunk=config.eval_coord_chunk))
  os.makedirs(out, exist_ok=True)
  meta = {
      "stage1_workdir": os.path.abspath(workdir),
      "model_name": config.model_name, "dataset": cfg.name,
      "image_size": cfg.image_size, "input_kwargs": kwargs, "splits": {}
  }
  for split in splits:
    source, transform = datasets.make(cfg.name, split=split, train=False,
                                      image_size=cfg.image_size,
                                      data_dir=cfg.data_dir, **kwargs)
    n = len(source) if max_examples is None else min(len(source), max_examples)
    labels = np.asarray(
        [element_label(cfg.name, split, source[i]) for i in range(n)], np.int32)
    tmp = os.path.join(out, f".{split}_latents.npy.tmp")
    array, psnr_sum = None, 0.0
    total, total_sq = 0.0, 0.0
    start_time = time.monotonic()
    for start in range(0, n, batch_size):
      # The last batch is padded by repeating its final example.
      idx = [min(i, n - 1) for i in range(start, start + batch_size)]
      images = np.stack([transform(source[i], None)["image"] for i in idx])
      latents, psnr = jax.device_get(
          encode(params, jax.device_put(images, sharding.data_sharded(mesh))))
      valid = min(batch_size, n - start)
      latents, psnr = np.asarray(latents[:valid], np.float32), psnr[:valid]
      if array is None:
        array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                          shape=(n, *latents.shape[1:]))
      array[start:start + valid] = latents
      psnr_sum += float(np.sum(psnr))
      total = total + latents.astype(np.float64).sum(0)
      total_sq = total_sq + np.square(latents.astype(np.float64)).sum(0)
      if (start // batch_size + 1) % 20 == 0 or start + valid == n:
        logging.info("%s: encoded %d/%d images (%.1f/s), PSNR so far %.2f dB",
                     split, start + valid, n,
                     (start + valid) / (time.monotonic() - start_time),
                     psnr_sum / (start + valid))
    array.flush()
    del array
    os.replace(tmp, os.path.join(out, f"{split}_latents.npy"))
    np.save(os.path.join(out, f"{split}_labels.npy"), labels)
    meta["splits"][split] = {
        "num_examples": n, "psnr": psnr_sum / n,
        "class_names": class_names(cfg.name, split)
    }
    if split == "train":
      mean = total / n
      std = np.sqrt(np.maximum(total_sq / n - np.square(mean), 0.0))
      np.savez(os.path.join(out, "stats.npz"), mean=mean.astype(np.float32),
               std=np.maximum(std, STD_FLOOR).astype(np.float32))
      meta.update(num_tokens=int(latents.shape[1]),
                  token_dim=int(latents.shape[2]),
                  num_classes=int(labels.max()) + 1)
    logging.info("%s: %d latents %s, reconstruction PSNR %.2f dB -> %s", split,
                 n, tuple(latents.shape[1:]), psnr_sum / n, out)
  with open(os.path.join(out, "meta.json"), "w") as f:
    json.dump(meta, f, indent=2)
  return meta


def read_meta(latent_dir: str) -> dict:
  """meta.json of a latent directory, or an error naming the command."""
  path = os.path.join(latent_dir, "meta.json")
  if not os.path.exists(path):
    raise cli.NotFoundError(
        f"No latents in {latent_dir} (no meta.json). Export them from a "
        f"trained stage-1 workdir first:\n  {export_command(out=latent_dir)}")
  with open(path) as f:
    return json.load(f)


def read_stats(latent_dir: str) -> tuple[np.ndarray, np.ndarray]:
  """(mean, std), each [R, d], of the training latents."""
  with np.load(os.path.join(latent_dir, "stats.npz")) as f:
    return f["mean"], f["std"]


def standardize(latents, mean, std):
  """z' = (z - mean) / std, per token and channel; latents [..., R, d]."""
  return (latents - mean) / std


def unstandardize(latents, mean, std):
  return latents * std + mean


class LatentSource:
  """Random access to (standardised) latents and labels of one split:
  source[i] = {"latents": float32 [R, d], "label": int32 []}."""

  def __init__(self, latent_dir: str, split: str):
    meta = read_meta(latent_dir)
    if split not in meta["splits"]:
      raise cli.NotFoundError(
          f"{latent_dir} has no split {split!r} (has "
          f"{sorted(meta['splits'])}); rerun {export_command(out=latent_dir)}"
          f" --splits=...,{split}")
    self._latents = np.load(os.path.join(latent_dir, f"{split}_latents.npy"),
                            mmap_mode="r")
    self._labels = np.load(os.path.join(latent_dir, f"{split}_labels.npy"))
    self._mean, self._std = read_stats(latent_dir)

  def __len__(self) -> int:
    return len(self._labels)

  def __getitem__(self, i: int) -> dict[str, np.ndarray]:
    z = standardize(np.asarray(self._latents[i], np.float32), self._mean,
                    self._std)
    return {"latents": z.astype(np.float32), "label": self._labels[i]}


def dataset(latent_dir: str, split: str = "train") -> grain.MapDataset:
  return grain.MapDataset.source(LatentSource(latent_dir, split))
