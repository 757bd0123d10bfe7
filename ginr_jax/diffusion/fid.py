"""FID: the Frechet distance between Inception features of two image sets.

Heusel et al. 2017, as pytorch-fid computes it (the FID of LA-GINR Table 5):
2048-d pool features of the FID variant of InceptionV3 (pytorch-fid's
`fid_inception_v3`: FIDInceptionA/C/E, average pools that exclude padding, a
max pool in the last block), images resized to 299 x 299 (bilinear, no
antialiasing, as torch's interpolate) and scaled to [-1, 1], then

  FID = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)).

Weights: nothing is downloaded at run time. Convert pytorch-fid's published
file once, on any machine with torch (see `tools/convert_fid_inception.py`):

  wget \
    https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
  python tools/convert_fid_inception.py pt_inception-2015-12-05-6726825d.pth \
      fid_inception.npz

and pass the .npz (`load_inception`). The .npz holds the torch state_dict
unchanged (names and OIHW layouts); this file maps it onto the network.

`standin_extractor` is a small fixed random conv net for tests only: its
"FID" is NOT an FID and is not comparable with published numbers.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from ginr_jax import cli

WEIGHTS_HELP = (
    "Get pytorch-fid's InceptionV3 weights, pt_inception-2015-12-05-"
    "6726825d.pth, from https://github.com/mseitzer/pytorch-fid/releases "
    "(tag fid_weights) and convert them once where torch is installed: "
    "python tools/convert_fid_inception.py pt_inception-2015-12-05-"
    "6726825d.pth fid_inception.npz")
BN_EPS = 1e-3
FEATURE_DIM = 2048


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean [F] and covariance [F, F] (unbiased, as numpy's) of [N, F]."""
  features = np.asarray(features, np.float64)
  return features.mean(0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
  """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)), pytorch-fid's method."""
  mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
  sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
  covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
  if not np.isfinite(covmean).all():  # singular product: regularise
    offset = np.eye(sigma1.shape[0]) * eps
    covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
  covmean = np.real(covmean)
  diff = mu1 - mu2
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) -
               2.0 * np.trace(covmean))


# ---------------------------------------------------------------------------
# InceptionV3, FID variant. Every conv is torchvision's BasicConv2d: conv
# without bias, BatchNorm (eps 1e-3, running statistics), ReLU.


def _inception_a(name, cin, pool):
  return {
      f"{name}.branch1x1": (64, cin, 1, 1), f"{name}.branch5x5_1":
          (48, cin, 1, 1), f"{name}.branch5x5_2": (64, 48, 5, 5),
      f"{name}.branch3x3dbl_1": (64, cin, 1, 1), f"{name}.branch3x3dbl_2":
          (96, 64, 3, 3), f"{name}.branch3x3dbl_3": (96, 96, 3, 3),
      f"{name}.branch_pool": (pool, cin, 1, 1)
  }


def _inception_c(name, c7):
  return {
      f"{name}.branch1x1": (192, 768, 1, 1), f"{name}.branch7x7_1":
          (c7, 768, 1, 1), f"{name}.branch7x7_2": (c7, c7, 1, 7),
      f"{name}.branch7x7_3": (192, c7, 7, 1), f"{name}.branch7x7dbl_1":
          (c7, 768, 1, 1), f"{name}.branch7x7dbl_2": (c7, c7, 7, 1),
      f"{name}.branch7x7dbl_3": (c7, c7, 1, 7), f"{name}.branch7x7dbl_4":
          (c7, c7, 7, 1), f"{name}.branch7x7dbl_5": (192, c7, 1, 7),
      f"{name}.branch_pool": (192, 768, 1, 1)
  }


def _inception_e(name, cin):
  return {
      f"{name}.branch1x1": (320, cin, 1, 1), f"{name}.branch3x3_1":
          (384, cin, 1, 1), f"{name}.branch3x3_2a": (384, 384, 1, 3),
      f"{name}.branch3x3_2b": (384, 384, 3, 1), f"{name}.branch3x3dbl_1":
          (448, cin, 1, 1), f"{name}.branch3x3dbl_2": (384, 448, 3, 3),
      f"{name}.branch3x3dbl_3a": (384, 384, 1, 3), f"{name}.branch3x3dbl_3b":
          (384, 384, 3, 1), f"{name}.branch_pool": (192, cin, 1, 1)
  }


