"""Checks of a run's config and workdir before anything is built or written.

A workdir keeps the config it was trained with (`config.json`). Resuming it,
or evaluating it with `--mode=eval --config=...`, compares the requested
config with that one: keys that only say how long, how often, where, or on
how many devices to run, the learning-rate schedule and how the diffusion
stage samples (`MAY_CHANGE`) may differ; any other difference -- the model,
the data, the optimizer's kind, the seed -- is refused with the differing
keys listed, since the checkpoint would not fit the model or the resumed
run would not be the run that was started.
"""

import json
import os

from etils import epath
import ml_collections

from ginr_jax import cli

# Config keys (and key prefixes: "sharding" covers "sharding.rules") that may
# differ between a workdir's config.json and a resume or evaluation of it.
MAY_CHANGE = (
    "total_steps",
    "log_steps",
    "ckpt_steps",
    "eval_steps",
    "keep_checkpoints",
    "checkpoint_dir",
    "num_devices",
    "sharding",
    "eval_max_examples",
    "eval_coord_chunk",
    "num_images",
    "render_upsample",
    "profile_steps",
    # How attention is computed, not what: the same function and parameters;
    # so are the compute dtypes (precision=, float32 parameters either way).
    "model.attention",
    "model.dtype",
    "model.hyponet.dtype",
    "input.data_dir",
    "input.eval_batch_size",
    "input.num_threads",
    "input.num_workers",
    "input.skip_bad_files",
    # The schedule keeps the optimizer state's structure: lowering the
    # learning rate of a resumed run is a common choice.
    "optim.lr",
    "optim.schedule",
    "optim.warmup_steps",
    "optim.min_lr",
    "optim.decay_factor",
    "optim.decay_at",
    # The diffusion stage's: where its latents are and how it samples.
    "latents_dir",
    "eval")

# Top-level keys added after models were exported that only steer a
# training run (the trainer reads them from the command's config): a
# config.json without them still evaluates and loads.
TRAINING_ONLY = ("profile_steps",)


def check_config(config: ml_collections.ConfigDict, training: bool = True):
  """Fails on values that would crash or silently do nothing later.

  Raises:
    cli.ConfigError: a non-positive step count or batch size, or a negative
      profile_steps.
  """
  keys = ["input.eval_batch_size"]
  if training:
    keys += [
        "total_steps", "log_steps", "ckpt_steps", "eval_steps",
        "input.batch_size"
    ]
  for key in keys:
    node = config
    for part in key.split("."):
      node = node[part]
    if node < 1:
      raise cli.ConfigError(f"config.{key}={node}: it must be at least 1; "
                            f"set --config.{key}=N with N >= 1.")
  if training and config.profile_steps < 0:
    raise cli.ConfigError(f"config.profile_steps={config.profile_steps}: "
                          "the steps to trace, 0 for none.")


def check_sections(config: ml_collections.ConfigDict,
                   expected: ml_collections.ConfigDict):
  """Fails on a config without a top-level key of `expected` (the
  trainer's base config) but TRAINING_ONLY's, e.g. a config.json of an
  older version.

  Raises:
    cli.ConfigError: the missing keys.
  """
  missing = sorted(set(expected) - set(config) - set(TRAINING_ONLY))
  if missing:
    raise cli.ConfigError(f"the config has no {', '.join(missing)}; start "
                          "from a config of configs/ (a config.json written "
                          "by an older version of ginr_jax does not load).")


def check_workdir(workdir: str):
  """Fails if `workdir` exists and is not a folder.

  Raises:
    cli.UserError: `workdir` is a file.
  """
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise cli.UserError(f"--workdir={workdir} is a file, not a folder; pass "
                        "a folder (it is created if missing).")


def has_checkpoint(path: str) -> bool:
  """Whether the checkpoint folder `path` holds a finished checkpoint (orbax
  names those by their step), without creating it."""
  path = epath.Path(path)
  return path.is_dir() and any(p.name.isdigit() for p in path.iterdir())


def config_path(workdir: str) -> str:
  return os.path.join(workdir, "config.json")


def read_config(workdir: str,
                path: str | None = None) -> ml_collections.ConfigDict:
  """The config a workdir was trained with (or the config.json at `path`).

  Raises:
    cli.NotFoundError: no such config.json.
  """
  path = path or config_path(workdir)
  if not os.path.exists(path):
    raise cli.NotFoundError(
        f"No {path}: pass the --workdir of a training run (it writes "
        "config.json), or --config.")
  with open(path) as f:
    return ml_collections.ConfigDict(json.load(f))


def _flat(tree, prefix=""):
  """{"a.b": leaf} of a JSON tree."""
  if not isinstance(tree, dict):
    return {prefix[:-1]: tree}
  flat = {}
  for key, value in tree.items():
    flat.update(_flat(value, f"{prefix}{key}."))
  return flat


def differences(saved: ml_collections.ConfigDict,
                requested: ml_collections.ConfigDict) -> list[str]:
  """ "key: saved -> requested" for the keys outside MAY_CHANGE that differ."""
  old = _flat(json.loads(saved.to_json_best_effort()))
  new = _flat(json.loads(requested.to_json_best_effort()))
  diffs = []
  # Top-level keys first: model_name before the model's dozens.
  for key in sorted(set(old) | set(new), key=lambda k: ("." in k, k)):
    if any(key == k or key.startswith(k + ".") for k in MAY_CHANGE):
      continue
    if old.get(key, "(none)") != new.get(key, "(none)"):
      diffs.append(
          f"{key}: {old.get(key, '(none)')} -> {new.get(key, '(none)')}")
  return diffs


def check_same_run(workdir: str, requested: ml_collections.ConfigDict,
                   action: str):
  """Refuses `requested` for a workdir trained with another config.

  Args:
    workdir: a workdir with a config.json.
    requested: the config of the command line.
    action: what would be done, for the message ("resume", "evaluate").

  Raises:
    cli.ConfigError: keys outside MAY_CHANGE differ.
  """
  diffs = differences(read_config(workdir), requested)
  if len(diffs) > 6:  # another model differs in dozens of keys
    diffs = diffs[:6] + [f"and {len(diffs) - 6} more"]
  if diffs:
    raise cli.ConfigError(
        f"cannot {action} {workdir}: it was trained with another config "
        f"({'; '.join(diffs)}); use its own config ({config_path(workdir)}), "
        "or a new --workdir.")
