r"""ShapeNet novel view synthesis with 1-5 support views: IPC and TransINR
with volume rendering (IPC §4.3, App. A.3), LA-GINR with light fields
(LA-GINR §4.2, App. A.2).

  python -m ginr_jax.cli.main --config=configs/shapenet.py:lamps,views=2 \
      --workdir=workdirs/lamps2_ipc
  python -m ginr_jax.cli.main --config=configs/shapenet.py:cars,model=la_ginr \
      --workdir=workdirs/cars1_la_ginr
  # IPC Table 5, test-time optimisation (100 steps) of V or all weights:
  python -m ginr_jax.cli.tto --workdir=workdirs/lamps2_ipc --what=latents \
      --what=all --steps=100 --lr=1e-4

Data: learnit's ShapeNet renders (README, Data), 128x128 views composited
on white; support and query views drawn without replacement, in training
from the first 25 views; test = every test object 100 times with random
support / query draws of all views, the same draws at every evaluation.
`data=scenes` swaps in generated objects (datasets/scenes.py).

Official recipe (`docs/faithfulness.md#rendering` and `#recipes`): each
support view's 9-channel pixels (RGB, ray origin, unnormalised direction) in
8x8 patches, 256 tokens per view concatenated over the views, the 6-block
width-768 transformer; the NeRF hyponet with 6 layers of d = 256 on 3-D
points (no view direction), Fourier features 2**linspace(0, 8, 20) per axis
without pi, output (RGB logits, density) with bias 0; 128 stratified samples
per ray in [2, 6], ReLU density, sigmoid colour, white background, one pass;
128 query rays per object and step, foreground-weighted ("adaptive") for the
first 2 epochs (the official end_epoch 1, epochs 0 and 1); batch 32, Adam
1e-4 constant; IPC r = 256 on layer 2, TransINR 32 groups (164 tokens); 1000
epochs (lamps 400) with train repeats cars 2, chairs 1, lamps 3. Test views
are rendered 1024 rays at a time, unjittered.
LA-GINR (App. A.2): pixels carry RGB and their ray's Plücker coordinates,
the decoder maps 6-D Plücker rays to RGB directly (d_in = 6, d_out = 3),
(sigma_1, sigma_2, sigma_q) = (8, 4, 2), d = d_F = 256 (21 frequencies per
axis: 252 features), R = 256, 1000 epochs (lamps 500). Choices the paper
leaves open: 2 heads and the output bias 0.5 as its images, 128 rays per
object with the same adaptive sampling as IPC, RGB before the Plücker
channels.

Paper rows (argument: the paper's table, data: its test PSNR; from PAPER_ROWS,
written here by `python -m ginr_jax.cli.paper_rows`):
  cars,views=1                   IPC Table 4, ShapeNet Cars: 24.18 dB
  cars,views=1,model=transinr    IPC Table 4, ShapeNet Cars: 24.18 dB
  cars,views=1,model=la_ginr     LA-GINR Fig. 4a, ShapeNet Cars: curve only
  cars,views=2                   IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=2,model=transinr    IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=2,model=la_ginr     LA-GINR Fig. 4a, ShapeNet Cars: curve only
  cars,views=3                   IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=3,model=transinr    IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=3,model=la_ginr     LA-GINR Fig. 4a, ShapeNet Cars: curve only
  cars,views=4                   IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=4,model=transinr    IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=4,model=la_ginr     LA-GINR Fig. 4a, ShapeNet Cars: curve only
  cars,views=5                   IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=5,model=transinr    IPC Fig. 5, ShapeNet Cars: curve only
  cars,views=5,model=la_ginr     LA-GINR Fig. 4a, ShapeNet Cars: curve only
  chairs,views=1                 IPC Table 4, ShapeNet Chairs: 19.30 dB
  chairs,views=1,model=transinr  IPC Table 4, ShapeNet Chairs: 19.05 dB
  chairs,views=1,model=la_ginr   LA-GINR Fig. 4a, ShapeNet Chairs: curve only
  chairs,views=2                 IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=2,model=transinr  IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=2,model=la_ginr   LA-GINR Fig. 4a, ShapeNet Chairs: curve only
  chairs,views=3                 IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=3,model=transinr  IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=3,model=la_ginr   LA-GINR Fig. 4a, ShapeNet Chairs: curve only
  chairs,views=4                 IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=4,model=transinr  IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=4,model=la_ginr   LA-GINR Fig. 4a, ShapeNet Chairs: curve only
  chairs,views=5                 IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=5,model=transinr  IPC Fig. 5, ShapeNet Chairs: curve only
  chairs,views=5,model=la_ginr   LA-GINR Fig. 4a, ShapeNet Chairs: curve only
  lamps,views=1                  IPC Table 4, ShapeNet Lamps: 23.41 dB
  lamps,views=1                  IPC Table 5, ShapeNet Lamps: 23.40 dB
  lamps,views=1                  IPC Table 5, ShapeNet Lamps: 25.47 dB; after
                                 TTO of V: ginr_jax.cli.tto --what=latents
                                 --steps=100
  lamps,views=1                  IPC Table 5, ShapeNet Lamps: 25.40 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=1,model=transinr   IPC Table 4, ShapeNet Lamps: 22.89 dB
  lamps,views=1,model=transinr   IPC Table 5, ShapeNet Lamps: 22.99 dB
  lamps,views=1,model=transinr   IPC Table 5, ShapeNet Lamps: 25.13 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=1,model=la_ginr    LA-GINR Fig. 4a, ShapeNet Lamps: curve only
  lamps,views=2                  IPC Table 5, ShapeNet Lamps: 24.33 dB
  lamps,views=2                  IPC Table 5, ShapeNet Lamps: 27.53 dB; after
                                 TTO of V: ginr_jax.cli.tto --what=latents
                                 --steps=100
  lamps,views=2                  IPC Table 5, ShapeNet Lamps: 27.57 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=2                  IPC Table 6, ShapeNet Lamps: 24.44 dB; W = U
                                 V(n)
  lamps,views=2,model=transinr   IPC Table 5, ShapeNet Lamps: 24.06 dB
  lamps,views=2,model=transinr   IPC Table 5, ShapeNet Lamps: 27.28 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=2,model=la_ginr    LA-GINR Fig. 4a, ShapeNet Lamps: curve only
  lamps,views=3                  IPC Table 5, ShapeNet Lamps: 24.62 dB
  lamps,views=3                  IPC Table 5, ShapeNet Lamps: 28.34 dB; after
                                 TTO of V: ginr_jax.cli.tto --what=latents
                                 --steps=100
  lamps,views=3                  IPC Table 5, ShapeNet Lamps: 28.40 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=3,model=transinr   IPC Table 5, ShapeNet Lamps: 24.41 dB
  lamps,views=3,model=transinr   IPC Table 5, ShapeNet Lamps: 28.09 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=3,model=la_ginr    LA-GINR Fig. 4a, ShapeNet Lamps: curve only
  lamps,views=4                  IPC Table 5, ShapeNet Lamps: 26.05 dB
  lamps,views=4                  IPC Table 5, ShapeNet Lamps: 29.52 dB; after
                                 TTO of V: ginr_jax.cli.tto --what=latents
                                 --steps=100
  lamps,views=4                  IPC Table 5, ShapeNet Lamps: 29.43 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=4,model=transinr   IPC Table 5, ShapeNet Lamps: 24.77 dB
  lamps,views=4,model=transinr   IPC Table 5, ShapeNet Lamps: 28.56 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=4,model=la_ginr    LA-GINR Fig. 4a, ShapeNet Lamps: curve only
  lamps,views=5                  IPC Table 5, ShapeNet Lamps: 26.79 dB
  lamps,views=5                  IPC Table 5, ShapeNet Lamps: 30.19 dB; after
                                 TTO of V: ginr_jax.cli.tto --what=latents
                                 --steps=100
  lamps,views=5                  IPC Table 5, ShapeNet Lamps: 30.07 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=5,model=transinr   IPC Table 5, ShapeNet Lamps: 25.16 dB
  lamps,views=5,model=transinr   IPC Table 5, ShapeNet Lamps: 28.93 dB; after
                                 TTO of all weights: ginr_jax.cli.tto
                                 --what=all --steps=100
  lamps,views=5,model=la_ginr    LA-GINR Fig. 4a, ShapeNet Lamps: curve only
  lamps,views=2,form=direct      IPC Table 6, ShapeNet Lamps: 24.69 dB; W =
                                 V(n)
  lamps,views=2,form=instance_u  IPC Table 6, ShapeNet Lamps: 23.04 dB; W =
                                 U(n) V(n)
  lamps,views=2,form=hadamard    IPC Table 6, ShapeNet Lamps: 24.18 dB; W = U
                                 * V(n)

total_steps assumes learnit's split sizes, which we could not check here:
2,458 / 4,612 / 1,623 training objects (cars / chairs / lamps); on other
data set --config.total_steps. Measured: no full run here (no ShapeNet,
CPU-only machine). The small reproduction on generated scenes is
configs/nvs_demo.py.

Arguments: category, `views` (1-5), `data` (shapenet | scenes), `epochs`
(0: the paper's), `tiny` (generated scenes, tiny model, 3 steps) and the
model arguments (`model`, `precision`, the family's ARGS in
`ginr_jax/models/`).
"""

