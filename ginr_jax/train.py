"""Stage-1 trainer: a hypernetwork learns to predict INRs of images.

Reads top to bottom: setup (mesh, data, model, state from shapes), the jitted
step, resume, then the loop with its log / checkpoint / eval cadence. The step
is a pure function `(state, batch, rng) -> (state, metrics)` with the batch
sharded on the mesh's "data" axis and the state replicated, so it gives the
same result on 1 or N devices.
"""

import functools
import json
import os

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from ginr_jax import checkpoint
from ginr_jax import coords as coords_lib
from ginr_jax import distributed
from ginr_jax import evaluators
from ginr_jax import input_pipeline
from ginr_jax import losses
from ginr_jax import meta
from ginr_jax import models
from ginr_jax import optim
from ginr_jax import sharding
from ginr_jax import utils


def init_state(rng: jax.Array, model, tx, image_shape: tuple[int, ...]):
  """The train state {"step", "params", "opt"} for signals [*spatial, C]
  (images [H, W, C], audio [T, C])."""
  params = model.init({"params": rng}, jnp.zeros((1, *image_shape)),
                      jnp.zeros((1, len(image_shape) - 1)))["params"]
  return {"step": jnp.zeros((), jnp.int32), "params": params,
          "opt": tx.init(params)}


def training_coords(rng: jax.Array, image_shape: tuple[int, ...],
                    batch_size: int, jitter: bool, subsample: float):
  """Coordinates and the flat pixel (sample) indices they supervise.

  Returns:
    coords: [N, D] (shared) or [B, M, D] (jittered and/or subsampled), D the
      rank of `image_shape` (the spatial shape).
    indices: None (all N pixels) or [B, M] flat pixel indices per instance.
  """
  rng_jitter, rng_subsample = jax.random.split(rng)
  grid = jnp.asarray(coords_lib.grid(image_shape)).reshape(
      -1, len(image_shape))
  coords, indices = grid, None
  if jitter:
    coords = coords_lib.jitter(rng_jitter, grid, batch_size,
                               cell=2.0 / image_shape[0])
  if subsample < 1.0:
    indices = coords_lib.subsample_indices(rng_subsample, batch_size,
                                           grid.shape[0], subsample)
    if coords.ndim == 2:
      coords = coords[indices]
    else:
      coords = jnp.take_along_axis(coords, indices[..., None], axis=1)
  return coords, indices


def inner_subset(rng: jax.Array, coords: jax.Array, targets: jax.Array,
                 fraction: float):
  """A random `fraction` of each instance's (coords, targets) for the inner
  loop; coords [N, D] or [B, N, D], targets [B, N, C]."""
  b, n = targets.shape[:2]
  indices = coords_lib.subsample_indices(rng, b, n, fraction)   # [B, M]
  if coords.ndim == 2:
    coords = coords[indices]
  else:
    coords = jnp.take_along_axis(coords, indices[..., None], axis=1)
  return coords, jnp.take_along_axis(targets, indices[..., None], axis=1)


def adapt(params, latents, coords, targets, *, model, meta_cfg,
          train: bool = True):
  """The inner loop of optimization-based meta-learning (`meta.py`).

  Returns the adapted latents and each inner step's starting MSE [B, K];
  without inner steps (meta_cfg.inner_steps = 0) the latents unchanged.
  """
  if not inner_steps(meta_cfg):
    return latents, None
  decode = functools.partial(model.apply, {"params": params}, method="decode")
  return meta.adapt_batch(
      decode, latents, coords, targets, steps=meta_cfg["inner_steps"],
      lr=meta_cfg["inner_lr"], norm_scaled=meta_cfg["norm_scaled"],
      # Evaluation needs no meta-gradient (the official eval is first-order).
      first_order=meta_cfg["first_order"] or not train,
      remat=meta_cfg["remat"])


def inner_steps(meta_cfg) -> int:
  return meta_cfg["inner_steps"] if meta_cfg else 0


