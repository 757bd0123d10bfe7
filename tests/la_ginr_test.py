"""LA-GINR's decoder against its equations (LA-GINR Eq. 2-9) on tiny cases."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax.models import la_ginr

B, R, N, D = 2, 5, 7, 8  # instances, latents, coordinates, width


def decoder(**kwargs):
  kwargs = dict(
      dict(num_latents=R, hidden_dim=D, freq_dim=8, sigma_q=2.0,
           sigmas=(8.0, 4.0), num_heads=2), **kwargs)
  return la_ginr.Decoder(**kwargs)


def inputs(seed=0):
  k1, k2 = jax.random.split(jax.random.key(seed))
  latents = jax.random.normal(k1, (B, R, D))
  coords = jax.random.uniform(k2, (N, 2), minval=-1, maxval=1)
  return latents, coords


def fourier(x, sigma, n):
  freqs = np.exp(np.linspace(0, np.log(sigma), n))
  z = np.pi * (x[:, :, None] * freqs).reshape(len(x), -1)
  return np.concatenate([np.cos(z), np.sin(z)], -1)


def relu(x):
  return np.maximum(x, 0)


def reference(dec, params, latents, x):
  """Eq. 2-9 written out in numpy, one instance and one head at a time; with
  weight_norm, the Linears of Eq. 3-9 use W / ||W|| per output unit."""
  p = jax.tree.map(np.asarray, params)
  unit = lambda w: w / np.linalg.norm(w, axis=0, keepdims=True)
  lin = lambda name, h: h @ p[name]["kernel"] + p[name]["bias"]
  if dec.weight_norm:
    attn = ("attn_query", "attn_key", "attn_value", "attn_out")
    lin = lambda name, h: h @ (p[name]["kernel"] if name in attn else unit(p[
        name]["kernel"])) + p[name]["bias"]
  n = dec.freq_dim // 4
  q = relu(lin("query_freq", fourier(x, dec.sigma_q, n)))  # Eq. 4
  heads, dh = dec.num_heads, D // dec.num_heads
  out = []
  for z in np.asarray(latents):
    qh, k, v = lin("attn_query", q), lin("attn_key", z), lin("attn_value", z)
    m = np.zeros((len(x), D))
    for h in range(heads):
      s = slice(h * dh, (h + 1) * dh)
      logits = qh[:, s] @ k[:, s].T / np.sqrt(dh)
      w = np.exp(logits - logits.max(-1, keepdims=True))
      m[:, s] = (w / w.sum(-1, keepdims=True)) @ v[:, s]
    m = lin("attn_out", m)  # Eq. 5
    y, hid = dec.output_bias, None
    for l, sigma in enumerate(dec.sigmas):
      h_f = relu(lin(f"band_freq_{l}", fourier(x, sigma, n)))  # Eq. 6
      m_l = relu(h_f + lin(f"band_mod_{l}", m))  # Eq. 7
      hid = m_l if l == 0 else relu(lin(f"compose_{l - 1}", m_l + hid))  # 8
      y = y + lin(f"heads_{l}", hid)  # Eq. 9
    out.append(y)
  return np.stack(out)


class DecoderTest(parameterized.TestCase):

  def test_matches_equations(self):
    dec = decoder()
    latents, x = inputs()
    params = dec.init(jax.random.key(1), latents, x)["params"]
    np.testing.assert_allclose(dec.apply({"params": params}, latents, x),
                               reference(dec, params, latents, np.asarray(x)),
                               atol=1e-5)

  def test_weight_norm_matches_equations(self):
    dec = decoder(weight_norm=True)
    latents, x = inputs()
    params = dec.init(jax.random.key(1), latents, x)["params"]
    got = dec.apply({"params": params}, latents, x)
    np.testing.assert_allclose(got,
                               reference(dec, params, latents, np.asarray(x)),
                               atol=1e-5)
    plain = decoder().apply({"params": params}, latents, x)
    self.assertGreater(float(jnp.abs(got - plain).max()), 1e-2)

  def test_mha_init_is_torch_multihead_attentions(self):
    d = 256  # 65,536 draws per kernel: the variance within a few percent
    dec = decoder(hidden_dim=d, freq_dim=d, attention_init="mha")
    latents = jnp.zeros((1, R, d))
    params = dec.init(jax.random.key(0), latents, inputs()[1])["params"]
    xavier = np.sqrt(6 / (d + 3 * d))  # over the stacked [3d, d] in-proj
    for name in ("attn_query", "attn_key", "attn_value", "attn_out"):
      bound = 1 / np.sqrt(d) if name == "attn_out" else xavier
      kernel = np.asarray(params[name]["kernel"])
      self.assertLessEqual(np.abs(kernel).max(), bound)
      np.testing.assert_allclose(kernel.var(), bound**2 / 3, rtol=0.03)
      np.testing.assert_array_equal(params[name]["bias"], 0.0)
    # The decoder's own Linears keep torch's init: U(+-1/sqrt(fan_in)).
    bias = np.asarray(params["query_freq"]["bias"])
    self.assertGreater(np.abs(bias).max(), 0.5 / np.sqrt(d))

  @parameterized.parameters(((N, 2),), ((B, N, 2),))
  def test_fused_attention_equals_einsum(self, coords_shape):
    latents, x = inputs()
    x = jnp.broadcast_to(x, coords_shape)
    dec = decoder(num_heads=2, attention="einsum")
    params = dec.init(jax.random.key(1), latents, x)
    np.testing.assert_allclose(
        decoder(num_heads=2, attention="xla").apply(params, latents, x),
        dec.apply(params, latents, x), atol=1e-6)

  def test_attention_weights_sum_to_one(self):
    dec = decoder(num_heads=4)
    latents, x = inputs()
    params = dec.init(jax.random.key(1), latents, x)
    query, _ = dec.apply(params, x, method="coordinate_features")
    w = dec.apply(params, latents, query, method="attention_weights")
    self.assertEqual(w.shape, (B, 4, N, R))
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    self.assertTrue(np.all(np.asarray(w) >= 0))

  def test_one_level_without_attention_is_an_mlp(self):
    dec = decoder(sigmas=(8.0,))
    latents, x = inputs()
    params = dec.init(jax.random.key(1), latents, x)["params"]
    zero = lambda t: jax.tree.map(jnp.zeros_like, t)
    params = dict(params, attn_out=zero(params["attn_out"]))  # m_v = 0
    p = jax.tree.map(np.asarray, params)
    lin = lambda name, h: h @ p[name]["kernel"] + p[name]["bias"]
    # y = f_out(ReLU(ReLU(W_F gamma + b_F) + b_m)) + output bias.
    hidden = relu(
        relu(lin("band_freq_0", fourier(np.asarray(x), 8.0, 2))) +
        p["band_mod_0"]["bias"])
    expected = lin("heads_0", hidden) + 0.5
    got = dec.apply({"params": params}, latents, x)
    for b in range(B):
      np.testing.assert_allclose(got[b], expected, atol=1e-5)

  def test_without_sta_is_ipc_weight_modulation(self):
    dec = decoder(token_aggregation="weight")
    latents, x = inputs()
    params = dec.init(jax.random.key(1), latents, x)
    query, _ = dec.apply(params, x, method="coordinate_features")
    m = dec.apply(params, latents, query, method="aggregate")
    p = params["params"]
    for b in range(B):
      w = np.asarray(latents[b]).T @ np.asarray(p["composer_u"])  # V U
      w = w / np.linalg.norm(w, axis=0, keepdims=True)
      np.testing.assert_allclose(
          m[b], relu(np.asarray(query) @ w + np.asarray(p["composer_b"])),
          atol=1e-5)

  @parameterized.parameters(dict(multiband=False), dict(freq_linear=False),
                            dict(mod_linear=False),
                            dict(token_aggregation="weight", multiband=False))
  def test_ablations_run_and_drop_their_layers(self, **kwargs):
    dec = decoder(**kwargs)
    latents, x = inputs()
    params = dec.init(jax.random.key(1), latents, x)["params"]
    self.assertEqual(dec.apply({"params": params}, latents, x).shape, (B, N, 3))
    names = set(params)
    self.assertEqual(
        "band_freq_0" in names,
        kwargs.get("freq_linear", True) and kwargs.get("multiband", True))
    self.assertEqual(
        "band_mod_0" in names,
        kwargs.get("mod_linear", True) and kwargs.get("multiband", True))
    self.assertEqual("attn_query" in names,
                     kwargs.get("token_aggregation") != "weight")

  def test_coordinate_features_computed_once_for_shared_coords(self):
    dec = decoder()
    latents, x = inputs()
    params = dec.init(jax.random.key(1), latents, x)
    shared = dec.apply(params, latents, x)
    per_instance = dec.apply(params, latents, jnp.broadcast_to(x, (B, N, 2)))
    np.testing.assert_allclose(shared, per_instance, atol=1e-5)
    # Every sin/cos (the Fourier features of the query and of each level)
    # runs on the [N, ...] coordinates only, never on a batch of them.
    jaxpr = jax.make_jaxpr(lambda z: dec.apply(params, z, x))(latents)
    trig = [e for e in jaxpr.jaxpr.eqns if e.primitive.name in ("sin", "cos")]
    self.assertLen(trig, 2 * (1 + len(dec.sigmas)))
    for e in trig:
      self.assertEqual(e.outvars[0].aval.shape[0], N)
      self.assertLen(e.outvars[0].aval.shape, 2)

  def test_bad_configuration_says_what_to_change(self):
    latents, x = inputs()
    with self.assertRaisesRegex(ValueError, "not divisible by num_heads=3"):
      decoder(num_heads=3).init(jax.random.key(0), latents, x)
    with self.assertRaisesRegex(ValueError, "freq_dim = hidden_dim"):
      decoder(freq_dim=16, freq_linear=False).init(jax.random.key(0), latents,
                                                   x)
    with self.assertRaisesRegex(ValueError, "attention_init='xavier'"):
      decoder(attention_init="xavier").init(jax.random.key(0), latents, x)


class ModelTest(absltest.TestCase):

  def test_latents_and_full_size_count(self):
    dec = la_ginr.Decoder(num_latents=256)
    model = la_ginr.Model(decoder=dec)
    shapes = jax.eval_shape(lambda: model.init(jax.random.key(
        0), jnp.zeros((1, 178, 178, 3)), jnp.zeros((1, 2))))
    params = shapes["params"]
    self.assertEqual(params["encoder"]["weight_tokens"].shape, (256, 768))
    self.assertEqual(params["latent_head"]["kernel"].shape, (768, 256))
    tiny = la_ginr.Model(decoder=decoder(), patch_size=8, patch_padding=0,
                         width=16, depth=1, num_heads=2, mlp_dim=32)
    images = jax.random.uniform(jax.random.key(0), (B, 16, 16, 3))
    variables = tiny.init(jax.random.key(1), images, jnp.zeros((1, 2)))
    latents = tiny.apply(variables, images, method="encode")
    self.assertEqual(latents.shape, (B, R, D))
    _, x = inputs()
    np.testing.assert_allclose(
        tiny.apply(variables, images, x),
        tiny.apply(variables, latents, x, method="decode"), atol=1e-6)
    w = tiny.apply(variables, latents, x, method="attention_weights")
    self.assertEqual(w.shape, (B, 2, N, R))

  def test_latent_projections(self):
    images = jax.random.uniform(jax.random.key(0), (B, 16, 16, 3))
    _, x = inputs()
    encoder = dict(patch_size=8, patch_padding=0, depth=1, num_heads=2,
                   mlp_dim=32)
    outputs = lambda model, v: model.apply(
        v, images, method=(lambda m, i: m.weight_token_outputs(i, False)))
    linear = la_ginr.Model(decoder=decoder(), width=16,
                           latent_projection="linear", **encoder)
    v = linear.init(jax.random.key(1), images, x)
    self.assertNotIn("latent_norm", v["params"])
    head = jax.tree.map(np.asarray, v["params"]["latent_head"])
    np.testing.assert_allclose(
        linear.apply(v, images, method="encode"),
        np.asarray(outputs(linear, v)) @ head["kernel"] + head["bias"],
        atol=1e-5)
    none = la_ginr.Model(decoder=decoder(), width=D, latent_projection="none",
                         **encoder)
    v = none.init(jax.random.key(1), images, x)
    self.assertNotIn("latent_head", v["params"])
    np.testing.assert_array_equal(none.apply(v, images, method="encode"),
                                  outputs(none, v))
    with self.assertRaisesRegex(ValueError, r"width \(16\) = the decoder"):
      la_ginr.Model(decoder=decoder(), width=16, latent_projection="none",
                    **encoder).init(jax.random.key(1), images, x)


if __name__ == "__main__":
  absltest.main()
