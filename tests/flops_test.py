"""The analytic model FLOPs against XLA's count, the peak table, and the
benchmark's mfu and profile."""

import glob
import os

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

from configs import demo
from ginr_jax import flops
from ginr_jax import losses
from ginr_jax import train
from ginr_jax.cli import benchmark


def xla_forward_backward_flops(setup) -> tuple[float, float]:
  """XLA's FLOPs of the loss and its gradient, the part of a step that
  model FLOPs count, and of the decoder's part alone (the gradient of the
  loss of given latents with respect to the parameters and the latents):
  without the optimizer's update and the metrics' norms (tens of FLOPs per
  parameter, which model FLOPs leave out), and with the coordinates drawn
  outside, as inputs."""
  config = setup.config
  batch = setup.task.dummy_batch(config.input.batch_size,
                                 np.random.default_rng(0))
  coords, targets = setup.task.train_inputs(jax.random.key(0), batch)
  inputs = setup.task.encoder_input(batch)
  params = setup.state_shape["params"]

  def decoder_loss(params, latents, coords, targets):
    pred = setup.model.apply({"params": params}, latents, coords,
                             method="decode")
    return losses.mse_and_psnr(pred, targets)[0]

  def loss(params, inputs, coords, targets):
    latents = setup.model.apply({"params": params}, inputs, train=True,
                                rngs={"dropout": jax.random.key(1)},
                                method="encode")
    return decoder_loss(params, latents, coords, targets)

  latents = jax.eval_shape(
      lambda p: setup.model.apply({"params": p}, inputs, method="encode"),
      params)
  counts = []
  for fn, args in ((jax.value_and_grad(loss), (params, inputs)),
                   (jax.value_and_grad(decoder_loss,
                                       argnums=(0, 1)), (params, latents))):
    cost = jax.jit(fn).lower(*args, coords, targets).compile().cost_analysis()
    counts.append(float((cost[0] if isinstance(cost, list) else cost)["flops"]))
  return tuple(counts)


