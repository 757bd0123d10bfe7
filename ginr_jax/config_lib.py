"""Helpers shared by configs/*.py: argument parsing, the IPC model defaults
and the `:tiny` shrink that every config applies."""

import ml_collections


def parse_arg(arg: str | None, **spec):
  """Parses "a=1,b,c=x" against defaults, big_vision style.

  A bare word sets a boolean option to True (e.g. "tiny"); otherwise it
  fills the first non-boolean option (e.g. "512" for res). Values are typed
  like their defaults. Unknown keys fail naming the valid ones.
  """
  values = dict(spec)
  positional = [k for k, v in spec.items() if not isinstance(v, bool)]
  for token in filter(None, (arg or "").split(",")):
    if "=" in token:
      key, value = token.split("=", 1)
    elif isinstance(spec.get(token), bool):
      key, value = token, "True"
    elif positional:
      key, value = positional[0], token
    else:
      raise ValueError(f"Config argument {token!r} not understood; options: "
                       f"{sorted(spec)}.")
    if key not in spec:
      raise ValueError(f"Unknown config argument {key!r}; options: "
                       f"{sorted(spec)}.")
    default = spec[key]
    if isinstance(default, bool):
      values[key] = value.lower() in ("1", "true", "yes")
    else:
      values[key] = type(default)(value)
  return ml_collections.ConfigDict(values)


def base_config() -> ml_collections.ConfigDict:
  """IPC with the official transformer hypernetwork on 178x178 images."""
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.num_devices = 0            # devices on the "data" mesh axis; 0: all
  c.model_name = "ipc"
  c.model = dict(
      hyponet=dict(input_dim=2, output_dim=3, hidden_dim=256, n_layers=5,
                   ff_dim=128, ff_sigma=128.0, output_bias=0.5),
      patch_size=9, patch_padding=1,     # 178 -> 180 -> 20x20 = 400 tokens
      rank=256, modulated_layer=1,
      width=768, depth=6, num_heads=12, mlp_dim=3072, dropout=0.1)
  # name: a dataset of ginr_jax/datasets; kwargs: its extra options; augment:
  # use its training augmentation (random crop + flip where it has one).
  c.input = dict(name="", data_dir="data", image_size=178, batch_size=16,
                 eval_batch_size=16, augment=True, num_threads=8, kwargs={})
  c.train = dict(coord_jitter=False, coord_subsample=1.0)
  # Adam 1e-4, constant: the official recipe. Other schedules: optim.py.
  c.optim = dict(name="adam", lr=1e-4, b1=0.9, b2=0.999, weight_decay=0.0,
                 schedule="constant", warmup_steps=0, min_lr=0.0,
                 decay_factor=0.1, decay_at=(0.8,), grad_clip_norm=0.0)
  c.total_steps = 100_000
  c.log_steps = 100
  c.ckpt_steps = 5_000
  c.eval_steps = 20_000
  c.keep_checkpoints = 2
  c.eval_max_examples = 0      # 0: the whole test split
  c.eval_coord_chunk = 65536
  c.num_images = 8
  c.render_upsample = (1, 2, 3)
  return c


def shrink_for_tiny(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Same code path, tiny sizes and generated data: trains in seconds on CPU.

  The patch geometry (size and padding) is kept; the image becomes two
  patches wide.
  """
  m = c.model
  c.input.name = "synthetic"
  c.input.kwargs = {}
  c.input.image_size = 2 * m.patch_size - 2 * m.patch_padding
  c.input.batch_size = c.input.eval_batch_size = 8
  c.input.num_threads = 2
  m.hyponet.hidden_dim = 16
  m.hyponet.ff_dim = 8
  m.rank = 8
  m.width, m.depth, m.num_heads, m.mlp_dim = 16, 1, 2, 32
  c.total_steps = 3
  c.log_steps = 1
  c.ckpt_steps = 2
  c.eval_steps = 3
  c.eval_max_examples = 8
  c.num_images = 4
  return c
