"""Helpers shared by configs/*.py: argument parsing, the model family a
config argument chooses (its arguments are its module's, ginr_jax/models/),
and the `:tiny` shrink that every config applies."""

import difflib

import ml_collections

from ginr_jax import cli
from ginr_jax import models
from ginr_jax.models import hyponet as hyponet_lib

# Compute dtype: fp32; bf16 (the transformer in bfloat16); bf16_all (also the
# hyponet of IPC / TransINR, or the only network of the meta-learned models).
# Parameters, optimizer state and the loss stay float32. "auto" (the default)
# is fp32 on CPUs, where bfloat16 is no faster (1.04x / 1.09x the fp32 step),
# and bf16 on accelerators (resolved for the backend when a run starts,
# train.set_precision): the fastest setting that lost nothing at 45 dB (README,
# Throughput: Mixed precision; IPC fitting 4 photos, trained and evaluated in
# each precision, seeds 0 / 1: fp32 45.11 / 44.18, bf16 46.11 / 44.00,
# bf16_all 45.91 / 43.64 dB) nor on the 24 dB demo (bf16_all lost 0.4 dB).
# The meta-learned models, without a transformer, stay fp32.
PRECISIONS = ("auto", "fp32", "bf16", "bf16_all")


def parse_arg(arg: str | None, *, extra_models: dict | None = None, **spec):
  """Parses "a=1,b,c=x" against defaults, big_vision style.

  A bare word sets a boolean option to True (e.g. "tiny"); otherwise it
  fills the first non-boolean option (e.g. "512" for res), unless it is a
  near miss of a boolean option's name (e.g. "tinyy"). Values are typed like
  their defaults, a tuple's as "a-b". Unknown keys and badly typed values
  fail naming the valid ones.

  A `model` option (its default the config's family) takes one of
  models.ENCODERS or of `extra_models` ({name: family}) and brings the model
  arguments: `precision` (PRECISIONS) and the chosen family's ARGS (its
  module), the given ones in the result's `model_args`. An argument of
  another family fails naming it.

  Raises:
    cli.ConfigError: an argument that is not understood.
  """
  known = dict(spec)
  owners = {}  # model argument -> the families that have it
  if "model" in spec:
    known["precision"] = "auto"
    for name in models.FAMILIES:
      for key, default in models.family(name).ARGS.items():
        owners.setdefault(key, []).append(name)
        known.setdefault(key, default)
  given = _parse(arg, known)
  values = {key: given.get(key, default) for key, default in spec.items()}
  if "model" not in spec:
    return ml_collections.ConfigDict(values)
  names = {**{name: name for name in models.ENCODERS}, **(extra_models or {})}
  if values["model"] not in names:
    raise cli.ConfigError(
        f"model={values['model']!r}; use one of {', '.join(sorted(names))}.")
  family = values["model"] = names[values["model"]]
  own = models.family(family).ARGS
  for key, value in given.items():
    if key in owners and key not in spec and key not in own:
      belongs = " or ".join(f"model={name}" for name in owners[key])
      raise cli.ConfigError(f"Config argument {key}={_shown(value)} "
                            f"applies to {belongs}, not model={family}.")
  values["precision"] = given.get("precision", "auto")
  if values["precision"] not in PRECISIONS:
    raise cli.ConfigError(f"precision={values['precision']!r}; use "
                          f"{', '.join(PRECISIONS)}.")
  values["model_args"] = {key: given[key] for key in own if key in given}
  return ml_collections.ConfigDict(values)


