"""Optimiser and learning-rate schedule from `config.optim`.

The official runs use Adam (0.9, 0.999), no weight decay, no clipping, and a
constant learning rate (`docs/faithfulness.md#optimiser-and-schedule`); that
is the default.
"""

import ml_collections
import optax


def make_schedule(cfg: ml_collections.ConfigDict,
                  total_steps: int) -> optax.Schedule:
  """Learning rate per step.

  `cfg.schedule` is "constant", "cosine" (to `cfg.min_lr` at total_steps) or
  "step" (times `cfg.decay_factor` at each fraction in `cfg.decay_at`), each
  after a linear warm-up from 0 over `cfg.warmup_steps`.
  """
  warmup = cfg.warmup_steps
  if cfg.schedule == "constant":
    main = optax.constant_schedule(cfg.lr)
  elif cfg.schedule == "cosine":
    main = optax.cosine_decay_schedule(cfg.lr, max(total_steps - warmup, 1),
                                       alpha=cfg.min_lr / cfg.lr)
  elif cfg.schedule == "step":
    boundaries = {
        int(f * total_steps) - warmup: cfg.decay_factor for f in cfg.decay_at
    }
    main = optax.piecewise_constant_schedule(cfg.lr, boundaries)
  else:
    raise ValueError(f"Unknown optim.schedule {cfg.schedule!r}: use "
                     "'constant', 'cosine' or 'step'.")
  if not warmup:
    return main
  return optax.join_schedules(
      [optax.linear_schedule(0.0, cfg.lr, warmup), main], [warmup])


def make(cfg: ml_collections.ConfigDict, total_steps: int):
  """Returns (optax transformation, schedule)."""
  schedule = make_schedule(cfg, total_steps)
  if cfg.name == "adam":
    tx = optax.adam(schedule, b1=cfg.b1, b2=cfg.b2)
  elif cfg.name == "adamw":
    tx = optax.adamw(schedule, b1=cfg.b1, b2=cfg.b2,
                     weight_decay=cfg.weight_decay)
  else:
    raise ValueError(f"Unknown optim.name {cfg.name!r}: use 'adam' or 'adamw'.")
  if cfg.grad_clip_norm:
    tx = optax.chain(optax.clip_by_global_norm(cfg.grad_clip_norm), tx)
  return tx, schedule
