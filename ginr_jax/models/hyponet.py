"""The coordinate MLP (hyponetwork) as pure functions over explicit weights.

IPC paper Eq. (4)-(8); `docs/faithfulness.md#hyponet`. The hyponet is not a
linen module: hypernetworks predict its weights, meta-learning differentiates
through them and `jax.vmap` maps it over instances, so its weights are a plain
pytree

    {"layer_0": {"w": [fan_in, fan_out], "b": [fan_out]}, "layer_1": ...}

applied as `h @ w + b` (row-vector convention, as the official code). A weight
leaf may carry a leading instance axis B; `apply_batch` finds out which leaves
do by comparing with `layer_shapes`, and `jax.vmap` then computes everything
that depends on no batched leaf -- the Fourier features and, when layer 0 is
shared and the coordinates are too, the first layer -- once for the batch.

As in the official code, every layer's weight is normalised per output unit
(unit L2 norm over fan_in, no gain) right before use, modulated or not,
including the output layer. Biases are never normalised.
"""

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Params = dict[str, dict[str, jax.Array]]


def layer_name(i: int) -> str:
  return f"layer_{i}"


def edge_layer(i: int, cfg) -> int | None:
  """Layer i of the MLP config `cfg` if it is the first (on the features)
  or the last (to the output), else None: the hidden layers between alike."""
  return i if i in (0, cfg["n_layers"] - 1) else None


@dataclasses.dataclass(frozen=True)
class HypoNet:
  """Shape and fixed constants of a Fourier-feature MLP.

  Attributes:
    input_dim: coordinate dimension (2 for images).
    output_dim: signal channels (3 for RGB).
    hidden_dim: width d of every hidden layer.
    n_layers: number of linear layers, output layer included (5 for images).
    ff_dim: number of Fourier projections; features are [cos, sin], 2*ff_dim.
    ff_sigma: largest Fourier frequency (frequencies log-spaced from 1), or
      with fourier="nerf" the largest octave.
    output_bias: constant added to the output (0.5 for images in [0, 1]).
    dtype: compute dtype of the layers' products ("bfloat16" for mixed
      precision); Fourier features, weight normalisation and the output
      stay float32.
  """

  input_dim: int = 2
  output_dim: int = 3
  hidden_dim: int = 256
  n_layers: int = 5
  ff_dim: int = 128
  ff_sigma: float = 128.0
  output_bias: float = 0.5
  dtype: str = "float32"
  # "transinr": the image / audio features, frequencies log-spaced in
  # [1, ff_sigma], times pi. "nerf": the official NeRF hyponet's,
  # 2**linspace(0, ff_sigma) (non-integer octaves) and no pi
  # (`docs/faithfulness.md#hyponet`).
  fourier: str = "transinr"

  def __post_init__(self):
    if self.fourier not in ("transinr", "nerf"):
      raise ValueError(f"fourier={self.fourier!r}; use transinr or nerf.")
    if self.ff_dim % self.input_dim:
      raise ValueError(
          f"ff_dim={self.ff_dim} must be divisible by input_dim="
          f"{self.input_dim}: each coordinate axis gets ff_dim/input_dim "
          "frequencies.")
    if self.n_layers < 2:
      raise ValueError(f"n_layers={self.n_layers}: need at least 2 layers.")

  @property
  def layer_shapes(self) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of every linear layer."""
    dims = ([2 * self.ff_dim] + [self.hidden_dim] * (self.n_layers - 1) +
            [self.output_dim])
    return list(zip(dims[:-1], dims[1:]))

  def frequencies(self) -> np.ndarray:
    """ff_dim/input_dim frequencies: log-spaced in [1, ff_sigma] inclusive,
    or 2**linspace(0, ff_sigma) for fourier="nerf"."""
    n = self.ff_dim // self.input_dim
    if self.fourier == "nerf":
      return (2.0**np.linspace(0.0, self.ff_sigma, n)).astype(np.float32)
    return log_spaced_frequencies(n, self.ff_sigma)

  def fourier_features(self, coords: jax.Array) -> jax.Array:
    """[..., input_dim] -> [..., 2*ff_dim], see `fourier_features`."""
    return fourier_features(coords, self.frequencies(),
                            scale=1.0 if self.fourier == "nerf" else np.pi)

  def modulated_param(self, module, modulated_layer: int) -> Params:
    """`module`'s parameter "hyponet": this MLP's weights and biases but the
    modulated layer's weight, which `with_weight` supplies per instance."""
    return module.param(
        "hyponet", lambda rng: self.init(rng, skip_weights=(modulated_layer,)))

  def init(self, rng: jax.Array, skip_weights: tuple[int, ...] = ()) -> Params:
    """Official initialisation: weights U(+-1/sqrt(fan_out)), biases zero.

    The official code applies torch's kaiming_uniform_(a=sqrt(5)) to a
    [fan_in, fan_out] tensor, whose "fan_in" is then dim 1 = fan_out. Only the
    direction matters since weights are normalised before use.

    Args:
      rng: PRNG key.
      skip_weights: layers whose weight is supplied per instance (e.g. the
        IPC-modulated layer); they get only a bias.

    Returns:
      The weights pytree.
    """
    params = {}
    rngs = jax.random.split(rng, self.n_layers)
    for i, (fan_in, fan_out) in enumerate(self.layer_shapes):
      layer = {"b": jnp.zeros((fan_out,), jnp.float32)}
      if i not in skip_weights:
        bound = 1.0 / np.sqrt(fan_out)
        layer["w"] = jax.random.uniform(rngs[i], (fan_in, fan_out), jnp.float32,
                                        -bound, bound)
      params[layer_name(i)] = layer
    return params

  def apply(self, params: Params, coords: jax.Array,
            return_activations: bool = False) -> Any:
    """Runs one instance's MLP.

    Args:
      params: weights of every layer, without an instance axis.
      coords: [N, input_dim] coordinates (any leading shape works).
      return_activations: also return the post-ReLU hidden activations.

    Returns:
      [N, output_dim] predictions, plus the list of hidden activations
      [N, hidden_dim] of layers 0..n_layers-2 if return_activations.
    """
    h = self.fourier_features(coords).astype(self.dtype)
    activations = []
    for i in range(self.n_layers):
      layer = params[layer_name(i)]
      w = normalize_weight(layer["w"]).astype(self.dtype)
      h = h @ w + layer["b"].astype(self.dtype)
      if i < self.n_layers - 1:
        h = jax.nn.relu(h)
        activations.append(h)
    out = h.astype(jnp.float32) + self.output_bias
    return (out, activations) if return_activations else out

  def apply_batch(self, params: Params, coords: jax.Array,
                  return_activations: bool = False) -> Any:
    """Runs B instances whose weights are partly shared.

    Args:
      params: the weights pytree; each leaf either has the shape of
        `layer_shapes` (shared) or an extra leading axis B (per instance).
      coords: [N, input_dim] shared by all instances, or [B, N, input_dim].
      return_activations: also return the hidden activations [B, N, d].

    Returns:
      [B, N, output_dim] predictions (and activations, as `apply`).
    """
    in_axes = self.instance_axes(params)
    coords_axis = 0 if coords.ndim == 3 else None
    if coords_axis is None and not any(a == 0
                                       for a in jax.tree.leaves(in_axes)):
      raise ValueError("apply_batch needs a batched leaf or batched coords.")
    apply = functools.partial(self.apply, return_activations=return_activations)
    return jax.vmap(apply, in_axes=(in_axes, coords_axis))(params, coords)

  def instance_axes(self, params: Params) -> dict[str, dict[str, int | None]]:
    """vmap in_axes for `params`: 0 for per-instance leaves, None if shared."""
    axes = {}
    for i, (fan_in, fan_out) in enumerate(self.layer_shapes):
      name = layer_name(i)
      ranks = {"w": 2, "b": 1}
      axes[name] = {}
      for key, leaf in params[name].items():
        if leaf.ndim == ranks[key]:
          axes[name][key] = None
        elif leaf.ndim == ranks[key] + 1:
          axes[name][key] = 0
        else:
          raise ValueError(
              f"{name}/{key} has shape {leaf.shape}; expected "
              f"{(fan_in, fan_out) if key == 'w' else (fan_out,)} with an "
              "optional leading instance axis.")
    return axes


