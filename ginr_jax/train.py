"""Stage-1 trainer: a hypernetwork learns to predict INRs of signals.

Reads top to bottom: the pure training step, evaluation, the Setup that
builds them from a config (mesh, model, state from shapes), then training,
whose resume and guarded loop are `run_loop.py`'s (shared with the diffusion
trainer), and checkpoint evaluation. The step is a pure function `(state,
batch, rng) -> (state, metrics)` with the batch sharded on the mesh's "data"
axis and the state replicated, so it gives the same result on 1 or N
devices. The modality (images, audio, views; `tasks/`) decides what the
encoder reads, which coordinates a step supervises and how predictions are
made from the decoder; everything else is shared.
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

from ginr_jax import checks
from ginr_jax import coords as coords_lib
from ginr_jax import datasets
from ginr_jax import evaluators
from ginr_jax import input_pipeline
from ginr_jax import losses
from ginr_jax import meta
from ginr_jax import models
from ginr_jax import optim
from ginr_jax import run_loop
from ginr_jax import sharding
from ginr_jax import tasks
from ginr_jax import utils
from ginr_jax.tasks import signal
from ginr_jax.tasks import views


def init_state(rng: jax.Array, model, tx, task):
  """The train state {"step", "params", "opt"} for the task's inputs."""
  params = model.init({"params": rng}, *task.init_inputs())["params"]
  return {"step": jnp.zeros((), jnp.int32), "params": params,
          "opt": tx.init(params)}


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


def train_step(state, batch, rng, *, model, tx, schedule, task,
               meta_cfg=None):
  """One Adam step on a batch; returns (state, metrics)."""
  rng = jax.random.fold_in(rng, state["step"])
  rng_coords, rng_dropout, rng_inner, rng_render = jax.random.split(rng, 4)
  inputs = task.encoder_input(batch)
  coords, targets = task.train_inputs(rng_coords, batch, state["step"])
  inner_coords, inner_targets = coords, targets
  # Configs saved before the option existed have no "inner_subsample".
  inner_fraction = (meta_cfg or {}).get("inner_subsample", 1.0)
  if inner_steps(meta_cfg) and inner_fraction < 1.0:
    inner_coords, inner_targets = inner_subset(rng_inner, coords, targets,
                                               inner_fraction)

  def loss_fn(params):
    latents = model.apply({"params": params}, inputs, train=True,
                          rngs={"dropout": rng_dropout}, method="encode")
    latents, inner_mse = adapt(params, latents, inner_coords, inner_targets,
                               model=model, meta_cfg=meta_cfg)
    decode = functools.partial(model.apply, {"params": params},
                               method="decode")
    pred = task.predict(decode, latents, coords, rng_render)
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


def adapted_latents(params, batch, *, model, task, meta_cfg=None):
  """The latents of a test batch and the MSE before each inner step [B, K]
  (None without one): meta-learned models adapt them on each instance's
  whole signal."""
  latents = model.apply({"params": params}, task.encoder_input(batch),
                        method="encode")
  if not inner_steps(meta_cfg):
    return latents, None
  coords, targets = task.eval_inputs(batch)
  return adapt(params, latents, coords, targets, model=model,
               meta_cfg=meta_cfg, train=False)


def eval_latents(params, batch, *, model, task, meta_cfg=None):
  """The latents of a test batch, adapted by the inner loop if there is one."""
  return adapted_latents(params, batch, model=model, task=task,
                         meta_cfg=meta_cfg)[0]


def reconstruct(params, signals, upsample: int = 1, *, model, task, chunk: int,
                meta_cfg=None):
  """Signals [B, *spatial, C] of a grid task predicted on their full
  (upsampled) grid."""
  latents = eval_latents(params, {task.key: signals}, model=model, task=task,
                         meta_cfg=meta_cfg)
  decode = functools.partial(model.apply, {"params": params}, method="decode")
  return evaluators.render(decode, latents, signals.shape[1:-1],
                           upsample=upsample, chunk=chunk,
                           coord_range=task.coord_range)


def inner_step_reconstructions(params, signals, *, model, task, chunk: int,
                               meta_cfg):
  """[K + 1, B, *spatial, C]: each signal predicted after 0, 1, ..., K inner
  steps (IPC Fig. 7)."""
  return jnp.stack([
      reconstruct(params, signals, model=model, task=task, chunk=chunk,
                  meta_cfg=dict(meta_cfg, inner_steps=k))
      for k in range(inner_steps(meta_cfg) + 1)])


def render_all(params, latents, batch, *, model, task, chunk: int):
  """(predictions, targets) [B, N, C] on every coordinate of a test batch
  (unjittered), `chunk` coordinates at a time."""
  decode = functools.partial(model.apply, {"params": params}, method="decode")
  coords, targets = task.eval_inputs(batch)
  pred = evaluators.predict_chunked(
      lambda c: task.predict(decode, latents, c), coords, chunk)
  return pred, targets