def train_step(state, batch, rng, *, model, tx, schedule, jitter: bool,
               subsample: float, meta_cfg=None):
  """One Adam step on a batch of images; returns (state, metrics)."""
  images = batch["image"]                         # [B, H, W, C] or [B, T, C]
  b, *spatial, c = images.shape
  rng = jax.random.fold_in(rng, state["step"])
  rng_coords, rng_dropout, rng_inner = jax.random.split(rng, 3)
  coords, indices = training_coords(rng_coords, tuple(spatial), b, jitter,
                                    subsample)
  targets = images.reshape(b, -1, c)
  if indices is not None:
    targets = jnp.take_along_axis(targets, indices[..., None], axis=1)
  inner_coords, inner_targets = coords, targets
  # Configs saved before the option existed have no "inner_subsample".
  inner_fraction = (meta_cfg or {}).get("inner_subsample", 1.0)
  if inner_steps(meta_cfg) and inner_fraction < 1.0:
    inner_coords, inner_targets = inner_subset(rng_inner, coords, targets,
                                               inner_fraction)

  def loss_fn(params):
    latents = model.apply({"params": params}, images, train=True,
                          rngs={"dropout": rng_dropout}, method="encode")
    latents, inner_mse = adapt(params, latents, inner_coords, inner_targets,
                               model=model, meta_cfg=meta_cfg)
    pred = model.apply({"params": params}, latents, coords, method="decode")
    loss, psnr = losses.mse_and_psnr(pred, targets)
    return loss, (psnr, inner_mse)

  (loss, (psnr, inner_mse)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(state["params"])
  updates, opt = tx.update(grads, state["opt"], state["params"])
  params = optax.apply_updates(state["params"], updates)
  metrics = {"train/loss": loss, "train/psnr": psnr,
             "train/l2_grads": utils.l2_norm(grads),
             "train/l2_params": utils.l2_norm(params),
             "train/l2_updates": utils.l2_norm(updates),
             "train/lr": schedule(state["step"])}
  if inner_mse is not None:   # PSNR before inner step k (k = 0: V_0)
    for k in range(inner_mse.shape[1]):
      metrics[f"train/psnr_inner_{k}"] = jnp.mean(
          losses.psnr_from_mse(inner_mse[:, k]))
  return {"step": state["step"] + 1, "params": params, "opt": opt}, metrics


def adapted_latents(params, images, *, model, meta_cfg=None):
  """The latents of test images [B, H, W, C] and the MSE before each inner
  step [B, K] (None without one): meta-learned models adapt them on each
  image's own pixel grid."""
  latents = model.apply({"params": params}, images, method="encode")
  b, *spatial, c = images.shape
  grid = jnp.asarray(coords_lib.grid(spatial).reshape(-1, len(spatial)))
  return adapt(params, latents, grid, images.reshape(b, -1, c),
               model=model, meta_cfg=meta_cfg, train=False)


def eval_latents(params, images, *, model, meta_cfg=None):
  """The latents of test images, adapted by the inner loop if there is one."""
  return adapted_latents(params, images, model=model, meta_cfg=meta_cfg)[0]


def reconstruct(params, images, upsample: int = 1, *, model, chunk: int,
                meta_cfg=None):
  """Each image [B, H, W, C] predicted on its full (upsampled) pixel grid."""
  latents = eval_latents(params, images, model=model, meta_cfg=meta_cfg)
  decode = functools.partial(model.apply, {"params": params}, method="decode")
  return evaluators.render(decode, latents, images.shape[1:-1],
                           upsample=upsample, chunk=chunk)


def inner_step_reconstructions(params, images, *, model, chunk: int,
                               meta_cfg):
  """[K + 1, B, H, W, C]: each image predicted after 0, 1, ..., K inner
  steps (IPC Fig. 7)."""
  return jnp.stack([
      reconstruct(params, images, model=model, chunk=chunk,
                  meta_cfg=dict(meta_cfg, inner_steps=k))
      for k in range(inner_steps(meta_cfg) + 1)])


def eval_metrics(params, images, *, model, chunk: int, meta_cfg=None):
  """Per-instance test metrics [B]: PSNR, the mean-colour baseline's, and
  for meta-learned models psnr_inner_k, the PSNR before inner step k."""
  latents, inner_mse = adapted_latents(params, images, model=model,
                                       meta_cfg=meta_cfg)
  decode = functools.partial(model.apply, {"params": params}, method="decode")
  pred = evaluators.render(decode, latents, images.shape[1:-1], chunk=chunk)
  metrics = evaluators.reconstruction_metrics(pred, images)
  for k in range(inner_steps(meta_cfg)):
    metrics[f"psnr_inner_{k}"] = losses.psnr_from_mse(inner_mse[:, k])
  return metrics


class Setup:
  """What both training and checkpoint evaluation build from a config."""

  def __init__(self, config: ml_collections.ConfigDict):
    self.config = config
    self.mesh = sharding.make_mesh(config.num_devices or None)
    self.model = models.build(config.model_name, config.model)
    self.tx, self.schedule = optim.make(config.optim, config.total_steps)
    size = config.input.image_size
    self.image_shape = (size, size, 3)
    init = functools.partial(init_state, model=self.model, tx=self.tx,
                             image_shape=self.image_shape)
    self.state_shape = jax.eval_shape(init, jax.random.key(config.seed))
    # Configs saved before FSDP existed have no "sharding".
    self.state_sharding = sharding.state_sharding(
        self.state_shape, self.mesh,
        **(config.sharding.to_dict() if "sharding" in config else {}))
    self.init = jax.jit(init, out_shardings=self.state_sharding)
    # Configs saved before meta-learning existed have no "meta".
    self.meta_cfg = meta_cfg = (config.meta.to_dict() if "meta" in config
                                else None)
    # (state, batch, rng) -> (state, metrics), to be jitted by the caller.
    self.train_step = functools.partial(
        train_step, model=self.model, tx=self.tx, schedule=self.schedule,
        jitter=config.train.coord_jitter,
        subsample=config.train.coord_subsample,
        meta_cfg=meta_cfg)
    self.eval_fn = jax.jit(functools.partial(  # (params, images) -> {: [B]}
        eval_metrics, model=self.model, chunk=config.eval_coord_chunk,
        meta_cfg=meta_cfg))
    recon = functools.partial(reconstruct, model=self.model,
                              chunk=config.eval_coord_chunk,
                              meta_cfg=meta_cfg)
    self.render_fn = jax.jit(recon, static_argnums=2,
                             out_shardings=sharding.replicated(self.mesh))
    self.inner_render_fn = jax.jit(functools.partial(
        inner_step_reconstructions, model=self.model,
        chunk=config.eval_coord_chunk, meta_cfg=meta_cfg),
        out_shardings=sharding.replicated(self.mesh))

  def evaluate(self, params, writer: utils.MetricWriter, step: int,
               workdir: str) -> dict[str, float]:
    """Test PSNR over the whole test split, logged, plus PNG grids."""
    cfg = self.config
    batches = input_pipeline.eval_batches(
        cfg.input, self.mesh, max_examples=cfg.eval_max_examples or None)
    scalars = evaluators.evaluate(self.eval_fn, params, batches)
    writer.write_scalars(step, scalars)
    logging.info("eval at step %d: PSNR %.2f dB (mean-colour baseline %.2f dB)"
                 " over %d test images", step, scalars["eval/psnr"],
                 scalars["eval/baseline_psnr"], scalars["eval/num_examples"])
    if inner_steps(self.meta_cfg):
      logging.info("eval PSNR before inner steps 0..%d: %s",
                   inner_steps(self.meta_cfg) - 1, " ".join(
                       f"{scalars[f'eval/psnr_inner_{k}']:.2f}"
                       for k in range(inner_steps(self.meta_cfg))))
    self.write_images(params, step, workdir)
    return scalars

  def write_images(self, params, step: int, workdir: str):
    """Targets over reconstructions at 1x, 2x and 3x, one PNG per factor;
    meta-learned models also get targets over the predictions after each
    inner step (inner_XXXXXXXX.png)."""
    images = input_pipeline.eval_sample(self.config.input,
                                        self.config.num_images)
    on_mesh = jax.device_put(images, sharding.replicated(self.mesh))
    grids = {}
    for factor in self.config.render_upsample:
      recon = jax.device_get(self.render_fn(params, on_mesh, factor))
      grids[f"recon_{step:08d}_x{factor}.png"] = [
          evaluators.upscale_nearest(images, factor), np.asarray(recon)]
    if inner_steps(self.meta_cfg):
      steps = jax.device_get(self.inner_render_fn(params, on_mesh))
      grids[f"inner_{step:08d}.png"] = [images, *np.asarray(steps)]
    if jax.process_index() == 0:
      for name, rows in grids.items():
        evaluators.save_grid(os.path.join(workdir, "images", name), rows)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str):
  """Trains (resuming from the workdir's latest checkpoint), then evaluates."""
  setup = Setup(config)
  mesh, cfg = setup.mesh, config
  logging.info("%d devices, mesh %s; model %s with %s parameters",
               jax.device_count(), dict(mesh.shape), cfg.model_name,
               f"{utils.count_params(setup.state_shape['params']):,}")
  # Opening the data first: a missing dataset fails before the workdir exists.
  train_iter = input_pipeline.TrainIterator(cfg.input, mesh, cfg.seed)
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

  repl = sharding.replicated(mesh)
  update_fn = jax.jit(setup.train_step, donate_argnums=0,
                      out_shardings=(setup.state_sharding, repl))
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
        logging.info(progress.line(step, rate, {
            k: scalars[k] for k in ("train/loss", "train/psnr")}))
      if step % cfg.ckpt_steps == 0 or last or stop:
        save(step, data_state)
      if stop:
        logging.warning("Preempted: stopped at step %d with a checkpoint; "
                        "run the same command to resume.", step)
        break
      if step % cfg.eval_steps == 0 or last:
        setup.evaluate(state["params"], writer, step, workdir)
  except KeyboardInterrupt:
    if step > (manager.latest_step() or 0):
      logging.warning("Interrupted at step %d: saving a checkpoint.", step)
      save(step, data_state)
    raise
  finally:
    preemption.close()
    manager.wait_until_finished()
    writer.close()
  return state