def with_weight(shared: Params, layer: int, w: jax.Array) -> Params:
  """The `shared` parameters with layer `layer`'s weight `w` (which may carry
  a leading instance axis)."""
  params = {name: dict(p) for name, p in shared.items()}
  params[layer_name(layer)]["w"] = w
  return params


def normalize_weight(w: jax.Array, eps: float = 1e-12) -> jax.Array:
  """Unit L2 norm over fan_in (axis -2) for each output unit, as F.normalize."""
  norm = jnp.sqrt(jnp.sum(jnp.square(w), axis=-2, keepdims=True))
  return w / jnp.maximum(norm, eps)


def log_spaced_frequencies(n: int, sigma: float) -> np.ndarray:
  """n frequencies log-spaced in [1, sigma], inclusive: sigma**(j/(n-1))."""
  return np.exp(np.linspace(0.0, np.log(sigma), n)).astype(np.float32)


def fourier_features(coords: jax.Array, frequencies,
                     scale: float = np.pi) -> jax.Array:
  """[..., D] -> [..., 2*D*n] Fourier features, as the official code.

  z = scale * (x_d * f_k) flattened dimension-major (all k for d=0 first),
  and the features are [cos(z), sin(z)]; the raw coordinate is not included.
  LA-GINR Eq. (2) is the same map (scale pi); the NeRF hyponet has scale 1.
  """
  z = coords[..., :, None] * jnp.asarray(frequencies)
  z = scale * z.reshape(*coords.shape[:-1], -1)
  return jnp.concatenate([jnp.cos(z), jnp.sin(z)], axis=-1)
