"""Stage-1 trainer: a hypernetwork learns to predict INRs of signals.

Reads top to bottom: the pure training step and the inner loop of
meta-learned models, evaluation (`encode`: the latents of a batch;
`predict`: their predictions at any coordinates), the Setup that builds
them from a config (mesh, model, state from shapes, the jitted functions),
then training, whose resume and guarded loop are `run_loop.py`'s (shared
with the diffusion trainer), and checkpoint evaluation. The step is a pure
function `(state, batch, rng) -> (state, metrics)` with the batch sharded on
the mesh's "data" axis and the state replicated, so it gives the same result
on 1 or N devices. The modality (images, audio, views; `tasks/`) decides
what the encoder reads, which coordinates a step supervises, how predictions
are made from the decoder and which artefacts show them; everything else is
shared.
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
from ginr_jax import config_lib
from ginr_jax import coords as coords_lib
from ginr_jax import evaluators
from ginr_jax import input_pipeline
from ginr_jax import losses
from ginr_jax import meta as meta_lib
from ginr_jax import models
from ginr_jax import optim
from ginr_jax import run_loop
from ginr_jax import sharding
from ginr_jax import tasks
from ginr_jax import utils
from ginr_jax.tasks import signal


def init_state(rng: jax.Array, model, tx, task):
  """The train state {"step", "params", "opt"} for the task's inputs."""
  params = model.init({"params": rng}, *task.init_inputs())["params"]
  return {
      "step": jnp.zeros((), jnp.int32), "params": params, "opt": tx.init(params)
  }


def train_step(state, batch, rng, *, model, tx, schedule, task, meta):
  """One Adam step on a batch; returns (state, metrics).

  `meta` is the config's section: meta-learned models adapt the latents by
  meta["inner_steps"] inner steps (`adapt`) before the loss.
  """
  rng = jax.random.fold_in(rng, state["step"])
  rng_coords, rng_dropout, rng_inner, rng_render = jax.random.split(rng, 4)
  inputs = task.encoder_input(batch)
  coords, targets = task.train_inputs(rng_coords, batch, state["step"])
  inner_coords, inner_targets = coords, targets
  if meta["inner_steps"] and meta["inner_subsample"] < 1.0:
    inner_coords, inner_targets = coords_lib.subsample(rng_inner, coords,
                                                       targets,
                                                       meta["inner_subsample"])

  def loss_fn(params):
    latents = model.apply({"params": params}, inputs, train=True,
                          rngs={"dropout": rng_dropout}, method="encode")
    latents, inner_mse = adapt(params, latents, inner_coords, inner_targets,
                               meta["inner_steps"], model=model, meta=meta)
    decode = functools.partial(model.apply, {"params": params}, method="decode")
    pred = task.predict(decode, latents, coords, rng_render)
    loss, psnr = losses.mse_and_psnr(pred, targets)
    return loss, (psnr, inner_mse)

  (loss, (psnr,
          inner_mse)), grads = jax.value_and_grad(loss_fn,
                                                  has_aux=True)(state["params"])
  updates, opt = tx.update(grads, state["opt"], state["params"])
  params = optax.apply_updates(state["params"], updates)
  metrics = {
      "train/loss": loss, "train/psnr": psnr,
      "train/l2_grads": utils.l2_norm(grads),
      "train/l2_params": utils.l2_norm(params),
      "train/l2_updates": utils.l2_norm(updates),
      "train/lr": schedule(state["step"])
  }
  for k in range(meta["inner_steps"]):  # before inner step k (0: V_0)
    metrics[f"train/psnr_inner_{k}"] = jnp.mean(
        losses.psnr_from_mse(inner_mse[:, k]))
  return {"step": state["step"] + 1, "params": params, "opt": opt}, metrics


def adapt(params, latents, coords, targets, steps: int, *, model, meta,
          train: bool = True):
  """The inner loop of optimization-based meta-learning (`meta.py`).

  Returns the latents after `steps` steps on (coords, targets) and each
  step's starting MSE [B, steps]; 0 steps: the latents and None.
  """
  if not steps:
    return latents, None
  decode = functools.partial(model.apply, {"params": params}, method="decode")
  return meta_lib.adapt_batch(
      decode,
      latents,
      coords,
      targets,
      steps=steps,
      lr=meta["inner_lr"],
      norm_scaled=meta["norm_scaled"],
      # Evaluation needs no meta-gradient (the official eval is first-order).
      first_order=meta["first_order"] or not train,
      remat=meta["remat"])


def encode(params, batch, *, model, task, meta, inner_steps: int | None = None):
  """The latents of a test batch and {"psnr_inner_k": [B]}, the PSNR
  before inner step k: meta-learned models adapt the latents on each
  instance's whole signal, by `inner_steps` steps (None: meta's)."""
  latents = model.apply({"params": params}, task.encoder_input(batch),
                        method="encode")
  steps = meta["inner_steps"] if inner_steps is None else inner_steps
  if not steps:
    return latents, {}
  coords, targets = task.eval_inputs(batch)
  latents, inner_mse = adapt(params, latents, coords, targets, steps,
                             model=model, meta=meta, train=False)
  return latents, {
      f"psnr_inner_{k}": losses.psnr_from_mse(inner_mse[:, k])
      for k in range(steps)
  }


def predict(params, latents, coords, *, model, task, chunk: int):
  """Predictions [B, N, C] of latents at coordinates [N, D] shared by the
  batch or [B, N, D] (rays), unjittered, `chunk` coordinates at a time."""
  decode = functools.partial(model.apply, {"params": params}, method="decode")
  return evaluators.predict_chunked(lambda c: task.predict(decode, latents, c),
                                    coords, chunk)


