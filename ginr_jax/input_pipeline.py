"""grain input pipelines that yield global, data-sharded batches.

The global example stream is defined once, independently of how many
processes read it: shuffle (reshuffled every epoch) -> repeat -> random
augmentation keyed by the global position. Process p of P then reads, for
global batch i, the positions i*G + p*L ... i*G + (p+1)*L - 1 (G global, L =
G/P local batch), and the local arrays become one global array sharded on
"data". The data order is therefore the same on 1 or N processes, and the
iterator state (the next local batch) is checkpointed with the model.

Each process reads its batches in `input.num_threads` threads, or in
`input.num_workers` grain worker processes (`mp_prefetch`, worker w making
batches w, w + W, ...): the same batches in the same order either way, and
the state does not depend on the worker count, so a run may resume with
another (README, Throughput: what each dataset needs).
"""

import os
from typing import Any, Iterator

import grain
import jax
import ml_collections
import numpy as np

from ginr_jax import cli
from ginr_jax import datasets
from ginr_jax import sharding

# Seeds the per-example generators of evaluation (fixed: every evaluation,
# and every run, sees the same test draws).
EVAL_SEED = 20_231_128


def _dataset(cfg: ml_collections.ConfigDict, split: str, train: bool):
  """`datasets.make` with the options of `config.input`."""
  return datasets.make(cfg.name, split=split, train=train,
                       image_size=cfg.image_size, data_dir=cfg.data_dir,
                       skip_bad_files=cfg.skip_bad_files, **cfg.kwargs)


def local_batch_size(global_batch: int) -> int:
  if global_batch % jax.process_count():
    raise cli.ConfigError(f"Batch size {global_batch} is not divisible by the "
                          f"{jax.process_count()} processes.")
  return global_batch // jax.process_count()


def _process_slice(global_ds: grain.MapDataset, global_batch: int,
                   num_batches: int) -> grain.MapDataset:
  """This process's share of each global batch, as a flat MapDataset."""
  local = local_batch_size(global_batch)
  start = jax.process_index() * local

  def position(k):
    return (k // local) * global_batch + start + k % local

  return grain.MapDataset.range(num_batches *
                                local).map(lambda k: global_ds[position(k)])


def worker_count(num_workers: int) -> int:
  """The worker processes to start for `input.num_workers` on this host: at
  most its cores less one, which the training process keeps (0: none, the
  batches are made in the training process)."""
  return max(0, min(num_workers, len(os.sched_getaffinity(0)) - 1))


class BatchIterator:
  """Infinite iterator of global batches of `global_ds`, an endless
  MapDataset of examples in their global order (e.g. shuffle -> repeat).

  Local batches are made in `num_threads` threads of this process, or of
  each of `num_workers` worker processes when that is positive.
  `get_state` / `set_state` make it checkpointable (JSON-serialisable state:
  the index of the next local batch, whatever the threads and workers).
  """

  def __init__(self, global_ds: grain.MapDataset, batch_size: int, mesh,
               num_threads: int, num_workers: int = 0):
    sharding.check_batch_size(batch_size, mesh, "input.batch_size")
    local = local_batch_size(batch_size)
    # repeat() is effectively infinite; bound the index space to int64.
    num_batches = (2**62) // batch_size
    self._batches = _process_slice(global_ds, batch_size,
                                   num_batches).batch(local,
                                                      drop_remainder=True)
    self._read = grain.ReadOptions(num_threads=num_threads,
                                   prefetch_buffer_size=max(4, num_threads))
    self.num_workers = num_workers
    self._next = 0
    # Started at the first batch, so that a resume's set_state starts no
    # workers in vain.
    self._iter = None
    self._sharding = sharding.data_sharded(mesh)

  def _start(self):
    ds = self._batches[self._next:].to_iter_dataset(self._read)
    if self.num_workers:
      ds = ds.mp_prefetch(
          grain.MultiprocessingOptions(num_workers=self.num_workers,
                                       per_worker_buffer_size=2))
    return iter(ds)

  def __iter__(self):
    return self

  def __next__(self) -> dict[str, jax.Array]:
    if self._iter is None:
      self._iter = self._start()
    batch = next(self._iter)
    self._next += 1
    return to_global(batch, self._sharding)

  def get_state(self) -> dict[str, Any]:
    # grain's in-process iterator's state, so older checkpoints resume.
    return {"next_index": self._next}

  def set_state(self, state: dict[str, Any]):
    self.close()
    self._next = int(state["next_index"])

  def close(self):
    """Stops the threads and worker processes; the next batch restarts
    them."""
    if self._iter is not None:
      self._iter.close()
      self._iter = None


class TrainIterator(BatchIterator):
  """The training batches of `config.input` (e.g. {"image": [B, H, W, C]}),
  reshuffled every epoch and augmented; made by `worker_count(
  cfg.num_workers)` workers, or by exactly `num_workers` when given."""

  def __init__(self, cfg: ml_collections.ConfigDict, mesh, seed: int,
               num_workers: int | None = None):
    source, transform = _dataset(cfg, "train", train=cfg.augment)
    super().__init__(
        source.shuffle(seed=seed).repeat().random_map(transform, seed=seed + 1),
        cfg.batch_size, mesh, cfg.num_threads,
        worker_count(cfg.num_workers) if num_workers is None else num_workers)


def eval_batches(
    cfg: ml_collections.ConfigDict, mesh, split: str = "test",
    batch_size: int | None = None,
    max_examples: int | None = None) -> Iterator[dict[str, jax.Array]]:
  """Every example of `split` exactly once, in global batches.

  The last batch is padded by repeating the final example; its "mask" entry
  ([B] bool) is False on the padding. Example i is transformed with a
  generator seeded by i, so random test protocols (NVS's support / query
  draws) are the same at every evaluation.
  """
  batch_size = batch_size or cfg.eval_batch_size
  sharding.check_batch_size(batch_size, mesh, "input.eval_batch_size")
  source, transform = _dataset(cfg, split, train=False)
  n = len(source) if max_examples is None else min(len(source), max_examples)
  num_batches = -(-n // batch_size)
  padded = grain.MapDataset.range(num_batches * batch_size).map(lambda i: dict(
      transform(source[min(i, n - 1)], _eval_rng(i)), mask=i < n))
  local = local_batch_size(batch_size)
  ds = _process_slice(padded, batch_size, num_batches).batch(local)
  data_sharding = sharding.data_sharded(mesh)
  for batch in ds.to_iter_dataset(grain.ReadOptions(num_threads=8)):
    yield to_global(batch, data_sharding)


def _eval_rng(index: int) -> np.random.Generator:
  return np.random.default_rng([EVAL_SEED, index])


def eval_sample(cfg: ml_collections.ConfigDict, num: int,
                split: str = "test") -> dict[str, np.ndarray]:
  """`num` examples spread evenly over `split`, for figures: each entry
  stacked, e.g. {"image": [num, H, W, C]}; drawn as `eval_batches` does."""
  source, transform = _dataset(cfg, split, train=False)
  indices = np.linspace(0, len(source) - 1, min(num, len(source)))
  examples = [
      transform(source[int(round(i))], _eval_rng(int(round(i))))
      for i in indices
  ]
  return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


def to_global(local_batch: dict[str, np.ndarray],
              data_sharding) -> dict[str, jax.Array]:
  """Assembles each process's local arrays into global data-sharded arrays."""
  return {
      k: jax.make_array_from_process_local_data(data_sharding, np.asarray(v))
      for k, v in local_batch.items()
  }
