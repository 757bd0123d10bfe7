"""Models, chosen by module name: `config.model_name` = "ipc" builds
`ginr_jax.models.ipc.build(config.model)`.

Every model maps images to per-instance latents and decodes them at
coordinates, with the same interface:
  __call__(images, coords, train=False) -> predictions [B, N, output_dim]
  encode(images, train=False)           -> latents (a pytree, batch-leading)
  decode(latents, coords, return_activations=False) -> predictions
"""

import importlib

import ml_collections

from ginr_jax import cli


def build(model_name: str, model_cfg: ml_collections.ConfigDict):
  try:
    module = importlib.import_module(f"ginr_jax.models.{model_name}")
  except ModuleNotFoundError as e:
    raise cli.ConfigError(f"Unknown model_name {model_name!r}: no module "
                          f"ginr_jax/models/{model_name}.py.") from e
  return module.build(model_cfg.to_dict())


def decoder_params(model_name: str) -> tuple[str, ...]:
  """Top-level parameter names of the model's decoder (besides latents)."""
  return importlib.import_module(f"ginr_jax.models.{model_name}").DECODER_PARAMS
