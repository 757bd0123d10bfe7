r"""Test-time optimisation (TTO) of trained models, and per-sample training.

  # one model, its latents only:
  python -m ginr_jax.tto --workdir=workdirs/demo_ipc --what=latents \
      --steps=100 --lr=1e-3
  # IPC Fig. 9 / LA-GINR Fig. 7: several models, both kinds of TTO and
  # per-sample FFNets on the same test images, PSNR against seconds:
  python -m ginr_jax.tto --workdir=workdirs/demo_ipc \
      --workdir=workdirs/demo_la_ginr --what=latents --what=all --scratch \
      --steps=100 --lr=1e-3 --plot=docs/tto_demo.png

IPC Table 5 / Fig. 9, LA-GINR Fig. 7: starting from the model's prediction
for each test image (after the inner loop for meta-learned models), optimise
per instance either
  latents  the latents only (IPC's V, LA-GINR's latent tokens, Learned
           Init's weights), or
  all      the latents and a per-instance copy of every decoder weight
           (models' DECODER_PARAMS: the hyponet and U, or LA-GINR's decoder)
on the image's own full pixel grid with Adam (or SGD), the loss being the sum
of per-instance MSEs so that each instance follows its own gradient.

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

import json
import os
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import matplotlib
matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import optax

from ginr_jax import coords as coords_lib
from ginr_jax import host_memory
from ginr_jax import input_pipeline
from ginr_jax import losses
from ginr_jax import models
from ginr_jax import train
from ginr_jax.models import hyponet as hyponet_lib


def _fit(per_instance_mse, variables, *, steps: int, lr: float,
         optimizer: str):
  """Optimises `variables` on the sum of per-instance MSEs, timing each step.

  Returns:
    (PSNR [steps + 1, B] after each step, step 0 = before any, and the
    cumulative seconds [steps + 1]).
  """
  tx = (optax.adam if optimizer == "adam" else optax.sgd)(lr)
  opt_state = tx.init(variables)

  @jax.jit
  def step(variables, opt_state):
    grads = jax.grad(lambda v: jnp.sum(per_instance_mse(v)))(variables)
    updates, opt_state = tx.update(grads, opt_state, variables)
    return optax.apply_updates(variables, updates), opt_state

  measure = jax.jit(lambda v: losses.psnr_from_mse(per_instance_mse(v)))
  jax.block_until_ready(step(variables, opt_state))   # compile, untimed
  psnrs = [np.asarray(measure(variables))]
  seconds, elapsed = [0.0], 0.0
  for _ in range(steps):
    start = time.perf_counter()
    variables, opt_state = step(variables, opt_state)
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


def optimize(config, setup, params, images, *, what: str, steps: int,
             lr: float, optimizer: str = "adam"):
  """Fits every image from the model's prediction (see the module doc).

  Returns:
    (PSNR [steps + 1, B], seconds [steps + 1]).
  """
  model = setup.model
  b = images.shape[0]
  grid, targets = _pixels(images)
  latents = train.eval_latents(params, images, model=model,
                               meta_cfg=setup.meta_cfg)
  own = {}
  if what == "all":
    own = {k: jax.tree.map(lambda x: jnp.broadcast_to(x, (b, *x.shape)),
                           params[k])
           for k in models.decoder_params(config.model_name) if k in params}

  def per_instance_mse(variables):
    def one(lat, own_params, target):
      p = {**params, **own_params}
      pred = model.apply({"params": p}, jax.tree.map(lambda x: x[None], lat),
                         grid, method="decode")[0]
      return jnp.mean(jnp.square(pred - target))

    return jax.vmap(one)(*variables, targets)

  return _fit(per_instance_mse, (latents, own), steps=steps, lr=lr,
              optimizer=optimizer)


def ffnet_init(rng: jax.Array, net: hyponet_lib.HypoNet):
  """torch.nn.Linear's default init: weights and biases U(+-1/sqrt(fan_in))."""
  params = {}
  for i, (fan_in, fan_out) in enumerate(net.layer_shapes):
    rng, rng_w, rng_b = jax.random.split(rng, 3)
    bound = 1.0 / np.sqrt(fan_in)
    params[hyponet_lib.layer_name(i)] = {
        "w": jax.random.uniform(rng_w, (fan_in, fan_out), jnp.float32,
                                -bound, bound),
        "b": jax.random.uniform(rng_b, (fan_out,), jnp.float32, -bound,
                                bound)}
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

  return _fit(per_instance_mse, params, steps=steps, lr=lr,
              optimizer=optimizer)


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