from ginr_jax import config_lib as common
from ginr_jax import paper_rows

CATEGORIES = ("cars", "chairs", "lamps")
# Views 2-5 of cars and chairs, and LA-GINR's views, are curves only.
_CURVE = "curve only"
# Table 5's TTO numbers need the command after training (above).
_TTO_V = "after TTO of V: ginr_jax.cli.tto --what=latents --steps=100"
_TTO_ALL = "after TTO of all weights: ginr_jax.cli.tto --what=all --steps=100"
# fmt: off
PAPER_ROWS = paper_rows.rows(
    ("cars,views=1", "IPC", "Table 4", "ShapeNet Cars", "24.18"),
    ("cars,views=1,model=transinr", "IPC", "Table 4", "ShapeNet Cars", "24.18"),
    ("cars,views=1,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=2", "IPC", "Fig. 5", "ShapeNet Cars", None, _CURVE),
    ("cars,views=2,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=2,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=3", "IPC", "Fig. 5", "ShapeNet Cars", None, _CURVE),
    ("cars,views=3,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=3,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=4", "IPC", "Fig. 5", "ShapeNet Cars", None, _CURVE),
    ("cars,views=4,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=4,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=5", "IPC", "Fig. 5", "ShapeNet Cars", None, _CURVE),
    ("cars,views=5,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Cars", None, _CURVE),
    ("cars,views=5,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Cars", None, _CURVE),
    ("chairs,views=1", "IPC", "Table 4", "ShapeNet Chairs", "19.30"),
    ("chairs,views=1,model=transinr", "IPC", "Table 4",
     "ShapeNet Chairs", "19.05"),
    ("chairs,views=1,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=2", "IPC", "Fig. 5", "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=2,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=2,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=3", "IPC", "Fig. 5", "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=3,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=3,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=4", "IPC", "Fig. 5", "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=4,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=4,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=5", "IPC", "Fig. 5", "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=5,model=transinr", "IPC", "Fig. 5",
     "ShapeNet Chairs", None, _CURVE),
    ("chairs,views=5,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Chairs", None, _CURVE),
    ("lamps,views=1", "IPC", "Table 4", "ShapeNet Lamps", "23.41"),
    ("lamps,views=1", "IPC", "Table 5", "ShapeNet Lamps", "23.40"),
    ("lamps,views=1", "IPC", "Table 5", "ShapeNet Lamps", "25.47", _TTO_V),
    ("lamps,views=1", "IPC", "Table 5", "ShapeNet Lamps", "25.40", _TTO_ALL),
    ("lamps,views=1,model=transinr", "IPC", "Table 4",
     "ShapeNet Lamps", "22.89"),
    ("lamps,views=1,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "22.99"),
    ("lamps,views=1,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "25.13", _TTO_ALL),
    ("lamps,views=1,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Lamps", None, _CURVE),
    ("lamps,views=2", "IPC", "Table 5", "ShapeNet Lamps", "24.33"),
    ("lamps,views=2", "IPC", "Table 5", "ShapeNet Lamps", "27.53", _TTO_V),
    ("lamps,views=2", "IPC", "Table 5", "ShapeNet Lamps", "27.57", _TTO_ALL),
    ("lamps,views=2", "IPC", "Table 6",
     "ShapeNet Lamps", "24.44", "W = U V(n)"),
    ("lamps,views=2,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "24.06"),
    ("lamps,views=2,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "27.28", _TTO_ALL),
    ("lamps,views=2,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Lamps", None, _CURVE),
    ("lamps,views=3", "IPC", "Table 5", "ShapeNet Lamps", "24.62"),
    ("lamps,views=3", "IPC", "Table 5", "ShapeNet Lamps", "28.34", _TTO_V),
    ("lamps,views=3", "IPC", "Table 5", "ShapeNet Lamps", "28.40", _TTO_ALL),
    ("lamps,views=3,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "24.41"),
    ("lamps,views=3,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "28.09", _TTO_ALL),
    ("lamps,views=3,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Lamps", None, _CURVE),
    ("lamps,views=4", "IPC", "Table 5", "ShapeNet Lamps", "26.05"),
    ("lamps,views=4", "IPC", "Table 5", "ShapeNet Lamps", "29.52", _TTO_V),
    ("lamps,views=4", "IPC", "Table 5", "ShapeNet Lamps", "29.43", _TTO_ALL),
    ("lamps,views=4,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "24.77"),
    ("lamps,views=4,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "28.56", _TTO_ALL),
    ("lamps,views=4,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Lamps", None, _CURVE),
    ("lamps,views=5", "IPC", "Table 5", "ShapeNet Lamps", "26.79"),
    ("lamps,views=5", "IPC", "Table 5", "ShapeNet Lamps", "30.19", _TTO_V),
    ("lamps,views=5", "IPC", "Table 5", "ShapeNet Lamps", "30.07", _TTO_ALL),
    ("lamps,views=5,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "25.16"),
    ("lamps,views=5,model=transinr", "IPC", "Table 5",
     "ShapeNet Lamps", "28.93", _TTO_ALL),
    ("lamps,views=5,model=la_ginr", "LA-GINR", "Fig. 4a",
     "ShapeNet Lamps", None, _CURVE),
    ("lamps,views=2,form=direct", "IPC", "Table 6",
     "ShapeNet Lamps", "24.69", "W = V(n)"),
    ("lamps,views=2,form=instance_u", "IPC", "Table 6",
     "ShapeNet Lamps", "23.04", "W = U(n) V(n)"),
    ("lamps,views=2,form=hadamard", "IPC", "Table 6",
     "ShapeNet Lamps", "24.18", "W = U * V(n)")
)
# fmt: on
# Training objects (assumed, see the docstring) and train repeats.
_OBJECTS = {"cars": 2458, "chairs": 4612, "lamps": 1623}
_REPEAT = {"cars": 2, "chairs": 1, "lamps": 3}
_EPOCHS = {"cars": 1000, "chairs": 1000, "lamps": 400}
_LA_GINR_EPOCHS = {"cars": 1000, "chairs": 1000, "lamps": 500}


def nvs_model(c, model: str):
  """The coordinate network of NVS on the model `set_model` set, and the
  views task: NeRF points for IPC / TransINR, light fields for LA-GINR."""
  m = c.model
  m.patch_size, m.patch_padding, m.patch_rank = 8, 0, 2
  if model == "la_ginr":
    common.set_signal(c, input_dim=6, output_dim=3, output_bias=0.5)
  else:
    common.set_signal(c, input_dim=3, output_dim=4, output_bias=0.0, n_layers=6,
                      ff_dim=60, ff_sigma=8.0, fourier="nerf")
  if model == "transinr":
    m.groups = 32
  c.task = dict(name="views",
                render="light_field" if model == "la_ginr" else "volume",
                num_rays=128, adaptive_steps=0, num_points=128, near=2.0,
                far=6.0)
  c.render_upsample = (1,)
  c.eval_coord_chunk = 1024  # rays per rendering chunk at test


def get_config(arg=None):
  arg = common.parse_arg(arg, category="lamps", views=1, data="shapenet",
                         epochs=0, tiny=False, model="ipc")
  if arg.category not in CATEGORIES:
    raise ValueError(f"category {arg.category!r}; use one of {CATEGORIES}.")
  if not 1 <= arg.views <= 5:
    raise ValueError(f"views={arg.views}: 1 to 5 support views.")
  if arg.data not in ("shapenet", "scenes"):
    raise ValueError(f"data={arg.data!r}; use shapenet or scenes.")
  c = common.base_config()
  c.input.name = arg.data
  c.input.image_size = 128
  # Test objects 8 at a time: 8 x 1024 rays x 128 points per chunk.
  c.input.batch_size, c.input.eval_batch_size = 32, 8
  c.input.augment = True  # training draws views at random
  c.input.kwargs = dict(category=arg.category, n_support=arg.views, n_query=1,
                        train_repeat=_REPEAT[arg.category], test_repeat=100)
  common.set_model(c, arg, ff_sigma=8.0, sigmas=(8.0, 4.0), sigma_q=2.0)
  nvs_model(c, arg.model)
  epochs = (
      arg.epochs or
      (_LA_GINR_EPOCHS if arg.model == "la_ginr" else _EPOCHS)[arg.category])
  steps_per_epoch = (_OBJECTS[arg.category] * _REPEAT[arg.category] //
                     c.input.batch_size)
  c.task.adaptive_steps = 2 * steps_per_epoch
  c.total_steps = epochs * steps_per_epoch
  c.ckpt_steps = 10_000
  c.eval_steps = 50_000
  return common.shrink_for_tiny(c) if arg.tiny else c
