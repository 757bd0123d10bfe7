r"""FFHQ at 178, 256, 512 or 1024 pixels: IPC, TransINR and LA-GINR.

  python -m ginr_jax.main --config=configs/ffhq.py:512,d=1024,r=1024 \
      --workdir=workdirs/ffhq512_d1024_r1024
  python -m ginr_jax.main --config=configs/ffhq.py:256,model=la_ginr,levels=3 \
      --workdir=workdirs/ffhq256_la_ginr_l3

Rows (config argument: paper test PSNR on the 10k validation images):
  178                               IPC, IPC Table 2:            37.18 dB
  178,model=transinr                TransINR, IPC Table 2:       33.66 dB
  178,model=la_ginr                 LA-GINR Table 1:             43.32 dB
 IPC Table 7, modulated layer 1-5 (FFHQ column; the paper does not give
 the resolution or length of these runs, so they use the 178 recipe):
  178,layer=1 / 178,layer=2 / 178,layer=3 / 178,layer=4 / 178,layer=5
                                    36.04 / 36.20 / 34.2 / 31.09 / 22.92 dB
 IPC Table 3 (256 / 512):
  256  / 512                        d 256,  r 256:        34.68 / 31.58 dB
  256,d=1024 / 512,d=1024           d 1024, r 256:        38.43 / 35.22 dB
  256,d=1024,r=1024 / 512,...       d 1024, r 1024:       40.37 / 36.27 dB
  256,model=transinr / 512,...      d 256, 64x4+3 tokens: 30.96 / 29.35 dB
  256,model=transinr,groups=256     d 256, 256x4+3:       32.92 / 31.00 dB
  256,model=transinr,d=1024         d 1024, 64x4+3:       33.83 / 31.57 dB
  256,model=transinr,d=1024,groups=256  d 1024, 256x4+3:  36.50 / 32.68 dB
  1024                              IPC, LA-GINR Table 2:        28.68 dB
 LA-GINR Tables 2 and 6 (256 / 512 / 1024; levels=2 is the default):
  256,model=la_ginr,levels=1        L = 1:  37.09 / 34.84 / 31.56 dB
  256,model=la_ginr,levels=2        L = 2:  39.88 / 35.43 / 31.94 dB
  256,model=la_ginr,levels=3        L = 3:  40.13 / 35.58 / 32.40 dB
  256,model=la_ginr,levels=4        L = 4:  39.79 / 35.40 / 32.32 dB
  (and 512,... / 1024,... alike)
 LA-GINR Table 3 (FFHQ 256, single cross-attention head):
  256,model=la_ginr,heads=1                   Ours:          38.01 dB
  256,model=la_ginr,sta=false                 w/o STA:       34.52 dB
  256,model=la_ginr,heads=1,multiband=false   w/o multi FM:  33.65 dB

Recipe per resolution (patch, padding, sigma, epochs, batch, coordinates
per step), from the official configs where one exists:
  178:  9x9 + 1-px padding (400 tokens), sigma 64, 1000 epochs, batch 16.
  256:  16x16 patches (256 tokens), sigma 64, 400 epochs, batch 16, 10%.
        The official code has no FFHQ-256 transformer config; patches and
        subsampling follow the papers (IPC App. A.2, LA-GINR App. A.1),
        sigma follows the official FFHQ-178 and meta FFHQ-256 configs.
  512:  32x32 patches (256 tokens), sigma 128, 400 epochs, 10%.
  1024: 32x32 patches (1024 tokens), sigma 256, 400 epochs, 10%.
IPC and TransINR at 512 and 1024 use batch 8: the official YAMLs say 16,
but the official code never accumulates gradients, so its runs stepped on
8 (2 per GPU x 4). LA-GINR uses batch 16 everywhere (its App. A).
LA-GINR decoder (App. A.1, B.1): d = d_F = 256; sigma_q 16 and sigma_l =
(128), (128, 32), (128, 64, 32), (128, 90, 64, 32) for L = 1..4, all doubled
at 1024; 2 heads at 178/256, 4 at 512; at 1024, 48x48 patches with 16-px
padding (484 tokens) and 4 heads (the paper does not give the heads there).

Deviations: the default split is by file name (00000-59999 train,
60000-69999 test), not the official lists, which are not redistributed
here; pass them with --config.input.kwargs.train_list=ffhqtrain.txt and
.test_list=ffhqvalidation.txt (taming-transformers' files). IPC's unused
base weight of the modulated layer is not created (models/ipc.py).

Measured: no full run here (CPU-only machine); `:tiny` trains 3 steps and
evaluates in about 10 s on 2 CPU cores.

Arguments: `res` (positional), `d` (IPC/TransINR MLP width), `levels`
(LA-GINR L), `epochs` (0: the recipe's), `tiny`, and the model arguments
(`model`, `precision`, the family's ARGS in `ginr_jax/models/`; `r` is IPC's
rank).
"""

