"""The trainer and evaluation on 1-D signals (audio's shape [B, T, 1]): the
same train_step, coordinates and metrics as images, one spatial axis."""

import functools

from absl.testing import absltest
import jax
import numpy as np
import optax
import pytest

from ginr_jax import evaluators
from ginr_jax import train
from ginr_jax.models import hyponet
from ginr_jax.models import ipc
from ginr_jax.tasks import signal


def waves(seed: int, batch: int = 4, length: int = 400) -> np.ndarray:
  """[B, T, 1] sums of two sines with random frequencies and phases."""
  rng = np.random.default_rng(seed)
  t = np.linspace(-1, 1, length)
  f = rng.uniform(1, 6, (batch, 2, 1))
  phase = rng.uniform(0, 2 * np.pi, (batch, 2, 1))
  return (0.5 * np.sin(np.pi * f * t + phase).sum(1))[...,
                                                      None].astype(np.float32)


@pytest.mark.slow
class Signal1DTest(absltest.TestCase):

  def test_ipc_learns_1d_signals_through_the_trainer(self):
    net = hyponet.HypoNet(input_dim=1, output_dim=1, hidden_dim=32, n_layers=3,
                          ff_dim=16, ff_sigma=32.0, output_bias=0.0)
    model = ipc.Model(hyponet=net, patch_size=20, patch_padding=0, rank=8,
                      width=32, depth=1, num_heads=2, mlp_dim=64, dropout=0.0)
    tx = optax.adam(3e-3)
    task = signal.Signal(key="audio", shape=(400, 1), jitter=True,
                         subsample=0.5)
    state = train.init_state(jax.random.key(0), model, tx, task)
    meta = {"inner_steps": 0}  # no inner loop
    step = jax.jit(
        functools.partial(train.train_step, model=model, tx=tx,
                          schedule=lambda s: 3e-3, task=task, meta=meta))
    losses = []
    for i in range(120):  # two fixed batches: fitting them is enough here
      state, metrics = step(state, {"audio": waves(i % 2)}, jax.random.key(1))
      losses.append(float(metrics["train/loss"]))
    self.assertLess(np.mean(losses[-10:]), 0.5 * np.mean(losses[:5]))
    test = waves(0)
    kwargs = dict(model=model, task=task, chunk=128)
    latents, _ = train.encode(state["params"], {"audio": test}, model=model,
                              task=task, meta=meta)
    recon = train.predict(state["params"], latents,
                          task.grid((400,)).reshape(-1, 1), **kwargs)
    self.assertEqual(recon.shape, (4, 400, 1))
    upsampled = train.predict(state["params"], latents,
                              task.grid((400,), 2).reshape(-1, 1), **kwargs)
    self.assertEqual(upsampled.shape, (4, 800, 1))
    coords, targets = task.eval_inputs({"audio": test})
    metrics = evaluators.reconstruction_metrics(
        train.predict(state["params"], latents, coords, **kwargs), targets)
    mse = np.mean((np.asarray(recon) - test)**2, axis=(1, 2))
    np.testing.assert_allclose(metrics["psnr"], -10 * np.log10(mse), rtol=1e-4)
    baseline = np.mean((test - test.mean(1, keepdims=True))**2, (1, 2))
    np.testing.assert_allclose(metrics["baseline_psnr"],
                               -10 * np.log10(baseline), rtol=1e-4)
    self.assertTrue(np.all(metrics["psnr"] > metrics["baseline_psnr"]))


if __name__ == "__main__":
  absltest.main()
