r"""Test-time optimisation (TTO) of a trained model on test images.

  python -m ginr_jax.tto --workdir=workdirs/demo_ipc --what=latents \
      --steps=100 --lr=1e-3

IPC Table 5 / Fig. 9, LA-GINR Fig. 7: starting from the model's prediction
for each test image (after the inner loop for meta-learned models), optimise
per instance either
  latents  the latents only (IPC's V, LA-GINR's latent tokens, Learned
           Init's weights), or
  all      the latents and a per-instance copy of every decoder weight
           (models' DECODER_PARAMS: the hyponet and U, or LA-GINR's decoder)
on the image's own full pixel grid with Adam (or SGD), the loss being the sum
of per-instance MSEs so that each instance follows its own gradient. The PSNR
of every image is recorded after each step with the elapsed seconds, in
WORKDIR/tto/tto_<what>.json, and printed.

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
import numpy as np
import optax

from ginr_jax import coords as coords_lib
from ginr_jax import input_pipeline
from ginr_jax import losses
from ginr_jax import models
from ginr_jax import train

def optimize(config, setup, params, images, *, what: str, steps: int,
             lr: float, optimizer: str = "adam"):
  """Fits every image; returns (PSNR [steps + 1, B], seconds [steps + 1])."""
  model = setup.model
  b, h, w, c = images.shape
  grid = jnp.asarray(coords_lib.grid((h, w)).reshape(-1, 2))
  targets = images.reshape(b, h * w, c)
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

  tx = (optax.adam if optimizer == "adam" else optax.sgd)(lr)
  variables = (latents, own)
  opt_state = tx.init(variables)

  @jax.jit
  def step(variables, opt_state):
    mse, grads = jax.value_and_grad(
        lambda v: jnp.sum(per_instance_mse(v)))(variables)
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


def define_flags():
  """The command's flags (defined on use: analysis.py shares some names)."""
  flags.DEFINE_string("workdir", None, "A training workdir.", required=True)
  flags.DEFINE_integer("step", None, "Checkpoint step; default latest.")
  flags.DEFINE_enum("what", "latents", ["latents", "all"],
                    "What to optimise per instance.")
  flags.DEFINE_integer("steps", 100, "Optimisation steps.")
  flags.DEFINE_float("lr", 1e-4, "Learning rate.")
  flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "Optimiser.")
  flags.DEFINE_integer("num_images", 8, "Test images to fit.")


def main(argv):
  del argv
  f = flags.FLAGS
  config, setup, params = train.load_workdir(f.workdir, step=f.step)
  images = input_pipeline.eval_sample(config.input, f.num_images)
  psnrs, seconds = optimize(config, setup, params, jnp.asarray(images),
                            what=f.what, steps=f.steps, lr=f.lr,
                            optimizer=f.optimizer)
  result = {"model": config.model_name, "what": f.what,
            "optimizer": f.optimizer, "lr": f.lr,
            "num_images": len(images), "seconds": seconds.tolist(),
            "psnr": psnrs.mean(axis=1).tolist()}
  out_dir = os.path.join(f.workdir, "tto")
  os.makedirs(out_dir, exist_ok=True)
  path = os.path.join(out_dir, f"tto_{f.what}.json")
  with open(path, "w") as fp:
    json.dump(result, fp)
  print(json.dumps({"psnr_before": result["psnr"][0],
                    "psnr_after": result["psnr"][-1],
                    "seconds": seconds[-1], "json": path}))


if __name__ == "__main__":
  define_flags()
  app.run(main)