from ginr_jax import config_lib as common

ROWS = tuple(
    f"{res},{row}".rstrip(",") for res in (178, 256, 512, 1024) for row in (
        "", "model=transinr", "model=la_ginr")) + tuple(
    f"{res},{row}" for res in (256, 512) for row in (
        "d=1024", "d=1024,r=1024", "model=transinr,groups=256",
        "model=transinr,d=1024", "model=transinr,d=1024,groups=256")) + tuple(
    f"{res},model=la_ginr,levels={l}" for res in (256, 512, 1024)
    for l in (1, 3, 4)) + (
    "256,model=la_ginr,heads=1", "256,model=la_ginr,sta=false",
    "256,model=la_ginr,heads=1,multiband=false") + tuple(
    f"178,layer={layer}" for layer in (1, 2, 3, 4, 5))

_RECIPES = {  # res: (patch, padding, sigma, epochs, batch, subsample)
    178: (9, 1, 64.0, 1000, 16, 1.0),
    256: (16, 0, 64.0, 400, 16, 0.1),
    512: (32, 0, 128.0, 400, 8, 0.1),
    1024: (32, 0, 256.0, 400, 8, 0.1),
}
_LA_GINR = {  # res: (patch, padding, heads, bandwidth scale)
    178: (9, 1, 2, 1.0), 256: (16, 0, 2, 1.0), 512: (32, 0, 4, 1.0),
    1024: (48, 16, 4, 2.0),
}
_LEVEL_SIGMAS = {1: (128.0,), 2: (128.0, 32.0), 3: (128.0, 64.0, 32.0),
                 4: (128.0, 90.0, 64.0, 32.0)}
_TRAIN_IMAGES = 60_000


def get_config(arg=None):
  arg = common.parse_arg(arg, res=178, d=256, levels=0, epochs=0, tiny=False,
                         model="ipc")
  if arg.res not in _RECIPES:
    raise ValueError(f"FFHQ resolution {arg.res} not supported; use one of "
                     f"{sorted(_RECIPES)}.")
  if arg.levels and (arg.model != "la_ginr" or "sigmas" in arg.model_args):
    raise ValueError("levels= picks LA-GINR's bandwidths: use it with "
                     "model=la_ginr and without sigmas=.")
  if arg.d != 256 and arg.model == "la_ginr":
    raise ValueError("d= is the IPC/TransINR MLP width; LA-GINR's decoder "
                     "width is fixed at 256 (App. A.1).")
  if arg.levels not in (0, *_LEVEL_SIGMAS):
    raise ValueError(f"levels={arg.levels}; use 1-4.")
  patch, padding, sigma, epochs, batch, subsample = _RECIPES[arg.res]
  c = common.base_config()
  c.input.name = "ffhq"
  # Split lists (one file name a line); empty: 00000-59999 train, 60000-69999
  # test. The official ones are taming-transformers' ffhqtrain.txt and
  # ffhqvalidation.txt, a different 60k/10k split.
  c.input.kwargs = dict(train_list="", test_list="")
  c.input.image_size = arg.res
  la_patch, la_padding, heads, scale = _LA_GINR[arg.res]
  if arg.model == "la_ginr":
    patch, padding, batch = la_patch, la_padding, 16
  c.input.batch_size = c.input.eval_batch_size = batch
  common.set_model(
      c, arg, ff_sigma=sigma, hidden_dim=arg.d, heads=heads,
      sigmas=tuple(scale * s for s in _LEVEL_SIGMAS[arg.levels or 2]),
      sigma_q=16.0 * scale)
  c.model.patch_size, c.model.patch_padding = patch, padding
  c.train.coord_subsample = subsample
  c.total_steps = (arg.epochs or epochs) * _TRAIN_IMAGES // batch
  c.ckpt_steps = 10_000
  c.eval_steps = 50_000
  return common.shrink_for_tiny(c) if arg.tiny else c