def evaluate_checkpoint(config: ml_collections.ConfigDict, workdir: str,
                        step: int | None = None) -> dict[str, float]:
  """Evaluates a saved checkpoint of `workdir` without training."""
  setup = Setup(config)
  manager = checkpoint.make_manager(
      workdir, checkpoint_dir=config.get("checkpoint_dir", ""))
  if manager.latest_step() is None:
    raise FileNotFoundError(f"No checkpoint in {manager.directory}; train "
                            "first with the same --workdir.")
  abstract = checkpoint.abstract_like(setup.state_shape, setup.state_sharding)
  state = checkpoint.restore(manager, abstract, step=step)
  writer = utils.MetricWriter(workdir)
  scalars = setup.evaluate(state["params"], writer,
                           int(jax.device_get(state["step"])), workdir)
  writer.close()
  if jax.process_index() == 0:
    print(json.dumps(scalars))
  return scalars


def load_workdir(workdir: str, config_path: str | None = None,
                 step: int | None = None):
  """(config, Setup, params) of a training workdir's checkpoint."""
  config_path = config_path or os.path.join(workdir, "config.json")
  if not os.path.exists(config_path):
    raise FileNotFoundError(
        f"No {config_path}: pass --workdir of a training run (it writes "
        "config.json) or --config=<config.json>.")
  with open(config_path) as f:
    config = ml_collections.ConfigDict(json.load(f))
  setup = Setup(config)
  manager = checkpoint.make_manager(
      workdir, checkpoint_dir=config.get("checkpoint_dir", ""))
  if manager.latest_step() is None:
    raise FileNotFoundError(f"No checkpoint in {manager.directory}.")
  abstract = checkpoint.abstract_like(setup.state_shape, setup.state_sharding)
  state = checkpoint.restore(manager, abstract, step=step)
  return config, setup, state["params"]