def conv_shapes() -> dict[str, tuple[int, int, int, int]]:
  """Every BasicConv2d of the network: torch weight shape (O, I, kh, kw)."""
  shapes = {
      "Conv2d_1a_3x3": (32, 3, 3, 3), "Conv2d_2a_3x3": (32, 32, 3, 3),
      "Conv2d_2b_3x3": (64, 32, 3, 3), "Conv2d_3b_1x1": (80, 64, 1, 1),
      "Conv2d_4a_3x3": (192, 80, 3, 3)
  }
  shapes.update(_inception_a("Mixed_5b", 192, 32))
  shapes.update(_inception_a("Mixed_5c", 256, 64))
  shapes.update(_inception_a("Mixed_5d", 288, 64))
  shapes.update({
      "Mixed_6a.branch3x3": (384, 288, 3, 3), "Mixed_6a.branch3x3dbl_1":
          (64, 288, 1, 1), "Mixed_6a.branch3x3dbl_2": (96, 64, 3, 3),
      "Mixed_6a.branch3x3dbl_3": (96, 96, 3, 3)
  })
  for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160),
                   ("Mixed_6e", 192)):
    shapes.update(_inception_c(name, c7))
  shapes.update({
      "Mixed_7a.branch3x3_1": (192, 768, 1, 1), "Mixed_7a.branch3x3_2":
          (320, 192, 3, 3), "Mixed_7a.branch7x7x3_1": (192, 768, 1, 1),
      "Mixed_7a.branch7x7x3_2": (192, 192, 1, 7), "Mixed_7a.branch7x7x3_3":
          (192, 192, 7, 1), "Mixed_7a.branch7x7x3_4": (192, 192, 3, 3)
  })
  shapes.update(_inception_e("Mixed_7b", 1280))
  shapes.update(_inception_e("Mixed_7c", 2048))
  return shapes


def param_shapes() -> dict[str, tuple[int, ...]]:
  """The state_dict entries the network reads, with their torch shapes."""
  out = {}
  for name, shape in conv_shapes().items():
    out[f"{name}.conv.weight"] = shape
    for stat in ("weight", "bias", "running_mean", "running_var"):
      out[f"{name}.bn.{stat}"] = (shape[0],)
  return out


def load_inception(path: str) -> dict[str, np.ndarray]:
  """The FID Inception parameters from the converted .npz (module doc)."""
  if not path or not os.path.exists(path):
    raise cli.NotFoundError(f"No FID Inception weights at {path!r}. " +
                            WEIGHTS_HELP)
  try:
    with np.load(path) as f:
      params = {k: f[k] for k in f.files}
  except (OSError, ValueError) as e:
    raise ValueError(f"{path} is not an .npz file ({e}). " +
                     WEIGHTS_HELP) from e
  for key, shape in param_shapes().items():
    if key not in params:
      raise ValueError(
          f"{path} has no {key!r}: not the FID Inception weights. " +
          WEIGHTS_HELP)
    if tuple(params[key].shape) != shape:
      raise ValueError(f"{path}: {key} has shape {params[key].shape}, "
                       f"expected {shape}. " + WEIGHTS_HELP)
  return {k: params[k].astype(np.float32) for k in param_shapes()}


def _conv(params, name, x, stride=1, pad=True):
  w = params[f"{name}.conv.weight"]  # [O, I, kh, kw]
  kh, kw = w.shape[2:]
  padding = [(kh // 2,) * 2, (kw // 2,) * 2] if pad else [(0, 0), (0, 0)]
  y = jax.lax.conv_general_dilated(x, jnp.transpose(w, (2, 3, 1, 0)),
                                   (stride, stride), padding,
                                   dimension_numbers=("NHWC", "HWIO", "NHWC"))
  bn = lambda s: params[f"{name}.bn.{s}"]
  y = (y - bn("running_mean")) * jax.lax.rsqrt(bn("running_var") + BN_EPS)
  return jax.nn.relu(y * bn("weight") + bn("bias"))


def _max_pool(x, stride=2, pad=0):
  return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1),
                               (1, stride, stride, 1), [(0, 0), (pad, pad),
                                                        (pad, pad), (0, 0)])


def _avg_pool_exclude_pad(x):
  """3x3, stride 1, padding 1, count_include_pad=False (pytorch-fid)."""
  window = lambda v: jax.lax.reduce_window(v, 0.0, jax.lax.add,
                                           (1, 3, 3, 1), (1, 1, 1, 1), [(0, 0),
                                                                        (1, 1),
                                                                        (1, 1),
                                                                        (0, 0)])
  return window(x) / window(jnp.ones_like(x[..., :1]))


def _block_a(p, n, x):
  b5 = _conv(p, f"{n}.branch5x5_2", _conv(p, f"{n}.branch5x5_1", x))
  b3 = _conv(p, f"{n}.branch3x3dbl_1", x)
  b3 = _conv(p, f"{n}.branch3x3dbl_3", _conv(p, f"{n}.branch3x3dbl_2", b3))
  pool = _conv(p, f"{n}.branch_pool", _avg_pool_exclude_pad(x))
  return jnp.concatenate([_conv(p, f"{n}.branch1x1", x), b5, b3, pool], -1)


def _block_b(p, n, x):
  b3 = _conv(p, f"{n}.branch3x3", x, stride=2, pad=False)
  d = _conv(p, f"{n}.branch3x3dbl_2", _conv(p, f"{n}.branch3x3dbl_1", x))
  d = _conv(p, f"{n}.branch3x3dbl_3", d, stride=2, pad=False)
  return jnp.concatenate([b3, d, _max_pool(x)], -1)


