"""Test-time optimisation (TTO) of trained models, and per-sample training
(the command: `python -m ginr_jax.cli.tto`).

IPC Table 5 / Fig. 9, LA-GINR Fig. 7: starting from the model's prediction
for each test instance (after the inner loop for meta-learned models),
optimise per instance either
  latents  the latents only (IPC's V, LA-GINR's latent tokens, Learned
           Init's weights), or
  all      the latents and a per-instance copy of every decoder weight
           (models' DECODER_PARAMS: the hyponet and U, or LA-GINR's decoder)
on the image's (clip's) own full grid -- for NVS on random rays of the
object's support views, measured on its query view -- with Adam (or SGD),
the loss being the sum of per-instance MSEs so that each instance follows
its own gradient.

`--scratch` adds the baseline those figures compare with: a Fourier-feature
MLP (FFNet) trained per image from random initialisation. It has the first
workdir's hyponet shape (the HypoNet defaults -- 5 layers, d = 256, sigma
128 -- for a model without one), torch's default Linear initialisation and no
weight normalisation (a plain FFNet, as the papers' baseline), and its own
learning rate (`--scratch_lr`, 1e-3 as Tancik et al.).

The PSNR of every image is recorded after each step with the elapsed seconds
(compilation excluded; the encoder's forward pass, which the papers call
negligible, is not counted) in WORKDIR/tto/tto_<what>.json and printed; with
`--plot`, every curve goes into one PNG, their numbers into the same path
with .json.

Deviation from trans-inr's TTO (its NVS evaluator): that one optimises the
already-normalised hyponet matrices without renormalising; here the
parameters keep their training-time parameterisation (weights are
normalised again in every forward pass).
"""

import functools
import json
import os
import time

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import optax

from ginr_jax import cli
from ginr_jax import coords as coords_lib
from ginr_jax import evaluators
from ginr_jax import input_pipeline
from ginr_jax import losses
from ginr_jax import models
from ginr_jax import train
from ginr_jax.models import hyponet as hyponet_lib
from ginr_jax.tasks import views


def _fit(loss, measure, variables, *, steps: int, lr: float, optimizer: str,
         seed: int = 0):
  """Optimises `variables` on loss(variables, rng), timing each step.

  Returns:
    (measure(variables) -- PSNR [B] -- after each step [steps + 1, B], step
    0 = before any, and the cumulative seconds [steps + 1]).
  """
  tx = (optax.adam if optimizer == "adam" else optax.sgd)(lr)
  opt_state = tx.init(variables)

  @jax.jit
  def step(variables, opt_state, rng):
    grads = jax.grad(loss)(variables, rng)
    updates, opt_state = tx.update(grads, opt_state, variables)
    return optax.apply_updates(variables, updates), opt_state

  measure = jax.jit(measure)
  rngs = jax.random.split(jax.random.key(seed), steps)
  jax.block_until_ready(step(variables, opt_state, rngs[0]))  # compile
  psnrs = [np.asarray(measure(variables))]
  seconds, elapsed = [0.0], 0.0
  for rng in rngs:
    start = time.perf_counter()
    variables, opt_state = step(variables, opt_state, rng)
    jax.block_until_ready(variables)
    elapsed += time.perf_counter() - start
    seconds.append(elapsed)
    psnrs.append(np.asarray(measure(variables)))
  return np.stack(psnrs), np.asarray(seconds)


def _pixels(images):
  """(the shared pixel grid [H*W, 2], the targets [B, H*W, C])."""
  b, h, w, c = images.shape
  grid = jnp.asarray(coords_lib.grid((h, w)).reshape(-1, 2))
  return grid, images.reshape(b, h * w, c)


