"""Turning signals into transformer tokens.

How they match the official encoder: `docs/faithfulness.md#tokenizer`.
"""

import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import cli


def num_patches(signal_shape: tuple[int, ...], patch_size: int,
                padding: int) -> int:
  """Token count of `patchify`, with a clear error for sizes that don't tile."""
  padded = [s + 2 * padding for s in signal_shape]
  if any(s % patch_size for s in padded):
    raise cli.ConfigError(
        f"Signal size {tuple(signal_shape)} with zero padding {padding} on "
        f"each side gives {'x'.join(map(str, padded))}, which patches of "
        f"{patch_size} per axis do not tile. Choose input.image_size, "
        "model.patch_size and model.patch_padding so that size + 2*padding "
        "is a multiple of the patch size (e.g. 178 + 2*1 = 20*9).")
  return int(np.prod([s // patch_size for s in padded]))


def patchify(signals: jax.Array, patch_size: int, padding: int,
             rank: int = 0) -> jax.Array:
  """Non-overlapping patches, as torch.nn.Unfold(p, stride=p, padding).

  Args:
    signals: [B, *spatial, C]: images [B, H, W, C], audio [B, T, C]; or,
      with `rank`, [B, *views, *spatial, C] (NVS support views [B, S, H, W,
      C] with rank 2).
    patch_size: p, along every spatial axis.
    padding: zeros added on every side first (1 for 178 -> 180 with p = 9).
    rank: the number of spatial axes; 0: every axis between B and C.

  Returns:
    [B, L, C * p**rank] patch vectors in raster order, each flattened
    channel-major (C, p, ...) like the official Unfold (and Unfold1D, which
    for mono audio of a multiple of p samples is a plain reshape). Views
    are patched one by one and their tokens concatenated view after view,
    as the official NVS encoder does.
  """
  if rank and signals.ndim - 2 > rank:
    b = signals.shape[0]
    views = signals.reshape(-1, *signals.shape[-rank - 1:])
    tokens = patchify(views, patch_size, padding)
    return tokens.reshape(b, -1, tokens.shape[-1])
  b, *spatial, c = signals.shape
  num_patches(spatial, patch_size, padding)  # validates the shape
  rank = len(spatial)
  x = jnp.pad(signals, ((0, 0), *[(padding, padding)] * rank, (0, 0)))
  grid = [(s + 2 * padding) // patch_size for s in spatial]
  x = x.reshape(b, *[d for g in grid for d in (g, patch_size)], c)
  # [B, g1, p, g2, p, ..., C] -> [B, g1, g2, ..., C, p, p, ...]
  order = ([0] + [1 + 2 * i for i in range(rank)] + [1 + 2 * rank] +
           [2 + 2 * i for i in range(rank)])
  x = x.transpose(order)
  return x.reshape(b, int(np.prod(grid)), c * patch_size**rank)