def _block_c(p, n, x):
  b7 = x
  for i in (1, 2, 3):
    b7 = _conv(p, f"{n}.branch7x7_{i}", b7)
  d = x
  for i in (1, 2, 3, 4, 5):
    d = _conv(p, f"{n}.branch7x7dbl_{i}", d)
  pool = _conv(p, f"{n}.branch_pool", _avg_pool_exclude_pad(x))
  return jnp.concatenate([_conv(p, f"{n}.branch1x1", x), b7, d, pool], -1)


def _block_d(p, n, x):
  b3 = _conv(p, f"{n}.branch3x3_2", _conv(p, f"{n}.branch3x3_1", x), stride=2,
             pad=False)
  b7 = x
  for i in (1, 2, 3):
    b7 = _conv(p, f"{n}.branch7x7x3_{i}", b7)
  b7 = _conv(p, f"{n}.branch7x7x3_4", b7, stride=2, pad=False)
  return jnp.concatenate([b3, b7, _max_pool(x)], -1)


def _block_e(p, n, x, max_pool: bool):
  b3 = _conv(p, f"{n}.branch3x3_1", x)
  b3 = jnp.concatenate(
      [_conv(p, f"{n}.branch3x3_2a", b3),
       _conv(p, f"{n}.branch3x3_2b", b3)], -1)
  d = _conv(p, f"{n}.branch3x3dbl_2", _conv(p, f"{n}.branch3x3dbl_1", x))
  d = jnp.concatenate([
      _conv(p, f"{n}.branch3x3dbl_3a", d),
      _conv(p, f"{n}.branch3x3dbl_3b", d)
  ], -1)
  pooled = (_max_pool(x, stride=1, pad=1)
            if max_pool else _avg_pool_exclude_pad(x))
  pool = _conv(p, f"{n}.branch_pool", pooled)
  return jnp.concatenate([_conv(p, f"{n}.branch1x1", x), b3, d, pool], -1)


def inception_features(params, images: jax.Array, size: int = 299):
  """2048-d pool features [B, 2048] of images [B, H, W, 3] in [0, 1]."""
  x = jax.image.resize(images, (images.shape[0], size, size, 3), "bilinear",
                       antialias=False)
  x = 2.0 * x - 1.0
  x = _conv(params, "Conv2d_1a_3x3", x, stride=2, pad=False)
  x = _conv(params, "Conv2d_2a_3x3", x, pad=False)
  x = _max_pool(_conv(params, "Conv2d_2b_3x3", x))
  x = _conv(params, "Conv2d_3b_1x1", x)
  x = _max_pool(_conv(params, "Conv2d_4a_3x3", x, pad=False))
  for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
    x = _block_a(params, name, x)
  x = _block_b(params, "Mixed_6a", x)
  for name in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
    x = _block_c(params, name, x)
  x = _block_d(params, "Mixed_7a", x)
  x = _block_e(params, "Mixed_7b", x, max_pool=False)
  x = _block_e(params, "Mixed_7c", x, max_pool=True)
  return jnp.mean(x, axis=(1, 2))


def inception_extractor(path: str, size: int = 299):
  """images [B, H, W, 3] in [0, 1] -> FID features [B, 2048], jitted."""
  params = jax.tree.map(jnp.asarray, load_inception(path))
  fn = jax.jit(inception_features, static_argnums=2)
  return lambda images: fn(params, images, size)


def standin_extractor(dim: int = 16, seed: int = 0):
  """A fixed random two-layer conv net, [B, H, W, 3] -> [B, dim]: a cheap
  stand-in for tests (not an FID)."""
  rng = np.random.default_rng(seed)
  w1 = jnp.asarray(rng.normal(0, 0.5, (3, 3, 3, dim)), jnp.float32)
  w2 = jnp.asarray(rng.normal(0, 0.2, (3, 3, dim, dim)), jnp.float32)

  @jax.jit
  def features(images):
    conv = lambda x, w: jax.lax.conv_general_dilated(
        x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    h = jnp.tanh(conv(jnp.tanh(conv(2.0 * images - 1.0, w1)), w2))
    return jnp.mean(h, axis=(1, 2))

  return features


def make_extractor(kind: str, path: str = ""):
  """ "inception" (weights from `path`) or "standin" (tests only)."""
  if kind == "inception":
    return inception_extractor(path)
  if kind == "standin":
    return standin_extractor()
  raise ValueError(f"FID extractor {kind!r}: use 'inception' or 'standin'.")


def features_of(extractor, images: np.ndarray, batch_size: int = 100):
  """Features [N, F] of images [N, H, W, 3], `batch_size` at a time (the
  last batch padded so that only two shapes compile)."""
  out = []
  for start in range(0, len(images), batch_size):
    batch = images[start:start + batch_size]
    valid = len(batch)
    if valid < batch_size and len(images) > batch_size:
      batch = np.concatenate(
          [batch, np.repeat(batch[-1:], batch_size - valid, 0)])
    out.append(np.asarray(extractor(jnp.asarray(batch)))[:valid])
  return np.concatenate(out)


def fid(extractor, images_a: np.ndarray, images_b: np.ndarray) -> float:
  """FID (or its stand-in) between two sets of images [N, H, W, 3]."""
  return frechet_distance(*feature_stats(features_of(extractor, images_a)),
                          *feature_stats(features_of(extractor, images_b)))