def predict_all(params, batch, *, model, task, chunk: int, meta_cfg=None):
  """`render_all` from the batch's own (adapted) latents."""
  latents = eval_latents(params, batch, model=model, task=task,
                         meta_cfg=meta_cfg)
  return render_all(params, latents, batch, model=model, task=task,
                    chunk=chunk)


def eval_metrics(params, batch, *, model, task, chunk: int, meta_cfg=None):
  """Per-instance test metrics [B]: PSNR, the mean-colour baseline's, and
  for meta-learned models psnr_inner_k, the PSNR before inner step k."""
  latents, inner_mse = adapted_latents(params, batch, model=model, task=task,
                                       meta_cfg=meta_cfg)
  pred, targets = render_all(params, latents, batch, model=model, task=task,
                             chunk=chunk)
  metrics = evaluators.reconstruction_metrics(pred, targets)
  for k in range(inner_steps(meta_cfg)):
    metrics[f"psnr_inner_{k}"] = losses.psnr_from_mse(inner_mse[:, k])
  return metrics


class Setup:
  """What both training and checkpoint evaluation build from a config."""

  def __init__(self, config: ml_collections.ConfigDict):
    self.config = config
    self.mesh = sharding.make_mesh(config.num_devices or None)
    self.model = models.build(config.model_name, config.model)
    self.task = task = tasks.build(config)
    self.tx, self.schedule = optim.make(config.optim, config.total_steps)
    init = functools.partial(init_state, model=self.model, tx=self.tx,
                             task=task)
    self.state_shape = jax.eval_shape(init, jax.random.key(config.seed))
    # Configs saved before FSDP existed have no "sharding".
    self.state_sharding = sharding.state_sharding(
        self.state_shape, self.mesh,
        **(config.sharding.to_dict() if "sharding" in config else {}))
    self.init = jax.jit(init, out_shardings=self.state_sharding)
    # Configs saved before meta-learning existed have no "meta".
    self.meta_cfg = meta_cfg = (config.meta.to_dict() if "meta" in config
                                else None)
    if inner_steps(meta_cfg) and not isinstance(task, signal.Signal):
      raise ValueError("meta.inner_steps > 0: the inner loop adapts on "
                       "signals on a grid (images, audio), not on views.")
    kwargs = dict(model=self.model, task=task, meta_cfg=meta_cfg)
    chunk = config.eval_coord_chunk
    # (state, batch, rng) -> (state, metrics), to be jitted by the caller.
    self.train_step = functools.partial(
        train_step, tx=self.tx, schedule=self.schedule, **kwargs)
    self.eval_fn = jax.jit(functools.partial(  # (params, batch) -> {: [B]}
        eval_metrics, chunk=chunk, **kwargs))
    repl = sharding.replicated(self.mesh)
    self.predict_fn = jax.jit(functools.partial(
        predict_all, chunk=chunk, **kwargs), out_shardings=repl)
    if isinstance(task, signal.Signal):
      self.render_fn = jax.jit(functools.partial(
          reconstruct, chunk=chunk, **kwargs), static_argnums=2,
                               out_shardings=repl)
      self.inner_render_fn = jax.jit(functools.partial(
          inner_step_reconstructions, chunk=chunk, **kwargs),
                                     out_shardings=repl)

  def evaluate(self, params, writer: utils.MetricWriter, step: int,
               workdir: str) -> dict[str, float]:
    """Test PSNR over the whole test split, logged, plus the artefacts."""
    cfg = self.config
    batches = input_pipeline.eval_batches(
        cfg.input, self.mesh, max_examples=cfg.eval_max_examples or None)
    scalars = evaluators.evaluate(self.eval_fn, params, batches)
    writer.write_scalars(step, scalars)
    logging.info("eval at step %d: PSNR %.2f dB (mean-colour baseline %.2f dB)"
                 " over %d test instances", step, scalars["eval/psnr"],
                 scalars["eval/baseline_psnr"], scalars["eval/num_examples"])
    if inner_steps(self.meta_cfg):
      logging.info("eval PSNR before inner steps 0..%d: %s",
                   inner_steps(self.meta_cfg) - 1, " ".join(
                       f"{scalars[f'eval/psnr_inner_{k}']:.2f}"
                       for k in range(inner_steps(self.meta_cfg))))
    self.write_artefacts(params, step, workdir, writer)
    return scalars

  def write_artefacts(self, params, step: int, workdir: str,
                      writer: utils.MetricWriter | None = None):
    """Under WORKDIR/images (process 0 writes), and to TensorBoard when a
    `writer` is given: grids of images (and of meta-learning's inner steps)
    or of views with labelled rows, audio clips (WAV files and waveform
    plots)."""
    sample = input_pipeline.eval_sample(self.config.input,
                                        self.config.num_images)
    on_mesh = jax.device_put(sample, sharding.replicated(self.mesh))
    out_dir = os.path.join(workdir, "images")
    grids = {}    # file name: (TensorBoard tag, image)
    if isinstance(self.task, views.Views):
      pred, _ = jax.device_get(self.predict_fn(params, on_mesh))
      grids[f"views_{step:08d}.png"] = ("images/views", evaluators.views_grid(
          sample, np.asarray(pred).reshape(sample["query_image"].shape)))
    elif self.task.key == "audio":
      signals = sample[self.task.key]
      recon = np.asarray(jax.device_get(
          self.render_fn(params, on_mesh[self.task.key], 1)))
      if jax.process_index() == 0:
        evaluators.save_audio(os.path.join(out_dir, f"audio_{step:08d}"),
                              signals, recon)
      if writer:
        clips = {}
        for i, (target, pred) in enumerate(zip(signals, recon)):
          clips[f"audio/{i}/target"] = target[:, 0]
          clips[f"audio/{i}/reconstruction"] = pred[:, 0]
        writer.write_audio(step, clips, datasets.librispeech.SAMPLE_RATE)
    else:
      signals = sample[self.task.key]
      for factor in self.config.render_upsample:
        recon = jax.device_get(self.render_fn(params, on_mesh[self.task.key],
                                              factor))
        grids[f"recon_{step:08d}_x{factor}.png"] = (
            f"images/recon_x{factor}", evaluators.grid_canvas(
                [evaluators.upscale_nearest(signals, factor),
                 np.asarray(recon)],
                labels=("target", f"reconstruction x{factor}")))
      k = inner_steps(self.meta_cfg)
      if k:
        steps = jax.device_get(self.inner_render_fn(params,
                                                    on_mesh[self.task.key]))
        grids[f"inner_{step:08d}.png"] = (
            "images/inner_steps", evaluators.grid_canvas(
                [signals, *np.asarray(steps)], labels=("target", *(
                    f"{i} inner step{'' if i == 1 else 's'}"
                    for i in range(k + 1)))))
    if jax.process_index() == 0:
      for name, (_, image) in grids.items():
        evaluators.save_image(os.path.join(out_dir, name), image)
    if writer:
      writer.write_images(step, dict(grids.values()))


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str):
  """Trains (resuming from the workdir's latest checkpoint), then evaluates.

  Raises:
    cli.UserError: a bad config, a workdir that is a file, or a workdir
      trained with another config (`checks.check_same_run`).
  """
  checks.check_config(config)
  run_loop.check_resume(config, workdir)
  setup = Setup(config)
  logging.info("%d devices, mesh %s; model %s with %s parameters",
               jax.device_count(), dict(setup.mesh.shape), config.model_name,
               f"{utils.count_params(setup.state_shape['params']):,}")
  for table in utils.parameter_tables(setup.state_shape["params"]):
    logging.info("Parameters of %s", table)
  # Opening the data first: a missing dataset fails before the workdir exists.
  train_iter = input_pipeline.TrainIterator(config.input, setup.mesh,
                                            config.seed)

  def evaluate(state, writer, step):
    setup.evaluate(state["params"], writer, step, workdir)

  return run_loop.train(setup, train_iter, workdir, evaluate, "eval/")


