"""Model families, chosen by name: `config.model_name` = "ipc" builds
`ginr_jax.models.ipc.build(config.model)`.

Every model maps images to per-instance latents and decodes them at
coordinates, with the same interface:
  __call__(images, coords, train=False) -> predictions [B, N, output_dim]
  encode(images, train=False)           -> latents (a pytree, batch-leading)
  decode(latents, coords, return_activations=False) -> predictions

and its module describes the family to the configs (config_lib):
  NAME            the paper's name, for messages
  ARGS            its config arguments (the papers' ablations) and defaults
  configure(c, args, hyponet)  sets c.model from ARGS' values and the
                  data's coordinate MLP (a hyponet config)
  tiny(model)     its own fields at `:tiny` sizes (config_lib shrinks the
                  shared encoder and MLP)
  variant(model)  what, besides array sizes, changes what it computes (the
                  tests train one `:tiny` config of each)
  DECODER_PARAMS  its parameters, besides the latents, that map coordinates
                  to outputs: what test-time optimisation of "all weights"
                  adapts per instance
"""

import importlib

import jax
import ml_collections

from ginr_jax import cli

# Families that encode an image in one pass: every config with `model=`
# takes them.
ENCODERS = ("ipc", "transinr", "la_ginr")
# Families whose latents the trainer's inner loop adapts (config.meta).
META_LEARNED = ("meta_ipc", "learned_init")
FAMILIES = ENCODERS + META_LEARNED


def family(name: str):
  """The module of a model family."""
  if name not in FAMILIES:
    raise cli.ConfigError(
        f"Unknown model_name {name!r}; use one of {', '.join(FAMILIES)}.")
  return importlib.import_module(f"ginr_jax.models.{name}")


def build(model_name: str, model_cfg: ml_collections.ConfigDict):
  return family(model_name).build(resolve_dtypes(model_cfg.to_dict()))


def compute_dtype(dtype: str) -> str:
  """A config's compute dtype as this backend runs it: "auto" (the
  transformer's at `precision=auto`, config_lib.PRECISIONS) is bfloat16 on
  accelerators and float32 on CPUs, where bfloat16 is no faster."""
  if dtype != "auto":
    return dtype
  return "float32" if jax.default_backend() == "cpu" else "bfloat16"


def resolve_dtypes(cfg: dict) -> dict:
  """A model config with its transformer's compute dtype (the only one
  `precision=auto` sets) as `compute_dtype` resolves it."""
  return dict(cfg, dtype=compute_dtype(cfg["dtype"])) if "dtype" in cfg else cfg


def decoder_params(model_name: str) -> tuple[str, ...]:
  """Top-level parameter names of the model's decoder (besides latents)."""
  return family(model_name).DECODER_PARAMS
