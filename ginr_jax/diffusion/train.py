"""The diffusion trainer: a denoiser learns to generate stage-1 latents.

A fork of `ginr_jax/train.py` (same skeleton: setup from shapes, a jitted
pure step `(state, batch, rng) -> (state, metrics)`, resume with the data
iterator, NaN stop, progress, Ctrl-C / preemption checkpoints). What differs:
the data are exported latent tokens (`latents.py`), the loss is DDPM's with
x0-prediction (`schedule.py`), 10% of the labels are dropped for
classifier-free guidance, the state carries an EMA of the parameters, and
evaluation samples with DDIM from the EMA parameters and decodes through the
frozen stage-1 decoder (`sample.py`). The stage-1 model is never updated:
only its decoder is applied, outside the training step.
"""

import functools
import json
import os

from absl import logging
import grain
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from ginr_jax import checkpoint
from ginr_jax import cli
from ginr_jax import distributed
from ginr_jax import input_pipeline
from ginr_jax import optim
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
  return {"step": jnp.zeros((), jnp.int32), "params": params,
          "opt": tx.init(params), "ema": params}


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
  labels = drop_labels(rng_drop, batch["label"], label_drop,
                       model.num_classes)
  loss, grads = jax.value_and_grad(diffusion_loss)(
      state["params"], batch["latents"], labels, rng_loss, model=model,
      abar=abar)
  updates, opt = tx.update(grads, state["opt"], state["params"])
  params = optax.apply_updates(state["params"], updates)
  metrics = {"train/loss": loss, "train/l2_grads": utils.l2_norm(grads),
             "train/l2_params": utils.l2_norm(params),
             "train/l2_updates": utils.l2_norm(updates),
             "train/lr": lr_schedule(state["step"])}
  return {"step": state["step"] + 1, "params": params, "opt": opt,
          "ema": ema_update(state["ema"], params, ema_decay)}, metrics