def _parse(arg: str | None, spec: dict) -> dict:
  """The options `arg` gives, typed like their defaults in `spec`."""
  values = {}
  positional = [k for k, v in spec.items() if not isinstance(v, bool)]
  switches = [k for k, v in spec.items() if isinstance(v, bool)]
  options = ", ".join(sorted(spec))
  for token in filter(None, (arg or "").split(",")):
    close = difflib.get_close_matches(token, switches, n=1, cutoff=0.75)
    if "=" in token:
      key, value = token.split("=", 1)
    elif token in switches:
      key, value = token, "True"
    elif positional and not close:
      key, value = positional[0], token
    else:
      hint = f"did you mean {close[0]!r}? " if close else ""
      raise cli.ConfigError(
          f"Config argument {token!r} not understood; {hint}options: {options}."
      )
    if key not in spec:
      close = difflib.get_close_matches(key, list(spec), n=1)
      hint = f"did you mean {close[0]!r}? " if close else ""
      raise cli.ConfigError(
          f"Unknown config argument {key!r}; {hint}options: {options}.")
    default = spec[key]
    if isinstance(default, bool):
      values[key] = value.lower() in ("1", "true", "yes")
      continue
    try:
      values[key] = (tuple(type(default[0])(v) for v in value.split("-"))
                     if isinstance(default, tuple) else type(default)(value))
    except ValueError:
      raise cli.ConfigError(
          f"Config argument {key}={value!r}: its default is "
          f"{_shown(default)!r}; give a value of that type.") from None
  return values


def _shown(value):
  """A value as a config argument gives it (a tuple as "a-b")."""
  return "-".join(map(str, value)) if isinstance(value, tuple) else value


def hyponet(ff_sigma: float = 128.0, hidden_dim: int = 256) -> dict:
  """The official 5-layer Fourier-feature MLP for RGB images."""
  return dict(input_dim=2, output_dim=3, hidden_dim=hidden_dim, n_layers=5,
              ff_dim=128, ff_sigma=ff_sigma, output_bias=0.5, dtype="float32")


def set_model(c: ml_collections.ConfigDict, arg: ml_collections.ConfigDict, *,
              ff_sigma: float, hidden_dim: int = 256, **defaults):
  """Sets c.model_name and c.model: the family `arg` chose, with its
  arguments and precision.

  Args:
    c: the config to modify.
    arg: parsed arguments with a `model` option (parse_arg).
    ff_sigma, hidden_dim: the data's Fourier-feature MLP (the hyponet of
      every family but LA-GINR).
    **defaults: this config's defaults of model arguments (e.g. LA-GINR's
      sigmas); each family takes those in its ARGS.
  """
  unknown = set(defaults).difference(
      *(models.family(name).ARGS for name in models.FAMILIES))
  if unknown:
    raise TypeError(f"set_model: {sorted(unknown)} are no model arguments.")
  own = models.family(arg.model).ARGS
  args = {
      **own, **{k: v for k, v in defaults.items() if k in own}, **arg.model_args
  }
  _configure(c, arg.model, args, hyponet(ff_sigma, hidden_dim), arg.precision)


def _configure(c, family: str, args: dict, mlp: dict, precision: str = "fp32"):
  """c.model_name and c.model of `family` in `precision` (PRECISIONS)."""
  module = models.family(family)
  c.model_name = family
  module.configure(c, args, mlp)
  m = c.model
  if precision == "auto":  # resolved for the backend by models.compute_dtype
    if "dtype" in m:
      m.dtype = "auto"
    return
  if precision == "bf16_all" and "hyponet" not in m:
    raise cli.ConfigError(f"precision=bf16_all: {module.NAME}'s decoder runs "
                          "in float32; use precision=bf16 (its transformer in "
                          "bfloat16).")
  if precision == "bf16" and "dtype" not in m:
    raise cli.ConfigError(f"precision=bf16: {module.NAME} has no "
                          "transformer; use precision=bf16_all (its hyponet "
                          "in bfloat16).")
  if precision != "fp32" and "dtype" in m:  # the transformer's
    m.dtype = "bfloat16"
  if precision == "bf16_all":
    m.hyponet.dtype = "bfloat16"