class Setup:
  """What both training and checkpoint evaluation build from a config."""

  def __init__(self, config: ml_collections.ConfigDict):
    checks.check_sections(config, config_lib.base_config())
    self.config = config
    self.mesh = sharding.make_mesh(config.num_devices or None)
    self.model = models.build(config.model_name, config.model)
    self.task = task = tasks.build(config)
    self.tx, self.schedule = optim.make(config.optim, config.total_steps)
    init = functools.partial(init_state, model=self.model, tx=self.tx,
                             task=task)
    self.state_shape = jax.eval_shape(init, jax.random.key(config.seed))
    self.state_sharding = sharding.state_sharding(self.state_shape, self.mesh,
                                                  **config.sharding.to_dict())
    self.init = jax.jit(init, out_shardings=self.state_sharding)
    self.meta = meta = config.meta.to_dict()
    if meta["inner_steps"] and not isinstance(task, signal.Signal):
      raise ValueError("meta.inner_steps > 0: the inner loop adapts on "
                       "signals on a grid (images, audio), not on views.")
    model_task = dict(model=self.model, task=task)
    # (state, batch, rng) -> (state, metrics), to be jitted by the caller.
    self.train_step = functools.partial(train_step, tx=self.tx,
                                        schedule=self.schedule, meta=meta,
                                        **model_task)
    # Evaluation, jitted: metrics_fn(params, batch) -> {name: [B]};
    # encode_fn(params, batch, inner_steps=None) -> (latents, {name: [B]});
    # predict_fn(params, latents, coords) -> [B, N, C].
    self.metrics_fn = jax.jit(self.metrics)
    self.encode_fn = jax.jit(functools.partial(encode, meta=meta, **model_task),
                             static_argnames="inner_steps")
    self.predict_fn = jax.jit(
        functools.partial(predict, chunk=config.eval_coord_chunk, **model_task),
        out_shardings=sharding.replicated(self.mesh))

  def metrics(self, params, batch) -> dict[str, jax.Array]:
    """Per-instance test metrics [B]: PSNR, the mean-colour baseline's, and
    for meta-learned models psnr_inner_k, the PSNR before inner step k."""
    latents, inner_psnr = encode(params, batch, model=self.model,
                                 task=self.task, meta=self.meta)
    coords, targets = self.task.eval_inputs(batch)
    pred = predict(params, latents, coords, model=self.model, task=self.task,
                   chunk=self.config.eval_coord_chunk)
    return {**evaluators.reconstruction_metrics(pred, targets), **inner_psnr}

  def evaluate(self, params, writer: utils.MetricWriter, step: int,
               workdir: str) -> dict[str, float]:
    """Test PSNR over the whole test split, logged, plus the artefacts."""
    cfg = self.config
    batches = input_pipeline.eval_batches(
        cfg.input, self.mesh, max_examples=cfg.eval_max_examples or None)
    scalars = evaluators.evaluate(self.metrics_fn, params, batches)
    writer.write_scalars(step, scalars)
    logging.info(
        "eval at step %d: PSNR %.2f dB (mean-colour baseline %.2f dB)"
        " over %d test instances", step, scalars["eval/psnr"],
        scalars["eval/baseline_psnr"], scalars["eval/num_examples"])
    if self.meta["inner_steps"]:
      logging.info(
          "eval PSNR before inner steps 0..%d: %s",
          self.meta["inner_steps"] - 1,
          " ".join(f"{scalars[f'eval/psnr_inner_{k}']:.2f}"
                   for k in range(self.meta["inner_steps"])))
    self.write_artefacts(params, step, workdir, writer)
    return scalars

  def write_artefacts(self, params, step: int, workdir: str,
                      writer: utils.MetricWriter | None = None):
    """The task's artefacts of `num_images` test instances (e.g.
    `Signal.write_artefacts`) under WORKDIR/images, and to TensorBoard when
    a `writer` is given."""
    sample = input_pipeline.eval_sample(self.config.input,
                                        self.config.num_images)
    replicated = sharding.replicated(self.mesh)
    batch = jax.device_put(sample, replicated)

    def encode_sample(inner_steps=None):
      return self.encode_fn(params, batch, inner_steps=inner_steps)[0]

    def predict_at(latents, coords):
      coords = jax.device_put(np.asarray(coords), replicated)
      return jax.device_get(self.predict_fn(params, latents, coords))

    self.task.write_artefacts(
        sample, encode_sample, predict_at,
        evaluators.Output(os.path.join(workdir, "images"), step,
                          writer), upsample=self.config.render_upsample,
        inner_steps=self.meta["inner_steps"])


def set_precision(config: ml_collections.ConfigDict,
                  trained: ml_collections.ConfigDict | None = None):
  """Replaces the transformer's compute dtype "auto" (precision=auto) by the
  `trained` model config's, else by this backend's, so that a workdir's
  config.json records, and evaluation uses, the precision the model was
  trained in (a model trained in bfloat16 scores lower evaluated in float32:
  README, Throughput: Mixed precision)."""
  if config.model.get("dtype") == "auto":
    config.model.dtype = (trained.dtype if trained is not None else
                          models.compute_dtype("auto"))


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str):
  """Trains (resuming from the workdir's latest checkpoint), then evaluates.

  Raises:
    cli.UserError: a bad config, a workdir that is a file, or a workdir
      trained with another config (`checks.check_same_run`).
  """
  checks.check_config(config)
  run_loop.check_resume(config, workdir)
  set_precision(config)
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

  try:
    return run_loop.train(setup, train_iter, workdir, evaluate, "eval/")
  finally:
    train_iter.close()  # its worker processes, if any


def evaluate_checkpoint(config: ml_collections.ConfigDict | None, workdir: str,
                        step: int | None = None) -> dict[str, float]:
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
    set_precision(config, checks.read_config(workdir).model)
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