class LatentIterator:
  """Infinite iterator of global batches {"latents": [B, R, d], "label":
  [B]}, shuffled every epoch; checkpointable like the stage-1 iterator
  (process p of P reads its slice of every global batch)."""

  def __init__(self, latent_dir: str, batch_size: int, mesh, seed: int,
               num_threads: int = 4):
    sharding.check_batch_size(batch_size, mesh, "input.batch_size")
    global_ds = latents_lib.dataset(latent_dir, "train").shuffle(
        seed=seed).repeat()
    local = input_pipeline.local_batch_size(batch_size)
    first = jax.process_index() * local

    def example(k):
      return global_ds[(k // local) * batch_size + first + k % local]

    ds = grain.MapDataset.range((2**62 // batch_size) * local).map(
        example).batch(local, drop_remainder=True)
    self._iter = ds.to_iter_dataset(grain.ReadOptions(
        num_threads=num_threads,
        prefetch_buffer_size=max(4, num_threads))).__iter__()
    self._sharding = sharding.data_sharded(mesh)

  def __iter__(self):
    return self

  def __next__(self) -> dict[str, jax.Array]:
    return input_pipeline.to_global(next(self._iter), self._sharding)

  def get_state(self):
    return self._iter.get_state()

  def set_state(self, state):
    self._iter.set_state(state)


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
    abar = jnp.asarray(schedule.alphas_cumprod(schedule.linear_betas(
        d.num_steps, d.beta_start, d.beta_end)), jnp.float32)
    init = functools.partial(init_state, model=self.model, tx=self.tx)
    self.state_shape = jax.eval_shape(init, jax.random.key(config.seed))
    self.state_sharding = sharding.state_sharding(
        self.state_shape, self.mesh, **config.sharding.to_dict())
    self.init = jax.jit(init, out_shardings=self.state_sharding)
    self.train_step = functools.partial(
        train_step, model=self.model, tx=self.tx,
        lr_schedule=self.lr_schedule, abar=abar, label_drop=d.label_drop,
        ema_decay=d.ema_decay)

  def batch_shape(self, batch_size: int | None = None):
    """ShapeDtypeStructs of a global batch, for ahead-of-time compiles."""
    b = batch_size or self.config.input.batch_size
    m, data = self.model, sharding.data_sharded(self.mesh)
    return {"latents": jax.ShapeDtypeStruct(
        (b, m.num_tokens, m.token_dim), jnp.float32, sharding=data),
            "label": jax.ShapeDtypeStruct((b,), jnp.int32, sharding=data)}


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str):
  """Trains (resuming from the workdir's latest checkpoint), then samples."""
  meta = latents_lib.read_meta(config.latents_dir)  # fails before anything
  check_latents(config, meta)
  setup = Setup(config)
  mesh, cfg = setup.mesh, config
  logging.info("%d devices, mesh %s; denoiser with %s parameters over %d "
               "latent tokens x %d channels, %d classes", jax.device_count(),
               dict(mesh.shape),
               f"{utils.count_params(setup.state_shape['params']):,}",
               meta["num_tokens"], meta["token_dim"], meta["num_classes"])
  train_iter = LatentIterator(cfg.latents_dir, cfg.input.batch_size, mesh,
                              cfg.seed, cfg.input.num_threads)
  os.makedirs(workdir, exist_ok=True)
  if jax.process_index() == 0:
    with open(os.path.join(workdir, "config.json"), "w") as f:
      f.write(config.to_json_best_effort(indent=2))
  manager = checkpoint.make_manager(workdir, cfg.keep_checkpoints,
                                    cfg.get("checkpoint_dir", ""))
  writer = utils.MetricWriter(workdir)
  if manager.latest_step() is not None:
    abstract = checkpoint.abstract_like(setup.state_shape, setup.state_sharding)
    state = checkpoint.restore(manager, abstract, train_iter)
    logging.info("Resumed from %s at step %d.", manager.directory,
                 manager.latest_step())
  else:
    state = setup.init(jax.random.key(cfg.seed))
  first_step = int(jax.device_get(state["step"]))
  writer.drop_after(first_step)
  evaluator = sample.Evaluator(config, setup, meta)

  update_fn = jax.jit(setup.train_step, donate_argnums=0,
                      out_shardings=(setup.state_sharding,
                                     sharding.replicated(mesh)))
  rng = jax.random.key(cfg.seed + 1)
  progress = utils.Progress(first_step, cfg.total_steps)

  def save(step, data_state):
    checkpoint.save(manager, step, state, data_state)

  step, data_state = first_step, train_iter.get_state()
  preemption = distributed.Preemption()
  try:
    while step < cfg.total_steps:
      state, metrics = update_fn(state, next(train_iter), rng)
      step, data_state = step + 1, train_iter.get_state()
      last = step == cfg.total_steps
      stop = preemption.reached(step)
      if (step % cfg.log_steps == 0 or step % cfg.ckpt_steps == 0 or last
          or stop):
        scalars = jax.device_get(metrics)
        if not np.isfinite(scalars["train/loss"]):
          good = manager.latest_step()
          raise FloatingPointError(
              f"Loss is {scalars['train/loss']} at step {step}; stopping. " + (
                  f"The last good checkpoint is step {good} in "
                  f"{manager.directory}." if good is not None else
                  "No checkpoint was saved before it."))
        rate = progress.rate(step)
        scalars["time/steps_per_sec"] = rate
        scalars["time/examples_per_sec"] = rate * cfg.input.batch_size
        writer.write_scalars(step, scalars)
        logging.info(progress.line(step, rate,
                                   {"train/loss": scalars["train/loss"]}))
      if step % cfg.ckpt_steps == 0 or last or stop:
        save(step, data_state)
      if stop:
        logging.warning("Preempted: stopped at step %d with a checkpoint; "
                        "run the same command to resume.", step)
        break
      if step % cfg.eval_steps == 0 or last:
        evaluator.evaluate(state["ema"], writer, step, workdir)
  except KeyboardInterrupt:
    if step > (manager.latest_step() or 0):
      logging.warning("Interrupted at step %d: saving a checkpoint.", step)
      save(step, data_state)
    raise
  finally:
    preemption.close()
    checkpoint.finish(manager)
    writer.close()
  return state


def load_workdir(workdir: str, step: int | None = None):
  """(config, Setup, state) of a diffusion workdir's checkpoint."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise cli.NotFoundError(
        f"No {path}: pass the --workdir of a diffusion training run "
        "(python -m ginr_jax.diffusion.main --config=... --workdir=...).")
  with open(path) as f:
    config = ml_collections.ConfigDict(json.load(f))
  setup = Setup(config)
  manager = checkpoint.make_manager(
      workdir, checkpoint_dir=config.get("checkpoint_dir", ""))
  if manager.latest_step() is None:
    raise cli.NotFoundError(f"No checkpoint in {manager.directory}; train "
                            "first with the same --workdir.")
  abstract = checkpoint.abstract_like(setup.state_shape, setup.state_sharding)
  return config, setup, checkpoint.restore(manager, abstract, step=step)
