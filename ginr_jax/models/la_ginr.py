"""LA-GINR: locality-aware latent tokens and their INR decoder.

Lee et al., "Locality-Aware Generalizable Implicit Neural Representation",
NeurIPS'23, §3 and Appendix A. There is no official code: every choice the
paper leaves open is named here.

Encoder (§3.2): the IPC transformer over patch tokens plus R learnable tokens;
their outputs, mapped by LayerNorm -> Linear(width, d) like IPC's V head, are
the R latent tokens z_k in R^d (Table 5 reports them as 256 x 256 for R = d =
256).

Decoder (§3.3), for a coordinate v and latents Z:
  gamma_s(v)   Fourier features, frequencies log-spaced in [1, s]     (Eq. 2)
  h_F(v; s)    = ReLU(W gamma_s(v) + b)                               (Eq. 3)
  q_v          = h_F(v; sigma_q)                                      (Eq. 4)
  m_v          = MultiHeadAttention(q_v, Z, Z)                        (Eq. 5)
  m_v^l        = ReLU(h_F(v; sigma_l) + W_m^l m_v + b_m^l)      (Eq. 6, 7)
  h^1 = m^1,   h^l = ReLU(W^l (m^l + h^(l-1)) + b^l)                  (Eq. 8)
  y            = sum_l f_out^l(h^l)                                    (Eq. 9)
Everything before Eq. 5 depends on the coordinate only, so with coordinates
shared by the batch ([N, D]) it is computed once for all instances.

Choices the paper leaves open, each measured at the papers' recipe (README,
Results: "LA-GINR's open choices"; none closes LA-GINR's gap to IPC there):
  - The attention is torch.nn.MultiheadAttention-shaped: Linear q, k, v and
    output projections of width d with bias, head dim d / heads, softmax over
    the R tokens, scale 1/sqrt(head dim); no LayerNorm.
  - `attention_init` "mha" (configs' default): torch.nn.MultiheadAttention's
    init, the stacked [3d, d] in-projection Xavier-uniform, U(+-sqrt(6 / 4d)),
    the out-projection's weight U(+-1/sqrt(d)), every bias zero: what a
    PyTorch "MultiHeadAttention" most likely used, and +0.25 dB at 3,000
    steps (+0.49 dB with the Linear latents below). "linear":
    torch.nn.Linear's default, U(+-1/sqrt(d)) for weights and biases (as the
    IPC code's layers).
  - `weight_norm` False (default): plain W, b as in the equations; True uses
    W / ||W|| per output unit in the decoder's Linears of Eq. 3-9, as the IPC
    code's hyponet does (+0.07 dB, within run-to-run noise).
  - The output gets the constant `output_bias` (0.5 for images) as IPC's
    hyponet.
  - `Model.latent_projection` "linear" (configs' default): the encoder's
    outputs become latents through Linear(width, d) (+0.23 dB);
    "layernorm_linear": LayerNorm -> Linear, as IPC's V head (the default of
    configs saved before the choice existed); "none": as they are (width = d).
  - The encoder keeps the IPC code's dropout 0.1 (0 gave +0.10 dB) and the
    paper's heads per resolution (App. A; 1 head: see the README table).
Ablations (LA-GINR Tables 3 and 7):
  - token_aggregation="weight" (w/o STA): IPC's weight modulation replaces
    Eq. 5, m_v = ReLU(q_v normalize(V U) + b) with V the latents as columns
    [d, R], U [R, d] shared (IPC's init), normalised per output unit as IPC.
  - multiband=False (w/o multi FM): m_v goes through `mlp_layers` ReLU(Linear)
    layers and one output Linear, IPC's MLP after its modulated layer.
  - freq_linear=False (w/o Linear in Eq. 6): h_F^l = ReLU(gamma_{sigma_l}(v)).
  - mod_linear=False (w/o Linear in Eq. 7): m^l = ReLU(h_F^l + m_v).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import cli
from ginr_jax.models import hypernet
from ginr_jax.models import hyponet as hyponet_lib
from ginr_jax.models import transformer

TOKEN_AGGREGATIONS = ("attention", "weight")
ATTENTION_INITS = ("linear", "mha")
LATENT_PROJECTIONS = ("layernorm_linear", "linear", "none")


def uniform_init(bound: float):
  return lambda rng, shape, dtype=jnp.float32: jax.random.uniform(
      rng, shape, dtype, -bound, bound)


class NormLinear(nn.Module):
  """A Linear (torch's init) whose kernel is used as W / ||W|| per output
  unit when `normalize`, as the IPC code's hyponet layers."""

  features: int
  normalize: bool = False

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    init = transformer.torch_uniform_init(x.shape[-1])
    kernel = self.param("kernel", init, (x.shape[-1], self.features))
    bias = self.param("bias", init, (self.features,))
    if self.normalize:
      kernel = hyponet_lib.normalize_weight(kernel)
    return x @ kernel + bias


class Decoder(nn.Module):
  """Locality-aware INR decoder: latents [B, R, d] x coords -> outputs.

  Attributes:
    num_latents: R, the number of latent tokens.
    input_dim: coordinate dimension d_in.
    output_dim: output channels d_out.
    hidden_dim: d, width of every hidden feature and of the latents.
    freq_dim: d_F, size of each Fourier feature vector (Eq. 2).
    sigma_q: bandwidth of the query's frequency features (Eq. 4).
    sigmas: bandwidths sigma_1..sigma_L of the L modulation levels (Eq. 6).
    num_heads: heads of the cross-attention (Eq. 5).
    output_bias: constant added to the output.
    token_aggregation: "attention" (Eq. 5) or "weight" (w/o STA).
    multiband: multi-band modulation (Eq. 6-9); False: a plain MLP.
    mlp_layers: hidden layers of the plain MLP when multiband is False.
    freq_linear: the Linear of Eq. 6.
    mod_linear: the Linear of Eq. 7.
    attention_init: the attention projections' init (ATTENTION_INITS; the
      configs give "mha", the default is what older saved configs meant).
    weight_norm: W / ||W|| per output unit in the Linears of Eq. 3-9.
    attention: how the cross-attention is computed
      (transformer.IMPLEMENTATIONS).
  """

  num_latents: int
  input_dim: int = 2
  output_dim: int = 3
  hidden_dim: int = 256
  freq_dim: int = 256
  sigma_q: float = 16.0
  sigmas: tuple[float, ...] = (128.0, 32.0)
  num_heads: int = 2
  output_bias: float = 0.5
  token_aggregation: str = "attention"
  multiband: bool = True
  mlp_layers: int = 2
  freq_linear: bool = True
  mod_linear: bool = True
  attention_init: str = "linear"
  weight_norm: bool = False
  attention: str = "auto"

  def setup(self):
    d = self.hidden_dim
    self._check()
    linear = lambda features: NormLinear(features, self.weight_norm)
    self.query_freq = linear(d)
    if self.token_aggregation == "attention":
      # "mha": torch.nn.MultiheadAttention's Xavier-uniform over its [3d, d]
      # in-projection, zero biases.
      mha = self.attention_init == "mha"
      inits = dict(kernel_init=uniform_init(np.sqrt(6 / (4 * d))),
                   bias_init=nn.initializers.zeros) if mha else {}
      self.attn_query = transformer.Linear(d, **inits)
      self.attn_key = transformer.Linear(d, **inits)
      self.attn_value = transformer.Linear(d, **inits)
      self.attn_out = self._dense(
          "attn_out", d, d, bias_init=nn.initializers.zeros if mha else None)
    else:
      self.composer_u = self.param(
          "composer_u",
          nn.initializers.normal(1.0 / np.sqrt(self.num_latents * d)),
          (self.num_latents, d))
      self.composer_b = self.param("composer_b", nn.initializers.zeros, (d,))
    if self.multiband:
      levels = range(len(self.sigmas))
      if self.freq_linear:
        self.band_freq = [linear(d) for _ in levels]
      if self.mod_linear:
        self.band_mod = [self._dense(f"band_mod_{l}", d, d) for l in levels]
      self.compose = [linear(d) for _ in levels[1:]]
      self.heads = [linear(self.output_dim) for _ in levels]
    else:
      self.mlp = [linear(d) for _ in range(self.mlp_layers)]
      self.heads = [linear(self.output_dim)]

  def _dense(self, name: str, fan_in: int, fan_out: int, bias_init=None):
    """A Linear's {"kernel", "bias"} as one parameter, for folding (below);
    torch's init unless a bias init is given."""
    kernel_init = transformer.torch_uniform_init(fan_in)
    bias_init = bias_init or kernel_init

    def make(rng):
      k_rng, b_rng = jax.random.split(rng)
      return {
          "kernel": kernel_init(k_rng, (fan_in, fan_out)),
          "bias": bias_init(b_rng, (fan_out,))
      }

    return self.param(name, make)

  def _kernel(self, p: dict) -> jax.Array:
    """A folded layer's kernel as it is applied (weight-normalised or not)."""
    return (hyponet_lib.normalize_weight(p["kernel"])
            if self.weight_norm else p["kernel"])

  def _check(self):
    if self.token_aggregation not in TOKEN_AGGREGATIONS:
      raise ValueError(f"token_aggregation={self.token_aggregation!r}; use one"
                       f" of {TOKEN_AGGREGATIONS}.")
    if self.attention_init not in ATTENTION_INITS:
      raise ValueError(f"attention_init={self.attention_init!r}; use one of "
                       f"{ATTENTION_INITS}.")
    if self.hidden_dim % self.num_heads:
      raise ValueError(f"hidden_dim={self.hidden_dim} is not divisible by "
                       f"num_heads={self.num_heads}.")
    if self.freq_dim < 2 * self.input_dim:
      raise ValueError(f"freq_dim={self.freq_dim} gives no frequency for "
                       f"{self.input_dim}-D coordinates; use at least "
                       f"{2 * self.input_dim}.")
    if not self.sigmas:
      raise ValueError("sigmas is empty: give at least one level bandwidth.")
    if (self.multiband and not self.freq_linear and
        (self.num_frequencies * 2 * self.input_dim != self.hidden_dim)):
      raise ValueError(
          "freq_linear=False adds the Fourier features to hidden features: "
          f"needs freq_dim = hidden_dim = a multiple of {2 * self.input_dim}.")

  @property
  def num_frequencies(self) -> int:
    """n = d_F / (2 d_in) frequencies per coordinate axis (Eq. 2)."""
    return self.freq_dim // (2 * self.input_dim)

  def fourier(self, coords: jax.Array, sigma: float) -> jax.Array:
    return hyponet_lib.fourier_features(
        coords, hyponet_lib.log_spaced_frequencies(self.num_frequencies, sigma))

  def coordinate_features(self, coords: jax.Array):
    """The instance-independent part: q_v (Eq. 4) and h_F^l (Eq. 6)."""
    query = jax.nn.relu(self.query_freq(self.fourier(coords, self.sigma_q)))
    bands = []
    if self.multiband:
      for l, sigma in enumerate(self.sigmas):
        gamma = self.fourier(coords, sigma)
        band = self.band_freq[l](gamma) if self.freq_linear else gamma
        bands.append(jax.nn.relu(band))
    return query, bands

  def _heads(self, name: str, x: jax.Array) -> jax.Array:
    """A projection of x [..., d] split into heads, [..., heads, d / heads]."""
    heads = self.num_heads
    return getattr(self, name)(x).reshape(*x.shape[:-1], heads,
                                          self.hidden_dim // heads)

  def attention_weights(self, latents: jax.Array, query: jax.Array):
    """Softmax weights [B, heads, N, R] of queries [N, d] or [B, N, d]."""
    q = self._heads("attn_query", query)
    k = self._heads("attn_key", latents)
    pattern = "nhc,brhc->bhnr" if query.ndim == 2 else "bnhc,brhc->bhnr"
    logits = jnp.einsum(pattern, q, k) / np.sqrt(q.shape[-1])
    return jax.nn.softmax(logits, axis=-1)

  def attend(self, latents: jax.Array, query: jax.Array) -> jax.Array:
    """Eq. 5 before the output projection: heads concatenated, [B, N, d].

    With "einsum" (the CPU's "auto"), shared queries [N, d] stay unbatched;
    transformer.attend's fused kernels take them broadcast to [B, N, d].
    """
    b, _, d = latents.shape
    v = self._heads("attn_value", latents)
    if transformer.resolve(self.attention) == "einsum":
      out = jnp.einsum("bhnr,brhc->bnhc",
                       self.attention_weights(latents, query), v)
    else:
      q = self._heads("attn_query", query)
      q = jnp.broadcast_to(q, (b, *q.shape[-3:])) / np.sqrt(q.shape[-1])
      out = transformer.attend(q, self._heads("attn_key", latents), v,
                               self.attention)
    return out.reshape(*out.shape[:2], d)

  def aggregate(self, latents: jax.Array, query: jax.Array) -> jax.Array:
    """The modulation vectors m_v [B, N, d] (Eq. 5, or IPC's for "weight")."""
    if self.token_aggregation == "weight":
      w = hyponet_lib.normalize_weight(
          jnp.swapaxes(latents, 1, 2) @ self.composer_u)  # [B, d, d]
      pattern = "nc,bcd->bnd" if query.ndim == 2 else "bnc,bcd->bnd"
      return jax.nn.relu(jnp.einsum(pattern, query, w) + self.composer_b)
    out = self.attn_out
    return self.attend(latents, query) @ out["kernel"] + out["bias"]

  def level_modulations(self, latents: jax.Array, query: jax.Array):
    """W_m^l m_v + b_m^l of Eq. 7 for every level l, each [B, N, d].

    With attention, the output projection of Eq. 5 and the Linears of Eq. 7
    are folded into one [d, L*d] matrix: the same function with one N x d x d
    matmul fewer per coordinate.
    """
    levels = len(self.sigmas)
    if not self.mod_linear:
      return [self.aggregate(latents, query)] * levels
    if self.token_aggregation == "weight":
      m = self.aggregate(latents, query)
      return [m @ self._kernel(p) + p["bias"] for p in self.band_mod]
    out = self.attn_out
    kernel = jnp.concatenate(
        [out["kernel"] @ self._kernel(p) for p in self.band_mod], axis=-1)
    bias = jnp.concatenate(
        [out["bias"] @ self._kernel(p) + p["bias"] for p in self.band_mod])
    return jnp.split(self.attend(latents, query) @ kernel + bias, levels, -1)

  def __call__(self, latents: jax.Array, coords: jax.Array,
               return_activations: bool = False):
    """Outputs [B, N, output_dim] at coords [N, D] (shared) or [B, N, D].

    With return_activations, also the hidden features h^l (or the MLP's
    hidden layers), each [B, N, d].
    """
    query, bands = self.coordinate_features(coords)
    hidden = []
    if self.multiband:
      mods = self.level_modulations(latents, query)
      h = None
      for l, (band, mod) in enumerate(zip(bands, mods)):
        m_l = jax.nn.relu(band + mod)  # Eq. 7
        h = m_l if h is None else jax.nn.relu(self.compose[l - 1](m_l + h))
        hidden.append(h)
      heads_in = hidden  # Eq. 9
    else:
      h = self.aggregate(latents, query)
      for layer in self.mlp:
        h = jax.nn.relu(layer(h))
        hidden.append(h)
      heads_in = [h]
    out = sum(head(h) for head, h in zip(self.heads, heads_in))
    out = out + self.output_bias
    return (out, hidden) if return_activations else out


class Model(hypernet.HypernetModel):
  """Images [B, H, W, C] -> R latent tokens -> locality-aware decoder; the
  encoder's fields are `hypernet.HypernetModel`'s.

  Attributes:
    decoder: the INR decoder (its num_latents is R).
    latent_projection: how encoder outputs become latents (LATENT_PROJECTIONS;
      the configs give "linear", the default is what older saved configs
      meant, so that their checkpoints load).
  """

  decoder: Decoder
  latent_projection: str = "layernorm_linear"

  def setup(self):
    if self.latent_projection not in LATENT_PROJECTIONS:
      raise ValueError(f"latent_projection={self.latent_projection!r}; use "
                       f"one of {LATENT_PROJECTIONS}.")
    if (self.latent_projection == "none" and
        self.width != self.decoder.hidden_dim):
      raise ValueError(
          "latent_projection='none' uses the encoder's outputs as latents: "
          f"needs width ({self.width}) = the decoder's hidden_dim "
          f"({self.decoder.hidden_dim}).")
    self.encoder = self.make_encoder(self.decoder.num_latents)
    if self.latent_projection == "layernorm_linear":
      self.latent_norm = transformer.layer_norm()
    if self.latent_projection != "none":
      self.latent_head = transformer.Linear(self.decoder.hidden_dim)

  def __call__(self, images: jax.Array, coords: jax.Array,
               train: bool = False) -> jax.Array:
    """Predictions [B, N, output_dim] at coords [N, D] or [B, N, D]."""
    return self.decode(self.encode(images, train), coords)

  def encode(self, images: jax.Array, train: bool = False) -> jax.Array:
    """Latent tokens [B, R, d] of images in [0, 1]."""
    z = self.weight_token_outputs(images, train)
    if self.latent_projection == "layernorm_linear":
      z = self.latent_norm(z)
    return z if self.latent_projection == "none" else self.latent_head(z)

  def decode(self, latents: jax.Array, coords: jax.Array,
             return_activations: bool = False):
    return self.decoder(latents, coords, return_activations)

  def attention_weights(self, latents: jax.Array, coords: jax.Array):
    """Cross-attention weights [B, heads, N, R] of coords over the latents."""
    query, _ = self.decoder.coordinate_features(coords)
    return self.decoder.attention_weights(latents, query)


NAME = "LA-GINR"
ARGS = dict(  # LA-GINR Tables 3, 4 and 7
    sta=True,  # selective token aggregation (Eq. 5)
    multiband=True,  # multi-band modulation (Eq. 6-9)
    heads=2,  # cross-attention heads
    sigmas=(128.0, 32.0),  # band sigmas sigma_1..sigma_L, as "128-32"
    sigma_q=16.0,  # query sigma
    linear6=True,  # the Linear of Eq. 6
    linear7=True,  # the Linear of Eq. 7
    attn_init="mha",  # the attention projections' init (ATTENTION_INITS)
    weight_norm=False,  # W / ||W|| in the decoder's Linears of Eq. 3-9
    latents="linear"  # encoder outputs -> latents (LATENT_PROJECTIONS)
)
DECODER_PARAMS = ("decoder",)


def configure(c, args: dict, hyponet: dict):
  """The official encoder and App. A.1's image decoder with args (ARGS);
  LA-GINR decodes with that, not with `hyponet`."""
  del hyponet
  if args["heads"] < 1 or min(args["sigma_q"], *args["sigmas"]) <= 0:
    raise cli.ConfigError(
        f"heads={args['heads']}, sigma_q={args['sigma_q']}, sigmas="
        f"{'-'.join(map(str, args['sigmas']))}: LA-GINR needs a head and "
        "positive bandwidths.")
  for name, allowed in (("attn_init", ATTENTION_INITS), ("latents",
                                                         LATENT_PROJECTIONS)):
    if args[name] not in allowed:
      raise cli.ConfigError(f"{name}={args[name]}: use one of "
                            f"{', '.join(allowed)}.")
  c.model = dict(
      hypernet.ENCODER, num_latents=256, latent_projection=args["latents"],
      decoder=dict(input_dim=2, output_dim=3, hidden_dim=256, freq_dim=256,
                   sigma_q=args["sigma_q"], sigmas=tuple(args["sigmas"]),
                   num_heads=args["heads"], output_bias=0.5,
                   token_aggregation="attention" if args["sta"] else "weight",
                   multiband=args["multiband"], mlp_layers=2,
                   freq_linear=args["linear6"], mod_linear=args["linear7"],
                   attention_init=args["attn_init"],
                   weight_norm=args["weight_norm"]))


def tiny(model):
  model["num_latents"] = 8
  model["decoder"]["hidden_dim"] = model["decoder"]["freq_dim"] = 16


def variant(model) -> tuple:
  d = model["decoder"]
  return (d["token_aggregation"], d["multiband"], d["freq_linear"],
          d["mod_linear"], len(d["sigmas"]) > 1)


def build(cfg: dict) -> Model:
  cfg = dict(cfg)
  decoder_cfg = dict(cfg.pop("decoder"))
  decoder_cfg["sigmas"] = tuple(decoder_cfg["sigmas"])
  decoder = Decoder(num_latents=cfg.pop("num_latents"),
                    attention=cfg.get("attention", "auto"), **decoder_cfg)
  return Model(decoder=decoder, **cfg)
