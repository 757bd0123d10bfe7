"""Mixed precision: bfloat16 compute with float32 parameters, gradients and
loss, close to the float32 step."""

from unittest import mock

from absl.testing import absltest
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from ginr_jax import models
from ginr_jax import train
from ginr_jax.models import hyponet
from configs import demo


def dot_dtypes(fn, *args) -> set[str]:
  """The input dtypes of every matrix product in fn's jaxpr."""
  found = set()

  def visit(jaxpr):
    for eqn in jaxpr.eqns:
      if eqn.primitive.name == "dot_general":
        found.add(str(eqn.invars[0].aval.dtype))
      for sub in jax.extend.core.jaxprs_in_params(eqn.params):
        visit(sub)

  visit(jax.make_jaxpr(fn)(*args).jaxpr)
  return found


def assert_bf16_step_is_close_to_fp32(test, model, precision):
  """One step in `precision` against float32: float32 state after it,
  bfloat16 matrix products in it, close loss and gradient norm."""
  results = {}
  for p in ("fp32", precision):
    config = demo.get_config(f"model={model},precision={p},tiny")
    setup = train.Setup(config)
    state = setup.init(jax.random.key(0))
    size = config.input.image_size
    batch = {
        "image": jnp.asarray(
            np.random.default_rng(0).uniform(size=(8, size, size, 3)),
            jnp.float32)
    }
    step = jax.jit(setup.train_step)
    if p != "fp32":
      test.assertIn("bfloat16", dot_dtypes(step, state, batch,
                                           jax.random.key(1)))
    new_state, metrics = step(state, batch, jax.random.key(1))
    test.assertEqual(
        {
            str(x.dtype)
            for x in jax.tree.leaves(new_state)
            if jnp.issubdtype(x.dtype, jnp.floating)
        }, {"float32"})
    results[p] = metrics
  for key in ("train/loss", "train/l2_grads"):
    np.testing.assert_allclose(results[precision][key], results["fp32"][key],
                               rtol=2e-2)


@pytest.mark.slow
class LAGINRPrecisionTest(absltest.TestCase):

  def test_bf16_step_is_close_to_fp32_with_fp32_state(self):
    assert_bf16_step_is_close_to_fp32(self, "la_ginr", "bf16")


@pytest.mark.slow
class MetaIPCPrecisionTest(absltest.TestCase):

  def test_bf16_all_step_is_close_to_fp32_with_fp32_state(self):
    assert_bf16_step_is_close_to_fp32(self, "meta_ipc", "bf16_all")


class PrecisionTest(absltest.TestCase):
  # The transformer code is shared by every model; bf16_all adds the
  # hyponet (LA-GINR's bf16 transformer is in the slow lane).
  def test_bf16_step_is_close_to_fp32_with_fp32_state(self):
    assert_bf16_step_is_close_to_fp32(self, "ipc", "bf16_all")

  def test_bf16_hyponet_keeps_features_and_output_in_fp32(self):
    fp32 = hyponet.HypoNet(hidden_dim=32, ff_dim=16, ff_sigma=64.0)
    bf16 = hyponet.HypoNet(hidden_dim=32, ff_dim=16, ff_sigma=64.0,
                           dtype="bfloat16")
    params = fp32.init(jax.random.key(0))
    coords = jax.random.uniform(jax.random.key(1), (64, 2), minval=-1)
    out = bf16.apply(params, coords)
    self.assertEqual(out.dtype, jnp.float32)
    np.testing.assert_allclose(out, fp32.apply(params, coords), atol=2e-2)
    self.assertEqual(dot_dtypes(bf16.apply, params, coords), {"bfloat16"})

  def test_la_ginr_decoder_in_bf16_is_refused(self):
    with self.assertRaisesRegex(ValueError, "LA-GINR's decoder"):
      demo.get_config("model=la_ginr,precision=bf16_all")

  def test_meta_learned_models_take_precision(self):
    config = demo.get_config("model=meta_ipc,precision=bf16_all")
    self.assertEqual(config.model.hyponet.dtype, "bfloat16")
    with self.assertRaisesRegex(ValueError, "Meta-IPC has no transformer"):
      demo.get_config("model=meta_ipc,precision=bf16")

  def test_auto_is_fp32_on_cpu_and_the_measured_choice_on_accelerators(self):
    ipc, la, meta = (
        demo.get_config(f"model={m}") for m in ("ipc", "la_ginr", "meta_ipc"))
    self.assertEqual((ipc.model.dtype, ipc.model.hyponet.dtype),
                     ("auto", "float32"))
    self.assertEqual(la.model.dtype, "auto")
    self.assertEqual(meta.model.hyponet.dtype, "float32")
    resolved = models.resolve_dtypes(ipc.model.to_dict())
    self.assertEqual((resolved["dtype"], resolved["hyponet"]["dtype"]),
                     ("float32", "float32"))  # this test runs on the CPU
    with mock.patch.object(jax, "default_backend", return_value="gpu"):
      resolved = models.resolve_dtypes(ipc.model.to_dict())
      self.assertEqual(
          models.resolve_dtypes(la.model.to_dict())["dtype"], "bfloat16")
    self.assertEqual((resolved["dtype"], resolved["hyponet"]["dtype"]),
                     ("bfloat16", "float32"))

  def test_workdirs_record_and_evaluate_in_the_trained_precision(self):
    config = demo.get_config("model=ipc")
    train.set_precision(config)  # what a training run writes to config.json
    self.assertEqual((config.model.dtype, config.model.hyponet.dtype),
                     ("float32", "float32"))
    trained_on_gpu = demo.get_config("model=ipc,precision=bf16").model
    config = demo.get_config("model=ipc")
    train.set_precision(config, trained_on_gpu)  # evaluating such a workdir
    self.assertEqual((config.model.dtype, config.model.hyponet.dtype),
                     ("bfloat16", "float32"))


if __name__ == "__main__":
  absltest.main()