def optimize(config, setup, params, batch, *, what: str, steps: int, lr: float,
             optimizer: str = "adam", rays: int = 1024, chunk: int = 4096):
  """Fits every test instance from the model's prediction (module doc).

  Signals (images, audio) are fitted and measured on their whole grid.
  Views are fitted on `rays` random rays of their support views per step
  (with replacement, as trans-inr's NVS evaluator; depths stratified as in
  training) and measured on the whole query views, rendered `chunk` rays
  at a time -- the novel-view PSNR of IPC Table 5.

  Returns:
    (PSNR [steps + 1, B], seconds [steps + 1]).
  """
  model, task = setup.model, setup.task
  latents, _ = train.encode(params, batch, model=model, task=task,
                            meta=setup.meta)
  test_coords, test_targets = task.eval_inputs(batch)
  b = test_targets.shape[0]
  own = {}
  if what == "all":
    own = {
        k: jax.tree.map(lambda x: jnp.broadcast_to(x, (b, *x.shape)), params[k])
        for k in models.decoder_params(config.model_name)
        if k in params
    }
  is_views = isinstance(task, views.Views)
  fit_coords, fit_targets = (task.support_inputs(batch) if is_views else
                             (test_coords, test_targets))

  def predictor(lat, own_params, rng=None):
    """One instance's coords [n, D] -> predictions [n, C]."""
    decode = functools.partial(model.apply,
                               {"params": {**params, **own_params}},
                               method="decode")
    batched = jax.tree.map(lambda x: x[None], lat)
    return lambda c: task.predict(decode, batched, c[None], rng)[0]

  coords_axis = 0 if fit_coords.ndim == 3 else None

  def loss(variables, rng):
    rng_rays, rng_depths = jax.random.split(rng)

    def one(lat, own_params, coords, targets, key):
      if is_views:  # a random subset of the support rays
        picked = jax.random.randint(key, (rays,), 0, coords.shape[0])
        coords, targets = coords[picked], targets[picked]
      pred = predictor(lat, own_params, rng_depths)(coords)
      return jnp.mean(jnp.square(pred - targets))

    keys = jax.random.split(rng_rays, b)
    return jnp.sum(
        jax.vmap(one, in_axes=(0, 0, coords_axis, 0, 0))(*variables, fit_coords,
                                                         fit_targets, keys))

  def measure(variables):

    def one(lat, own_params, coords, targets):
      pred = evaluators.predict_chunked(
          lambda c: predictor(lat, own_params)(c)[None], coords, chunk)[0]
      return jnp.mean(jnp.square(pred - targets))

    test_axis = 0 if test_coords.ndim == 3 else None
    return losses.psnr_from_mse(
        jax.vmap(one, in_axes=(0, 0, test_axis, 0))(*variables, test_coords,
                                                    test_targets))

  return _fit(loss, measure, (latents, own), steps=steps, lr=lr,
              optimizer=optimizer)


def ffnet_init(rng: jax.Array, net: hyponet_lib.HypoNet):
  """torch.nn.Linear's default init: weights and biases U(+-1/sqrt(fan_in))."""
  params = {}
  for i, (fan_in, fan_out) in enumerate(net.layer_shapes):
    rng, rng_w, rng_b = jax.random.split(rng, 3)
    bound = 1.0 / np.sqrt(fan_in)
    params[hyponet_lib.layer_name(i)] = {
        "w": jax.random.uniform(rng_w, (fan_in, fan_out), jnp.float32, -bound,
                                bound),
        "b": jax.random.uniform(rng_b, (fan_out,), jnp.float32, -bound, bound)
    }
  return params


def ffnet_apply(params, coords: jax.Array, net: hyponet_lib.HypoNet):
  """The plain FFNet: the hyponet's Fourier features and ReLU MLP, with its
  weights used as they are (no weight normalisation)."""
  h = net.fourier_features(coords)
  for i in range(net.n_layers):
    layer = params[hyponet_lib.layer_name(i)]
    h = h @ layer["w"] + layer["b"]
    if i < net.n_layers - 1:
      h = jax.nn.relu(h)
  return h + net.output_bias


