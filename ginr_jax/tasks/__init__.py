"""Modalities: what a batch holds, and how the trainer turns it into model
inputs, coordinates, targets and predictions.

The trainer (`train.py`) is the same for every modality; a task owns the
rest:

  signal.Signal   signals on a grid: images [B, H, W, C] ("image") and
                  audio [B, T, 1] ("audio"); coordinates are the grid in
                  [-coord_range, coord_range] on every axis.
  views.Views     novel view synthesis on ShapeNet-style objects: support
                  views with their rays are the encoder input; query rays
                  are the coordinates, rendered through a radiance field
                  ("volume", IPC / TransINR) or read off a light field of
                  Plücker coordinates ("light_field", LA-GINR).

Every task has
  init_inputs()                         -> (encoder input, coords) of one
                                           instance, for parameter shapes
  encoder_input(batch)                  -> what `model.encode` reads
  train_inputs(rng, batch, step)        -> (coords, targets) supervised in
                                           one training step
  eval_inputs(batch)                    -> (coords, targets) of a whole test
                                           instance
  predict(decode, latents, coords, rng) -> predictions shaped like targets
  write_artefacts(sample, encode, predict, out, upsample=, inner_steps=)
                                        writes figures (and audio) of test
                                           instances to an evaluators.Output
  dummy_batch(batch_size, rng)          -> a random batch (benchmarks, tests)

and is built from a config by `build(config)`.
"""

import ml_collections

from ginr_jax import cli
from ginr_jax import datasets
from ginr_jax.tasks import signal
from ginr_jax.tasks import views

NAMES = ("signal", "views")


def build(config: ml_collections.ConfigDict):
  """The task of `config.task`."""
  cfg = config.task.to_dict()
  name = cfg.pop("name")
  spec = datasets.element_spec(config.input)
  if name == "signal":
    key = cfg.pop("key", "image")
    if key not in spec:
      raise cli.ConfigError(f"task.key={key!r}, but dataset "
                            f"{config.input.name!r} yields {sorted(spec)}.")
    return signal.Signal(key=key, shape=spec[key],
                         jitter=config.train.coord_jitter,
                         subsample=config.train.coord_subsample, **cfg)
  if name == "views":
    return views.Views(support_shape=spec["support_image"],
                       query_shape=spec["query_image"], **cfg)
  raise cli.ConfigError(f"task.name={name!r}; use one of {NAMES}.")