class FlopsTest(parameterized.TestCase):

  # The demo models (3 blocks of width 128 over 80 tokens, 64-wide decoders
  # on 32 x 32 coordinates), where matrix products are ~97% of XLA's count.
  # XLA counts elementwise ops (ReLU, LayerNorm, softmax, weight
  # normalisation) too, and the backward of the first layers (patch
  # embedding, the hyponet's first layer, LA-GINR's coordinate Linears) as
  # 1x, not 2x, their forward: they have no input to differentiate. The
  # decoder alone is held closer: within 5% where its first layers run once
  # for the batch (shared coordinates), and 5-15% above XLA's count where
  # they run per instance (TransINR, jittered or subsampled coordinates),
  # by those layers' input gradient.
  @parameterized.named_parameters(
      ("ipc_shared_coords", "model=ipc", {}, False),
      ("ipc_subsampled", "model=ipc", {"coord_subsample": 0.25}, True),
      ("transinr", "model=transinr", {}, True),
      ("la_ginr_shared_coords", "model=la_ginr", {}, False),
      ("la_ginr_jittered", "model=la_ginr", {"coord_jitter": True}, True),
      ("la_ginr_without_sta", "model=la_ginr,sta=false", {}, False),
      ("la_ginr_one_band", "model=la_ginr,multiband=false", {}, False))
  def test_within_10_percent_of_xla(self, arg, train_options,
                                    first_layer_per_instance):
    config = demo.get_config(arg)
    config.input.batch_size = 4
    config.train.update(train_options)
    setup = train.Setup(config)
    counted = flops.train_step(config, setup.task.shape)
    self.assertEqual(
        counted["model_flops_per_step"],
        counted["encoder_flops_per_step"] + counted["decoder_flops_per_step"])
    step, decoder = xla_forward_backward_flops(setup)
    self.assertBetween(counted["model_flops_per_step"] / step, 0.9, 1.1)
    self.assertBetween(
        counted["decoder_flops_per_step"] / decoder,
        *((1.05, 1.15) if first_layer_per_instance else (0.95, 1.05)))

  def test_shared_coordinates_are_counted_once(self):
    counts = {}
    for jitter in (False, True):
      config = demo.get_config("model=la_ginr")
      config.train.coord_jitter = jitter
      counts[jitter] = flops.train_step(config, (32, 32, 3))
    self.assertEqual(counts[False]["encoder_flops_per_step"],
                     counts[True]["encoder_flops_per_step"])
    # q_v, both bands' Linears and the query projection: 4 products of
    # N x 64 x 64, 3x for the backward, for 15 more of the 16 instances.
    n, d, b = 32 * 32, 64, 16
    self.assertEqual(
        counts[True]["decoder_flops_per_step"] -
        counts[False]["decoder_flops_per_step"],
        3 * (b - 1) * 4 * flops.matmul(n, d, d))

  def test_other_models_and_tasks_are_not_counted(self):
    with self.assertRaisesRegex(flops.Unsupported, "not meta_ipc"):
      flops.train_step(demo.get_config("model=meta_ipc"), (32, 32, 3))

  @parameterized.parameters(
      ("NVIDIA A100-SXM4-80GB", "bfloat16", None, 312.0),
      ("NVIDIA A100-SXM4-40GB", "float32", None, 156.0),
      ("NVIDIA H100 80GB HBM3", "float32", "highest", 66.9),
      ("NVIDIA H200", "bfloat16", None, 989.4),
      ("NVIDIA B200", "float32", "tensorfloat32", 1100.0),
      ("TPU v4", "float32", None, 275.0),
      ("TPU v5 lite", "bfloat16", None, 197.0),
      ("TPU v5", "bfloat16", None, 459.0), ("TPU v5p", "bfloat16", None, 459.0))
  def test_peak_of_each_chip(self, kind, dtype, precision, peak):
    self.assertEqual(flops.peak_tflops(kind, dtype, precision)[0], peak)

  @parameterized.parameters(
      ("cpu", "float32", None, "no peak for device kind 'cpu'"),
      ("NVIDIA H100 PCIe", "bfloat16", None, "no peak for device kind"),
      ("NVIDIA H200 NVL", "bfloat16", None, "no peak for device kind"),
      ("TPU v4", "float32", "highest", "no TPU v4 peak for float32"))
  def test_unknown_peak_says_why(self, kind, dtype, precision, why):
    peak, note = flops.peak_tflops(kind, dtype, precision)
    self.assertIsNone(peak)
    self.assertIn(why, note)
    self.assertIn("--peak_tflops", note)


class BenchmarkMfuTest(absltest.TestCase):

  def test_mfu_from_the_given_peak_and_a_profile(self):
    profile_dir = self.create_tempdir().full_path
    config = demo.get_config("tiny")
    result = benchmark.benchmark(config, steps=2, warmup=0, peak_tflops=0.5,
                                 profile_dir=profile_dir, profile_steps=1)
    self.assertEqual(result["peak_source"], "--peak_tflops")
    self.assertAlmostEqual(
        result["mfu"], result["model_flops_per_step"] *
        result["steps_per_sec"] / 0.5e12 / jax.device_count())
    traces = glob.glob(
        os.path.join(profile_dir, "plugins", "profile", "*", "*.xplane.pb"))
    self.assertLen(traces, 1)
    self.assertGreater(os.path.getsize(traces[0]), 0)

  def test_no_mfu_on_a_device_without_a_peak(self):
    result = benchmark.benchmark(demo.get_config("tiny"), steps=1, warmup=0)
    self.assertIsNone(result["mfu"])
    self.assertIn("'cpu'", result["mfu_note"])
    self.assertGreater(result["model_flops_per_step"], 0)


if __name__ == "__main__":
  absltest.main()