def fit_scratch(net: hyponet_lib.HypoNet, images, *, steps: int, lr: float,
                optimizer: str = "adam", seed: int = 0):
  """Trains one randomly initialised FFNet per image on its pixels.

  Returns:
    (PSNR [steps + 1, B], seconds [steps + 1]).
  """
  grid, targets = _pixels(images)
  rngs = jax.random.split(jax.random.key(seed), images.shape[0])
  params = jax.vmap(lambda r: ffnet_init(r, net))(rngs)

  def per_instance_mse(params):
    pred = jax.vmap(lambda p: ffnet_apply(p, grid, net))(params)
    return jnp.mean(jnp.square(pred - targets), axis=(1, 2))

  return _fit(lambda p, rng: jnp.sum(per_instance_mse(p)),
              lambda p: losses.psnr_from_mse(per_instance_mse(p)), params,
              steps=steps, lr=lr, optimizer=optimizer)


def scratch_net(config, images) -> hyponet_lib.HypoNet:
  """The per-sample FFNet's shape: the model's hyponet, or the defaults."""
  spec = config.model.get("hyponet") if "model" in config else None
  spec = dict(spec) if spec else {}
  spec.update(input_dim=2, output_dim=images.shape[-1])
  return hyponet_lib.HypoNet(**spec)


def plot(curves: list[dict], out: str):
  """Mean test PSNR against seconds, one line per run."""
  fig, ax = plt.subplots(figsize=(6, 4))
  for c in curves:
    ax.plot(c["seconds"], c["psnr"], label=c["label"])
  ax.set_xlabel("seconds of optimisation (this machine)")
  ax.set_ylabel("mean test PSNR (dB)")
  ax.set_title(f"{curves[0]['num_images']} test images")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  fig.savefig(out, dpi=120)
  plt.close(fig)


def _record(label: str, psnrs, seconds, **info) -> dict:
  return {
      "label": label, **info, "num_images": psnrs.shape[1],
      "seconds": seconds.tolist(), "psnr": psnrs.mean(axis=1).tolist()
  }


def compare(workdirs: list[str], *, whats=("latents",), steps: int = 100,
            lr: float = 1e-4, optimizer: str = "adam", num_images: int = 10,
            rays: int = 1024, scratch: bool = False, scratch_lr: float = 1e-3,
            plot_path: str | None = None,
            step: int | None = None) -> list[dict]:
  """Runs every (workdir, what) TTO, and the FFNets, on the same test
  images; writes each run's JSON, and the plot if `plot_path`."""
  loaded = [train.load_workdir(w, step=step) for w in workdirs]
  first = loaded[0][0]
  for w, (config, _, _) in zip(workdirs, loaded):
    if config.input.to_dict() != first.input.to_dict():
      raise cli.ConfigError(
          f"{w} was trained on other data than {workdirs[0]} (config.input "
          "differs): compare models on the same images.")
  batch = jax.tree.map(jnp.asarray,
                       input_pipeline.eval_sample(first.input, num_images))
  curves = []
  for w, (config, setup, params) in zip(workdirs, loaded):
    name = os.path.basename(os.path.normpath(w))
    for what in whats:
      psnrs, seconds = optimize(config, setup, params, batch, what=what,
                                steps=steps, lr=lr, optimizer=optimizer,
                                rays=rays)
      curve = _record(f"{name}: TTO of {what}", psnrs, seconds, workdir=w,
                      model=config.model_name, what=what, optimizer=optimizer,
                      lr=lr)
      out_dir = os.path.join(w, "tto")
      os.makedirs(out_dir, exist_ok=True)
      with open(os.path.join(out_dir, f"tto_{what}.json"), "w") as fp:
        json.dump(curve, fp)
      curves.append(curve)
  if scratch:
    if "image" not in batch:
      raise cli.ConfigError("--scratch trains an FFNet per test image; this "
                            f"data has {sorted(batch)}.")
    images = batch["image"]
    net = scratch_net(first, images)
    psnrs, seconds = fit_scratch(net, images, steps=steps, lr=scratch_lr,
                                 optimizer=optimizer)
    curves.append(
        _record(f"FFNet per sample (d={net.hidden_dim}, random init)", psnrs,
                seconds, what="scratch", optimizer=optimizer, lr=scratch_lr))
  if plot_path:
    plot(curves, plot_path)
    with open(os.path.splitext(plot_path)[0] + ".json", "w") as fp:
      json.dump(curves, fp)
  return curves
