"""IPC: patch tokens, the composer W = V U, and batch-independence."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

from ginr_jax import coords
from ginr_jax.models import hyponet
from ginr_jax.models import ipc
from ginr_jax.models import tokenizers


def tiny_model(rank=8, hidden=16):
  net = hyponet.HypoNet(hidden_dim=hidden, ff_dim=8, ff_sigma=16.0)
  return ipc.Model(hyponet=net, patch_size=9, patch_padding=1, rank=rank,
                   width=16, depth=1, num_heads=2, mlp_dim=32, dropout=0.1)


class PatchifyTest(absltest.TestCase):

  def test_matches_unfold_loop(self):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(2, 7, 7, 3)).astype(np.float32)
    got = np.asarray(tokenizers.patchify(images, 3, 1))  # 9x9 -> 3x3
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    self.assertEqual(got.shape, (2, 9, 27))
    for b in range(2):
      for gy in range(3):
        for gx in range(3):
          patch = padded[b, 3 * gy:3 * gy + 3, 3 * gx:3 * gx + 3]
          # channel-major (C, p, p) like torch.nn.Unfold
          np.testing.assert_array_equal(got[b, 3 * gy + gx],
                                        patch.transpose(2, 0, 1).reshape(-1))

  def test_audio_patches_are_consecutive_samples(self):
    # Official Unfold1D on mono audio: (B, 1, T) -> (B, T/p, p).
    audio = np.arange(2 * 16_000, dtype=np.float32).reshape(2, 16_000, 1)
    got = np.asarray(tokenizers.patchify(audio, 200, 0))
    np.testing.assert_array_equal(got, audio.reshape(2, 80, 200))
    self.assertEqual(tokenizers.num_patches((48_000,), 200, 0), 240)

  def test_official_token_counts(self):
    self.assertEqual(tokenizers.num_patches((178, 178), 9, 1), 400)
    self.assertEqual(tokenizers.num_patches((256, 256), 16, 0), 256)
    self.assertEqual(tokenizers.num_patches((512, 512), 32, 0), 256)
    self.assertEqual(tokenizers.num_patches((1024, 1024), 32, 0), 1024)

  def test_bad_size_names_fix(self):
    with self.assertRaisesRegex(ValueError, "multiple of the patch size"):
      tokenizers.patchify(jnp.zeros((1, 178, 178, 3)), 9, 0)


class IPCTest(parameterized.TestCase):

  def test_full_size_parameter_count(self):
    model = ipc.Model(hyponet=hyponet.HypoNet())
    shapes = jax.eval_shape(lambda: model.init(jax.random.key(
        0), jnp.zeros((1, 178, 178, 3)), jnp.zeros((1, 2))))
    n = sum(np.prod(x.shape) for x in jax.tree.leaves(shapes))
    # Official: 43,746,307 trainable, of which 65,536 are the never-used base
    # weight of the modulated layer.
    self.assertEqual(n, 43_746_307 - 65_536)
    params = shapes["params"]
    self.assertEqual(params["encoder"]["pos_embed"].shape, (400, 768))
    self.assertNotIn("w", params["hyponet"]["layer_1"])
    self.assertEqual(params["encoder"]["weight_tokens"].shape, (256, 768))

  @parameterized.parameters(16, 4)  # full rank r = d, and r < d
  def test_modulated_weight_is_v_times_u(self, rank):
    model = tiny_model(rank=rank)
    images = jax.random.uniform(jax.random.key(1), (3, 16, 16, 3))
    variables = model.init(jax.random.key(0), images, jnp.zeros((1, 2)))
    latents = model.apply(variables, images, method="encode")
    hypo = model.apply(variables, latents, method="hypo_params")
    v = jnp.swapaxes(latents, 1, 2)
    u = variables["params"]["composer_u"]
    self.assertEqual(v.shape, (3, 16, rank))  # [B, fan_in, r]
    self.assertEqual(u.shape, (rank, 16))  # [r, fan_out]
    np.testing.assert_allclose(hypo["layer_1"]["w"], v @ u, atol=1e-6)
    self.assertEqual(int(np.linalg.matrix_rank(hypo["layer_1"]["w"][0])), rank)
    # Everything else is shared, without an instance axis.
    self.assertEqual(hypo["layer_0"]["w"].shape, (16, 16))
    self.assertEqual(hypo["layer_1"]["b"].shape, (16,))

  def test_u_init_scale(self):
    model = ipc.Model(hyponet=hyponet.HypoNet(hidden_dim=64, ff_dim=8), rank=32,
                      width=16, depth=1, num_heads=2, mlp_dim=16, patch_size=9,
                      patch_padding=1)
    params = model.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)),
                        jnp.zeros((1, 2)))["params"]
    # N(0, 1/sqrt(r * fan_in)) with fan_in = 64.
    self.assertAlmostEqual(float(jnp.std(params["composer_u"])),
                           1 / np.sqrt(32 * 64), delta=0.1 / np.sqrt(32 * 64))

  def test_batched_forward_equals_per_instance(self):
    model = tiny_model()
    images = jax.random.uniform(jax.random.key(1), (4, 16, 16, 3))
    x = coords.grid((16, 16)).reshape(-1, 2)
    variables = model.init(jax.random.key(0), images, x)
    batched = jax.jit(model.apply)(variables, images, x)
    hypo_params = jax.jit(lambda im: model.apply(
        variables, model.apply(variables, im, method="encode"), method=
        "hypo_params"))
    for i in range(4):
      hypo = hypo_params(images[i:i + 1])
      single = jax.tree.map(lambda leaf: leaf[0]
                            if leaf.ndim == 3 else leaf, hypo)
      np.testing.assert_allclose(batched[i], model.hyponet.apply(single, x),
                                 atol=1e-5)

  def test_dropout_only_in_training(self):
    model = tiny_model()
    images = jax.random.uniform(jax.random.key(1), (2, 16, 16, 3))
    variables = model.init(jax.random.key(0), images, jnp.zeros((1, 2)))
    w = lambda **kw: model.apply(variables, images, method="encode", **kw)
    np.testing.assert_array_equal(w(), w())
    a = w(train=True, rngs={"dropout": jax.random.key(1)})
    b = w(train=True, rngs={"dropout": jax.random.key(2)})
    self.assertGreater(float(jnp.abs(a - b).max()), 0.0)


if __name__ == "__main__":
  absltest.main()


class ComposerFormTest(parameterized.TestCase):
  """IPC Table 6's modulation forms and Table 7's modulated layers."""

  def make(self, form, layer=1, rank=16):
    model = ipc.Model(hyponet=hyponet.HypoNet(hidden_dim=16, ff_dim=8),
                      patch_size=8, patch_padding=0, rank=rank,
                      modulated_layer=layer, composer_form=form, width=16,
                      depth=1, num_heads=2, mlp_dim=32, dropout=0.0)
    images = jax.random.uniform(jax.random.key(1), (2, 16, 16, 3))
    variables = model.init(jax.random.key(0), images, jnp.zeros((1, 2)))
    return model, variables, images

  def weight(self, model, variables, latents):
    hypo = model.apply(variables, latents, method="hypo_params")
    return hypo[hyponet.layer_name(model.modulated_layer)]["w"]

  @parameterized.parameters(("shared_u", 16), ("direct", 16),
                            ("instance_u", 32), ("hadamard", 16))
  def test_shapes(self, form, channels):
    model, variables, images = self.make(form)
    latents = model.apply(variables, images, method="encode")
    self.assertEqual(latents.shape, (2, 16, channels))  # [B, r, C]
    self.assertEqual(self.weight(model, variables, latents).shape,
                     (2, 16, 16))  # [B, in, out]
    pred = model.apply(variables, images, jnp.zeros((5, 2)))
    self.assertEqual(pred.shape, (2, 5, 3))

  def test_forms_reduce_to_each_other(self):
    v = jax.random.normal(jax.random.key(2), (2, 16, 16))  # [B, r, fan_in]
    model, variables, _ = self.make("shared_u")
    u = variables["params"]["composer_u"]
    plain = self.weight(model, variables, v)
    np.testing.assert_allclose(plain, jnp.swapaxes(v, 1, 2) @ u, atol=1e-6)
    # U(n) V(n) with every U(n) equal to the shared U is plain IPC.
    model_iu, variables_iu, _ = self.make("instance_u")
    latents = jnp.concatenate([v, jnp.broadcast_to(u, (2, *u.shape))], -1)
    np.testing.assert_allclose(self.weight(model_iu, variables_iu, latents),
                               plain, atol=1e-6)
    # W = V(n) is plain IPC with U = I, and U * V(n) with U = 1.
    identity = {"params": dict(variables["params"], composer_u=jnp.eye(16))}
    direct_model, direct_vars, _ = self.make("direct")
    np.testing.assert_allclose(self.weight(direct_model, direct_vars, v),
                               self.weight(model, identity, v), atol=1e-6)
    had_model, had_vars, _ = self.make("hadamard")
    ones = {"params": dict(had_vars["params"], composer_u=jnp.ones((16, 16)))}
    np.testing.assert_allclose(self.weight(had_model, ones, v),
                               jnp.swapaxes(v, 1, 2), atol=1e-6)
    # U * V(n) with the learnt U is the elementwise product.
    np.testing.assert_allclose(
        self.weight(had_model, had_vars, v),
        had_vars["params"]["composer_u"] * jnp.swapaxes(v, 1, 2), atol=1e-6)

  def test_whole_weight_forms_need_rank_fan_out(self):
    with self.assertRaisesRegex(ValueError, "set rank=16"):
      self.make("direct", rank=8)

  @parameterized.parameters((0, 16, 16), (4, 16, 3))
  def test_first_and_last_layer(self, layer, fan_in, fan_out):
    model, variables, images = self.make("shared_u", layer=layer,
                                         rank=min(16, fan_out))
    self.assertNotIn("w",
                     variables["params"]["hyponet"][hyponet.layer_name(layer)])
    latents = model.apply(variables, images, method="encode")
    w = self.weight(model, variables, latents)
    self.assertEqual(w.shape, (2, fan_in, fan_out))
    x = coords.grid((16, 16)).reshape(-1, 2)
    hypo = model.apply(variables, latents, method="hypo_params")
    single = jax.tree.map(lambda leaf: leaf[1]
                          if leaf.ndim == 3 else leaf, hypo)
    np.testing.assert_allclose(
        model.apply(variables, images, x)[1], model.hyponet.apply(single, x),
        atol=1e-5)