def evaluate_checkpoint(config: ml_collections.ConfigDict | None,
                        workdir: str, step: int | None = None
                        ) -> dict[str, float]:
  """Evaluates a saved checkpoint of `workdir` without training.

  The metrics go to WORKDIR/eval_metrics.jsonl (and tensorboard/eval), apart
  from the training curve; nothing is created in a workdir without a
  checkpoint.

  Args:
    config: the config to evaluate with (it may differ from the workdir's in
      `checks.MAY_CHANGE`, e.g. eval_max_examples); None: the workdir's own.
    workdir: a training workdir.
    step: the checkpoint's step; None: the latest.

  Raises:
    cli.UserError: no such checkpoint or config.json, a workdir that is a
      file, or a config that does not match the workdir's.
  """
  checks.check_workdir(workdir)
  if config is None:
    config = checks.read_config(workdir)
  elif os.path.exists(checks.config_path(workdir)):
    checks.check_same_run(workdir, config, "evaluate")
  checks.check_config(config, training=False)
  setup, state = run_loop.restore(Setup, config, workdir, step)
  writer = utils.MetricWriter(workdir, "eval_metrics.jsonl",
                              tensorboard="tensorboard/eval")
  scalars = setup.evaluate(state["params"], writer,
                           int(jax.device_get(state["step"])), workdir)
  writer.close()
  if jax.process_index() == 0:
    print(json.dumps(scalars))
  return scalars


def load_workdir(workdir: str, config_path: str | None = None,
                 step: int | None = None):
  """(config, Setup, params) of a training workdir's checkpoint, with its
  config.json or the one at `config_path`."""
  config, setup, state = run_loop.load_workdir(Setup, workdir, config_path,
                                               step)
  return config, setup, state["params"]