def set_signal(c: ml_collections.ConfigDict, *, input_dim: int, output_dim: int,
               output_bias: float, la_output_bias=None, **hyponet_kwargs):
  """Points the coordinate network of `c.model` at another modality.

  Args:
    c: a config whose model `set_model` has set.
    input_dim, output_dim: coordinate and output channels (audio 1 / 1,
      NeRF points 3 / 4, light-field rays 6 / 3).
    output_bias: constant added to the hyponet's output.
    la_output_bias: LA-GINR's (default: output_bias).
    **hyponet_kwargs: other HypoNet fields (n_layers, ff_dim, ff_sigma,
      fourier) for IPC and TransINR.
  """
  m = c.model
  if "hyponet" in m:
    m.hyponet.update(input_dim=input_dim, output_dim=output_dim,
                     output_bias=output_bias, **hyponet_kwargs)
    if "rank" in m:  # the official cap at the modulated layer's fan_out
      shapes = hyponet_lib.HypoNet(**m.hyponet).layer_shapes
      m.rank = min(m.rank, shapes[m.modulated_layer][1])
  else:
    m.decoder.update(
        input_dim=input_dim, output_dim=output_dim,
        output_bias=(output_bias if la_output_bias is None else la_output_bias))


def demo_model(c: ml_collections.ConfigDict, groups: int):
  """The demos' quarter-size models (set after `set_model`): MLP / decoder
  width 64, r = 64 weight or latent tokens (TransINR `groups` per layer), a
  3-block width-128 transformer without dropout."""
  m = c.model
  if "hyponet" in m:
    m.hyponet.hidden_dim = 64
  if "rank" in m:
    m.rank = 64
  if "groups" in m:
    m.groups = groups
  if "decoder" in m:
    m.num_latents = 64
    m.decoder.hidden_dim = m.decoder.freq_dim = 64
  if "width" in m:
    m.width, m.depth, m.num_heads, m.mlp_dim = 128, 3, 4, 256
    m.dropout = 0.0


def image_demo_recipe(c: ml_collections.ConfigDict):
  """The image demos' run (configs/demo.py, folder.py): 64 Fourier
  projections, Adam at 1e-3 for 3,000 steps, 16 images in the grids."""
  if "hyponet" in c.model:
    c.model.hyponet.ff_dim = 64
  c.optim.lr = 1e-3
  c.total_steps = 3000
  c.log_steps = 100
  c.ckpt_steps = 1000
  c.eval_steps = 1000
  c.num_images = 16


# data: (Fourier sigma, training images) of the official meta-learning configs.
_META_DATA = {"imagenette": (128.0, 9469), "ffhq256": (64.0, 60_000)}


def meta_learning_config(arg: ml_collections.ConfigDict, *, model: str,
                         inner_lr: dict, outer_lr: dict, epochs: dict,
                         norm_scaled: bool = True) -> ml_collections.ConfigDict:
  """Data, model, inner loop and schedule of the official meta configs
  (docs/faithfulness.md#meta-learning).

  Args:
    arg: parsed arguments with data, epochs, first_order, remat and
      inner_subsample.
    model: the family (models.META_LEARNED).
    inner_lr, outer_lr, epochs: per-data values (keys of _META_DATA).
    norm_scaled: the norm-scaled inner step.
  """
  if arg.data not in _META_DATA:
    raise cli.ConfigError(
        f"data={arg.data!r}; use one of {sorted(_META_DATA)}.")
  sigma, train_images = _META_DATA[arg.data]
  c = base_config()
  _configure(c, model, {}, hyponet(ff_sigma=sigma))
  if arg.data == "imagenette":
    c.input.name = "imagenette"
  else:
    c.input.name = "ffhq"
    c.input.kwargs = dict(train_list="", test_list="")
    c.input.image_size = 256
  set_input_workers(c)
  if not 0.0 < arg.inner_subsample <= 1.0:
    raise cli.ConfigError(f"inner_subsample={arg.inner_subsample}: the "
                          "fraction of coordinates the inner loop sees, in "
                          "(0, 1].")
  c.meta.update(inner_steps=2, inner_lr=inner_lr[arg.data],
                norm_scaled=norm_scaled, first_order=arg.first_order,
                remat=arg.remat, inner_subsample=arg.inner_subsample)
  c.optim.lr = outer_lr[arg.data]
  steps_per_epoch = train_images // c.input.batch_size
  if arg.data == "ffhq256":  # half an epoch of linear warm-up from 0
    c.optim.warmup_steps = steps_per_epoch // 2
  c.total_steps = (arg.epochs or epochs[arg.data]) * steps_per_epoch
  c.ckpt_steps = 10_000
  c.eval_steps = 50_000
  return c


