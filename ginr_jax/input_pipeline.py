"""grain input pipelines that yield global, data-sharded batches.

The global example stream is defined once, independently of how many
processes read it: shuffle (reshuffled every epoch) -> repeat -> random
augmentation keyed by the global position. Process p of P then reads, for
global batch i, the positions i*G + p*L ... i*G + (p+1)*L - 1 (G global, L =
G/P local batch), and the local arrays become one global array sharded on
"data". The data order is therefore the same on 1 or N processes, and the
iterator state (the next local position) is checkpointed with the model.
"""

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


class BatchIterator:
  """Infinite iterator of global batches of `global_ds`, an endless
  MapDataset of examples in their global order (e.g. shuffle -> repeat).

  `get_state` / `set_state` make it checkpointable (JSON-serialisable state).
  """

  def __init__(self, global_ds: grain.MapDataset, batch_size: int, mesh,
               num_threads: int):
    sharding.check_batch_size(batch_size, mesh, "input.batch_size")
    local = local_batch_size(batch_size)
    # repeat() is effectively infinite; bound the index space to int64.
    num_batches = (2**62) // batch_size
    ds = _process_slice(global_ds, batch_size,
                        num_batches).batch(local, drop_remainder=True)
    self._iter = ds.to_iter_dataset(
        grain.ReadOptions(num_threads=num_threads,
                          prefetch_buffer_size=max(4, num_threads))).__iter__()
    self._sharding = sharding.data_sharded(mesh)

  def __iter__(self):
    return self

  def __next__(self) -> dict[str, jax.Array]:
    return to_global(next(self._iter), self._sharding)

  def get_state(self) -> dict[str, Any]:
    return self._iter.get_state()

  def set_state(self, state: dict[str, Any]):
    self._iter.set_state(state)


class TrainIterator(BatchIterator):
  """The training batches of `config.input` (e.g. {"image": [B, H, W, C]}),
  reshuffled every epoch and augmented."""

  def __init__(self, cfg: ml_collections.ConfigDict, mesh, seed: int):
    source, transform = _dataset(cfg, "train", train=cfg.augment)
    super().__init__(
        source.shuffle(seed=seed).repeat().random_map(transform, seed=seed + 1),
        cfg.batch_size, mesh, cfg.num_threads)


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
