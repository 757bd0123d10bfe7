"""ginr_jax: generalizable implicit neural representations in JAX/Flax.

`ginr_jax.load(path)` returns a trained model (`api.py`); it is imported on
first use, so that `import ginr_jax` stays cheap.
"""

__all__ = ["load", "Model"]


def __getattr__(name: str):
  if name in __all__:
    from ginr_jax import api  # pylint: disable=g-import-not-at-top

    return getattr(api, name)
  raise AttributeError(f"module 'ginr_jax' has no attribute {name!r}")