def base_config() -> ml_collections.ConfigDict:
  """IPC with the official transformer hypernetwork on 178x178 images."""
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.num_devices = 0  # devices on the "data" mesh axis; 0: all
  # Parameters and optimizer state: "data_parallel" (replicated) or "fsdp"
  # (sharded over the devices by `rules`, then by size; see sharding.py).
  c.sharding = dict(strategy="data_parallel", min_size=2**14, rules=())
  _configure(c, "ipc", models.family("ipc").ARGS, hyponet())
  # name: a dataset of ginr_jax/datasets; kwargs: its extra options; augment:
  # use its training augmentation (random crop + flip where it has one);
  # skip_bad_files: replace an unreadable image file by the next readable one
  # (each logged) instead of stopping the run with its name. num_workers:
  # grain worker processes making the training batches, capped at the host's
  # cores less one (0: none, in the training process); num_threads: the
  # threads making them in that process or in each worker.
  c.input = dict(name="", data_dir="data", image_size=178, batch_size=16,
                 eval_batch_size=16, augment=True, num_threads=8, num_workers=0,
                 kwargs={}, skip_bad_files=False)
  # The modality (ginr_jax/tasks): "signal" (images; audio with key="audio")
  # or "views" (novel view synthesis).
  c.task = dict(name="signal", key="image", coord_range=1.0)
  c.train = dict(coord_jitter=False, coord_subsample=1.0)
  # Optimization-based meta-learning (meta.py): inner SGD steps on each
  # instance's latents before the outer loss; 0 steps: none. inner_subsample:
  # the fraction of the training coordinates the inner loop sees in training
  # (1.0, the official: all of them); evaluation always adapts on all.
  c.meta = dict(inner_steps=0, inner_lr=0.0, norm_scaled=True,
                first_order=False, remat=False, inner_subsample=1.0)
  set_optim_and_loop(c, eval_steps=20_000)
  c.eval_max_examples = 0  # 0: the whole test split
  c.eval_coord_chunk = 65536
  c.num_images = 8
  c.render_upsample = (1, 2, 3)
  return c


def set_optim_and_loop(c: ml_collections.ConfigDict, eval_steps: int):
  """The optimizer and the training loop's lengths of both stages (the
  diffusion stage's too, diffusion/defaults.py)."""
  # Adam (0.9, 0.999) at 1e-4, constant, no warm-up, no weight decay: the
  # official recipe. Other schedules: optim.py.
  c.optim = dict(name="adam", lr=1e-4, b1=0.9, b2=0.999, weight_decay=0.0,
                 schedule="constant", warmup_steps=0, min_lr=0.0,
                 decay_factor=0.1, decay_at=(0.8,), grad_clip_norm=0.0)
  c.total_steps = 100_000
  c.log_steps = 100
  c.ckpt_steps = 5_000
  c.eval_steps = eval_steps
  c.keep_checkpoints = 2
  c.checkpoint_dir = ""  # "": WORKDIR/checkpoints; gs://... for pods
  # Steps to record in a jax.profiler trace in WORKDIR/profile (TensorBoard's
  # profile plugin opens it), starting after the process's first step, which
  # compiles; 0: none.
  c.profile_steps = 0


