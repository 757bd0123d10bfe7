"""Turning signals into transformer tokens (`official_code_facts.md` §1.3)."""

import jax
import jax.numpy as jnp


def num_patches(image_size: tuple[int, int], patch_size: int,
                padding: int) -> int:
  """Token count of `patchify`, with a clear error for sizes that don't tile."""
  h, w = (s + 2 * padding for s in image_size)
  if h % patch_size or w % patch_size:
    raise ValueError(
        f"Image size {tuple(image_size)} with zero padding {padding} on each "
        f"side gives {h}x{w}, which {patch_size}x{patch_size} patches do not "
        "tile. Choose input.image_size, model.patch_size and "
        "model.patch_padding so that size + 2*padding is a multiple of the "
        "patch size (e.g. 178 + 2*1 = 20*9).")
  return (h // patch_size) * (w // patch_size)


def patchify(images: jax.Array, patch_size: int, padding: int) -> jax.Array:
  """Non-overlapping patches, as torch.nn.Unfold(p, stride=p, padding).

  Args:
    images: [B, H, W, C].
    patch_size: p.
    padding: zeros added on every side first (1 for 178 -> 180 with p = 9).

  Returns:
    [B, L, C*p*p] patch vectors in raster order, each flattened channel-major
    (C, p, p) like the official Unfold.
  """
  b, h, w, c = images.shape
  num_patches((h, w), patch_size, padding)  # validates the shape
  x = jnp.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
  gh, gw = (h + 2 * padding) // patch_size, (w + 2 * padding) // patch_size
  x = x.reshape(b, gh, patch_size, gw, patch_size, c)
  x = x.transpose(0, 1, 3, 5, 2, 4)  # [B, gh, gw, C, p, p]
  return x.reshape(b, gh * gw, c * patch_size * patch_size)
