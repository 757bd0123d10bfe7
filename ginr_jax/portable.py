"""The portable model file: one .npz that numpy alone can read.

  params/<module>/<...>/<leaf>  every parameter, named by its path in the
                                parameter tree ("params/encoder/block_0/
                                attn/query/kernel")
  config                        the resolved config as JSON (a 0-d string
                                array: no pickle needed)
  step                          the training step of the checkpoint
  format                        FORMAT, to recognise the file

Written by `python -m ginr_jax.cli.export`, read by `api.load`:

  with np.load("models/demo_ipc.npz") as f:
    config = json.loads(str(f["config"]))
    kernel = f["params/encoder/block_0/attn/query/kernel"]
"""

import json
import os

from flax import traverse_util
import jax
import ml_collections
import numpy as np

from ginr_jax import cli

FORMAT = "ginr_jax.portable/1"
PARAMS = "params"


def write(path: str, config: ml_collections.ConfigDict, params, step: int):
  """Writes `params` (a nested dict of arrays), `config` and `step` to the
  .npz file `path`, replacing it at once (a kill leaves the old one)."""
  flat = traverse_util.flatten_dict(jax.device_get(params), sep="/")
  arrays = {
      f"{PARAMS}/{name}": np.asarray(value) for name, value in flat.items()
  }
  arrays.update(config=np.array(config.to_json_best_effort()),
                step=np.array(step, np.int64), format=np.array(FORMAT))
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  tmp = path + ".tmp.npz"  # np.savez appends .npz to other names
  np.savez(tmp, **arrays)
  os.replace(tmp, path)


def read(path: str) -> tuple[ml_collections.ConfigDict, dict, int]:
  """(config, params as a nested dict of numpy arrays, step) of a file
  `write` made.

  Raises:
    cli.UserError: not such a file.
  """
  try:
    with np.load(path, allow_pickle=False) as f:
      if "format" not in f or str(f["format"]) != FORMAT:
        raise cli.UserError(
            f"{path} is not a ginr_jax model file; make one with python -m "
            "ginr_jax.cli.export --workdir=W --out=m.npz.")
      flat = {
          name[len(PARAMS) + 1:]: f[name]
          for name in f.files
          if name.startswith(PARAMS + "/")
      }
      config = ml_collections.ConfigDict(json.loads(str(f["config"])))
      step = int(f["step"])
  except (OSError, ValueError) as e:  # not a zip, or a damaged one
    raise cli.UserError(f"cannot read {path} as a model file ({e}); make "
                        "one with python -m ginr_jax.cli.export.") from e
  return config, traverse_util.unflatten_dict(flat, sep="/"), step