# Worker processes making the training batches of a folder dataset, for a
# 16-core accelerator host (README, Throughput: Input pipeline; fewer where
# the host has fewer cores, `input_pipeline.worker_count`). ImageNette: 2,000
# images/s at the ~650 images/s per core measured, with a third to spare.
# FFHQ: its 1024-px PNGs decode at ~28 images/s per core, so every core but
# two (the training process's) and still well short of 2,000 images/s.
INPUT_WORKERS = {"imagenette": 4, "ffhq": 14}


def set_input_workers(c: ml_collections.ConfigDict):
  """`INPUT_WORKERS` of the config's dataset, one thread each: a worker makes
  whole batches, so its threads would only add batches in flight."""
  c.input.num_workers = INPUT_WORKERS[c.input.name]
  c.input.num_threads = 1


def image_dataset_config(arg: str | None, name: str, **tfds_kwargs):
  """(arg, base config) of a folder dataset's config file that TFDS can
  serve too (ImageNette, CelebA): the arguments tiny, source (folder or
  tfds: `tfds_kwargs`, `set_tfds_source`'s), epochs and model."""
  arg = parse_arg(arg, tiny=False, source="folder", epochs=0, model="ipc")
  c = base_config()
  c.input.name = name
  if arg.source == "tfds":
    set_tfds_source(c, **tfds_kwargs)
  return arg, c


def set_tfds_source(c: ml_collections.ConfigDict, **kwargs):
  """Reads the images from a prepared TFDS dataset in TFDS's default
  data_dir; kwargs: `datasets/images.py`'s `make_tfds`'s (tfds_name ...)."""
  c.input.name = "tfds"
  c.input.data_dir = ""
  c.input.kwargs = kwargs


def set_length(c: ml_collections.ConfigDict, epochs: int, train_examples: int,
               eval_steps: int):
  """`epochs` passes over `train_examples` at the config's batch size,
  a checkpoint every 10,000 steps and an evaluation every `eval_steps`."""
  c.total_steps = epochs * train_examples // c.input.batch_size
  c.ckpt_steps = 10_000
  c.eval_steps = eval_steps


def shrink_for_tiny(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Same code path, tiny sizes and generated data: trains in seconds on CPU.

  The patch geometry (size and padding) is kept; an image (a view, a clip)
  becomes two patches wide.
  """
  m = c.model
  side = 2 * m.patch_size - 2 * m.patch_padding if "patch_size" in m else 16
  if c.task.name == "views":
    c.input.name = "scenes"
    c.input.kwargs = dict(n_support=c.input.kwargs.n_support, train_objects=8,
                          test_objects=8, num_views=30)
    c.input.image_size = side
    c.task.num_rays = 32
    c.task.num_points = 8
    c.task.adaptive_steps = min(c.task.adaptive_steps, 2)
  elif c.task.key == "audio":
    c.input.name = "synthetic_audio"
    c.input.kwargs = dict(seconds=side / 16_000)
  else:
    c.input.name = "synthetic"
    c.input.kwargs = {}
    c.input.image_size = side
  c.input.batch_size = c.input.eval_batch_size = 8
  c.input.num_threads = 2
  c.input.num_workers = 0
  if "hyponet" in m:
    m.hyponet.hidden_dim = 16
    # ff_dim is a multiple of the coordinate dimension (NeRF points: 3).
    m.hyponet.ff_dim = 8 if m.hyponet.input_dim <= 2 else 12
  models.family(c.model_name).tiny(m)
  if "width" in m:
    m.width, m.depth, m.num_heads, m.mlp_dim = 16, 1, 2, 32
  c.total_steps = 3
  c.optim.warmup_steps = min(c.optim.warmup_steps, 2)
  c.log_steps = 1
  c.ckpt_steps = 2
  c.eval_steps = 3
  c.eval_max_examples = 8
  c.num_images = 4
  # Each factor compiles a renderer: one upsampled grid shows the path.
  c.render_upsample = tuple(f for f in c.render_upsample if f <= 2)
  return c
