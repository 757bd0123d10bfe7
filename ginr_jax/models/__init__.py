"""Models, chosen by module name: `config.model_name` = "ipc" builds
`ginr_jax.models.ipc.Model(**config.model)`, with `config.model.hyponet`
turned into a `hyponet.HypoNet`."""

import importlib

import ml_collections

from ginr_jax.models import hyponet


def build(model_name: str, model_cfg: ml_collections.ConfigDict):
  try:
    module = importlib.import_module(f"ginr_jax.models.{model_name}")
  except ModuleNotFoundError as e:
    raise ValueError(f"Unknown model_name {model_name!r}: no module "
                     f"ginr_jax/models/{model_name}.py.") from e
  kwargs = model_cfg.to_dict()
  kwargs["hyponet"] = hyponet.HypoNet(**kwargs["hyponet"])
  return module.Model(**kwargs)