def define_flags():
  """The command's flags (defined on use: analysis.py shares some names)."""
  flags.DEFINE_multi_string("workdir", None, "Training workdirs (repeat the "
                            "flag to compare models).", required=True)
  flags.DEFINE_integer("step", None, "Checkpoint step; default latest.")
  flags.DEFINE_multi_enum("what", ["latents"], ["latents", "all"],
                          "What to optimise per instance (repeatable).")
  flags.DEFINE_integer("steps", 100, "Optimisation steps.")
  flags.DEFINE_float("lr", 1e-4, "Learning rate of TTO.")
  flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "Optimiser.")
  flags.DEFINE_integer("num_images", 10, "Test images to fit.")
  flags.DEFINE_bool("scratch", False, "Also train a randomly initialised "
                    "FFNet per image (the per-sample baseline).")
  flags.DEFINE_float("scratch_lr", 1e-3, "Learning rate of the FFNets.")
  flags.DEFINE_string("plot", None, "Write every run's PSNR-vs-seconds curve "
                      "to this PNG (and its numbers to the same path .json).")


def _record(label: str, psnrs, seconds, **info) -> dict:
  return {"label": label, **info, "num_images": psnrs.shape[1],
          "seconds": seconds.tolist(), "psnr": psnrs.mean(axis=1).tolist()}


def compare(workdirs: list[str], *, whats=("latents",), steps: int = 100,
            lr: float = 1e-4, optimizer: str = "adam", num_images: int = 10,
            scratch: bool = False, scratch_lr: float = 1e-3,
            plot_path: str | None = None, step: int | None = None
            ) -> list[dict]:
  """Runs every (workdir, what) TTO, and the FFNets, on the same test
  images; writes each run's JSON, and the plot if `plot_path`."""
  loaded = [train.load_workdir(w, step=step) for w in workdirs]
  first = loaded[0][0]
  for w, (config, _, _) in zip(workdirs, loaded):
    if config.input.to_dict() != first.input.to_dict():
      raise ValueError(
          f"{w} was trained on other data than {workdirs[0]} (config.input "
          "differs): compare models on the same images.")
  images = jnp.asarray(input_pipeline.eval_sample(first.input, num_images))
  curves = []
  for w, (config, setup, params) in zip(workdirs, loaded):
    name = os.path.basename(os.path.normpath(w))
    for what in whats:
      psnrs, seconds = optimize(config, setup, params, images, what=what,
                                steps=steps, lr=lr, optimizer=optimizer)
      curve = _record(f"{name}: TTO of {what}", psnrs, seconds, workdir=w,
                      model=config.model_name, what=what,
                      optimizer=optimizer, lr=lr)
      out_dir = os.path.join(w, "tto")
      os.makedirs(out_dir, exist_ok=True)
      with open(os.path.join(out_dir, f"tto_{what}.json"), "w") as fp:
        json.dump(curve, fp)
      curves.append(curve)
  if scratch:
    net = scratch_net(first, images)
    psnrs, seconds = fit_scratch(net, images, steps=steps, lr=scratch_lr,
                                 optimizer=optimizer)
    curves.append(_record(
        f"FFNet per sample (d={net.hidden_dim}, random init)", psnrs, seconds,
        what="scratch", optimizer=optimizer, lr=scratch_lr))
  if plot_path:
    plot(curves, plot_path)
    with open(os.path.splitext(plot_path)[0] + ".json", "w") as fp:
      json.dump(curves, fp)
  return curves


def main(argv):
  del argv
  f = flags.FLAGS
  curves = compare(f.workdir, whats=f.what, steps=f.steps, lr=f.lr,
                   optimizer=f.optimizer, num_images=f.num_images,
                   scratch=f.scratch, scratch_lr=f.scratch_lr,
                   plot_path=f.plot, step=f.step)
  for c in curves:
    print(json.dumps({"run": c["label"], "psnr_before": c["psnr"][0],
                      "psnr_after": c["psnr"][-1],
                      "seconds": c["seconds"][-1]}))
  if f.plot:
    print(f"wrote {f.plot}")


if __name__ == "__main__":
  host_memory.restart_with_malloc_tuning()
  define_flags()
  app.run(main)
