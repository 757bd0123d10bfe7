"""The diffusion trainer: a denoiser learns to generate stage-1 latents.

Trained as stage 1 is (`run_loop.py`: setup from shapes, a jitted pure step
`(state, batch, rng) -> (state, metrics)`, resume with the data iterator,
NaN stop, Ctrl-C / preemption checkpoints). What differs: the data are
exported latent tokens (`latents.py`), the loss is DDPM's with
x0-prediction (`schedule.py`), 10% of the labels are dropped for
classifier-free guidance, the state carries an EMA of the parameters, and
evaluation samples with DDIM from the EMA parameters and decodes through the
frozen stage-1 decoder (`sample.py`). The stage-1 model is never updated:
only its decoder is applied, outside the training step.
"""

import functools

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import optax

from ginr_jax import input_pipeline
from ginr_jax import optim
from ginr_jax import run_loop
from ginr_jax import sharding
from ginr_jax import utils
from ginr_jax.diffusion import denoiser
from ginr_jax.diffusion import latents as latents_lib
from ginr_jax.diffusion import sample
from ginr_jax.diffusion import schedule


def init_state(rng: jax.Array, model: denoiser.Denoiser, tx):
  """{"step", "params", "opt", "ema"}; the EMA starts at the parameters."""
  x = jnp.zeros((1, model.num_tokens, model.token_dim))
  t = jnp.zeros((1,), jnp.int32)
  params = model.init({"params": rng}, x, t, t)["params"]
  return {
      "step": jnp.zeros((), jnp.int32), "params": params,
      "opt": tx.init(params), "ema": params
  }


def ema_update(ema, params, decay: float):
  """ema <- decay * ema + (1 - decay) * params, leaf by leaf."""
  return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)


def drop_labels(rng: jax.Array, labels: jax.Array, rate: float,
                num_classes: int) -> jax.Array:
  """Each label replaced by the null class with probability `rate`."""
  drop = jax.random.bernoulli(rng, rate, labels.shape)
  return jnp.where(drop, num_classes, labels)


def diffusion_loss(params, latents, labels, rng, *, model, abar):
  """E_t,eps ||f(x_t, t, y) - x_0||^2 over [B, R, d] (x0-parameterised)."""
  rng_t, rng_noise = jax.random.split(rng)
  t = jax.random.randint(rng_t, latents.shape[:1], 0, abar.shape[0])
  noise = jax.random.normal(rng_noise, latents.shape, latents.dtype)
  x_t = schedule.q_sample(latents, t, noise, abar)
  pred = model.apply({"params": params}, x_t, t, labels)
  return jnp.mean(jnp.square(pred - latents))


def train_step(state, batch, rng, *, model, tx, lr_schedule, abar,
               label_drop: float, ema_decay: float):
  """One Adam step on a batch of standardised latents; (state, metrics)."""
  rng = jax.random.fold_in(rng, state["step"])
  rng_drop, rng_loss = jax.random.split(rng)
  labels = drop_labels(rng_drop, batch["label"], label_drop, model.num_classes)
  loss, grads = jax.value_and_grad(diffusion_loss)(state["params"],
                                                   batch["latents"], labels,
                                                   rng_loss, model=model,
                                                   abar=abar)
  updates, opt = tx.update(grads, state["opt"], state["params"])
  params = optax.apply_updates(state["params"], updates)
  metrics = {
      "train/loss": loss, "train/l2_grads": utils.l2_norm(grads),
      "train/l2_params": utils.l2_norm(params),
      "train/l2_updates": utils.l2_norm(updates),
      "train/lr": lr_schedule(state["step"])
  }
  return {
      "step": state["step"] + 1, "params": params, "opt": opt,
      "ema": ema_update(state["ema"], params, ema_decay)
  }, metrics


def check_latents(config: ml_collections.ConfigDict, meta: dict):
  """The config's token shape and classes must be the exported ones."""
  for key in ("num_tokens", "token_dim", "num_classes"):
    if config.model[key] != meta[key]:
      raise ValueError(
          f"config.model.{key}={config.model[key]} but the latents in "
          f"{config.latents_dir} have {key}={meta[key]}; pass "
          f"--config.model.{key}={meta[key]}.")


class Setup:
  """What training, sampling and the AOT memory report build from a config
  (shapes only: nothing is read from disk here)."""

  def __init__(self, config: ml_collections.ConfigDict):
    self.config = config
    self.mesh = sharding.make_mesh(config.num_devices or None)
    self.model = denoiser.build(config.model.to_dict())
    self.tx, self.lr_schedule = optim.make(config.optim, config.total_steps)
    d = config.diffusion
    abar = jnp.asarray(
        schedule.alphas_cumprod(
            schedule.linear_betas(d.num_steps, d.beta_start, d.beta_end)),
        jnp.float32)
    init = functools.partial(init_state, model=self.model, tx=self.tx)
    self.state_shape = jax.eval_shape(init, jax.random.key(config.seed))
    self.state_sharding = sharding.state_sharding(self.state_shape, self.mesh,
                                                  **config.sharding.to_dict())
    self.init = jax.jit(init, out_shardings=self.state_sharding)
    self.train_step = functools.partial(train_step, model=self.model,
                                        tx=self.tx,
                                        lr_schedule=self.lr_schedule, abar=abar,
                                        label_drop=d.label_drop,
                                        ema_decay=d.ema_decay)

  def batch_shape(self, batch_size: int | None = None):
    """ShapeDtypeStructs of a global batch, for ahead-of-time compiles."""
    b = batch_size or self.config.input.batch_size
    m, data = self.model, sharding.data_sharded(self.mesh)
    return {
        "latents": jax.ShapeDtypeStruct((b, m.num_tokens, m.token_dim),
                                        jnp.float32, sharding=data),
        "label": jax.ShapeDtypeStruct((b,), jnp.int32, sharding=data)
    }


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str):
  """Trains (resuming from the workdir's latest checkpoint), then samples."""
  meta = latents_lib.read_meta(config.latents_dir)  # fails before anything
  check_latents(config, meta)
  run_loop.check_resume(config, workdir)
  setup = Setup(config)
  logging.info(
      "%d devices, mesh %s; denoiser with %s parameters over %d "
      "latent tokens x %d channels, %d classes", jax.device_count(),
      dict(setup.mesh.shape),
      f"{utils.count_params(setup.state_shape['params']):,}",
      meta["num_tokens"], meta["token_dim"], meta["num_classes"])
  train_iter = input_pipeline.BatchIterator(
      latents_lib.dataset(config.latents_dir,
                          "train").shuffle(seed=config.seed).repeat(),
      config.input.batch_size, setup.mesh, config.input.num_threads)
  evaluator = sample.Evaluator(config, setup, meta)

  def evaluate(state, writer, step):
    evaluator.evaluate(state["ema"], writer, step, workdir)

  return run_loop.train(setup, train_iter, workdir, evaluate, "sample/")


def load_workdir(workdir: str, step: int | None = None):
  """(config, Setup, state) of a diffusion workdir's checkpoint."""
  return run_loop.load_workdir(Setup, workdir, step=step)
