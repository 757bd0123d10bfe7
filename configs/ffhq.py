r"""FFHQ at 178, 256, 512 or 1024 pixels: IPC, TransINR and LA-GINR.

  python -m ginr_jax.cli.main --config=configs/ffhq.py:512,d=1024,r=1024 \
      --workdir=workdirs/ffhq512_d1024_r1024
  python -m ginr_jax.cli.main \
      --config=configs/ffhq.py:256,model=la_ginr,levels=3 \
      --workdir=workdirs/ffhq256_la_ginr_l3

Paper rows (argument: the paper's table, data: its test PSNR; from PAPER_ROWS,
written here by `python -m ginr_jax.cli.paper_rows`):
  178                             IPC Table 2, FFHQ 178: 37.18 dB
  178,model=transinr              IPC Table 2, FFHQ 178: 33.66 dB
  178,model=la_ginr               LA-GINR Table 1, FFHQ 178: 43.32 dB
  178,layer=1                     IPC Table 7, FFHQ: 36.04 dB; the paper gives
                                  neither resolution nor length: the 178
                                  recipe
  178,layer=2                     IPC Table 7, FFHQ: 36.20 dB; the paper gives
                                  neither resolution nor length: the 178
                                  recipe
  178,layer=3                     IPC Table 7, FFHQ: 34.2 dB; the paper gives
                                  neither resolution nor length: the 178
                                  recipe
  178,layer=4                     IPC Table 7, FFHQ: 31.09 dB; the paper gives
                                  neither resolution nor length: the 178
                                  recipe
  178,layer=5                     IPC Table 7, FFHQ: 22.92 dB; the paper gives
                                  neither resolution nor length: the 178
                                  recipe
  256                             IPC Table 3, FFHQ 256: 34.68 dB; d 256, r
                                  256; also LA-GINR Tables 2, 3 and 6
  512                             IPC Table 3, FFHQ 512: 31.58 dB; d 256, r
                                  256; also LA-GINR Tables 2 and 6
  256,d=1024                      IPC Table 3, FFHQ 256: 38.43 dB; d 1024, r
                                  256
  512,d=1024                      IPC Table 3, FFHQ 512: 35.22 dB; d 1024, r
                                  256
  256,d=1024,r=1024               IPC Table 3, FFHQ 256: 40.37 dB; d 1024, r
                                  1024
  512,d=1024,r=1024               IPC Table 3, FFHQ 512: 36.27 dB; d 1024, r
                                  1024
  256,model=transinr              IPC Table 3, FFHQ 256: 30.96 dB; d 256,
                                  64x4+3 tokens; also LA-GINR Tables 2 and 6
  512,model=transinr              IPC Table 3, FFHQ 512: 29.35 dB; d 256,
                                  64x4+3 tokens; also LA-GINR Tables 2 and 6
  256,model=transinr,groups=256   IPC Table 3, FFHQ 256: 32.92 dB; d 256,
                                  256x4+3 tokens
  512,model=transinr,groups=256   IPC Table 3, FFHQ 512: 31.00 dB; d 256,
                                  256x4+3 tokens
  256,model=transinr,d=1024       IPC Table 3, FFHQ 256: 33.83 dB; d 1024,
                                  64x4+3 tokens
  512,model=transinr,d=1024       IPC Table 3, FFHQ 512: 31.57 dB; d 1024,
                                  64x4+3 tokens
  256,model=transinr,d=1024,groups=256
                                  IPC Table 3, FFHQ 256: 36.50 dB; d 1024,
                                  256x4+3 tokens
  512,model=transinr,d=1024,groups=256
                                  IPC Table 3, FFHQ 512: 32.68 dB; d 1024,
                                  256x4+3 tokens
  1024                            LA-GINR Table 2, FFHQ 1024: 28.68 dB; IPC;
                                  also Table 6
  1024,model=transinr             LA-GINR Table 2, FFHQ 1024: TransINR, no
                                  number ("-")
  256,model=la_ginr               LA-GINR Table 2, FFHQ 256: 39.88 dB; L = 2,
                                  the default; also Table 6
  512,model=la_ginr               LA-GINR Table 2, FFHQ 512: 35.43 dB; L = 2,
                                  the default; also Table 6
  1024,model=la_ginr              LA-GINR Table 2, FFHQ 1024: 31.94 dB; L = 2,
                                  the default; also Table 6
  256,model=la_ginr,levels=1      LA-GINR Table 6, FFHQ 256: 37.09 dB
  512,model=la_ginr,levels=1      LA-GINR Table 6, FFHQ 512: 34.84 dB
  1024,model=la_ginr,levels=1     LA-GINR Table 6, FFHQ 1024: 31.56 dB
  256,model=la_ginr,levels=3      LA-GINR Table 6, FFHQ 256: 40.13 dB
  512,model=la_ginr,levels=3      LA-GINR Table 6, FFHQ 512: 35.58 dB
  1024,model=la_ginr,levels=3     LA-GINR Table 6, FFHQ 1024: 32.40 dB
  256,model=la_ginr,levels=4      LA-GINR Table 6, FFHQ 256: 39.79 dB
  512,model=la_ginr,levels=4      LA-GINR Table 6, FFHQ 512: 35.40 dB
  1024,model=la_ginr,levels=4     LA-GINR Table 6, FFHQ 1024: 32.32 dB
  256,model=la_ginr,heads=1       LA-GINR Table 3, FFHQ 256: 38.01 dB; "Ours"
                                  (single head)
  256,model=la_ginr,sta=false     LA-GINR Table 3, FFHQ 256: 34.52 dB; w/o STA
  256,model=la_ginr,heads=1,multiband=false
                                  LA-GINR Table 3, FFHQ 256: 33.65 dB; w/o
                                  multi FM

The papers test on the official 10k validation images: pass the official
lists to test on them (Deviations, below).

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
from ginr_jax import paper_rows

_TABLE7 = "the paper gives neither resolution nor length: the 178 recipe"
# fmt: off
PAPER_ROWS = paper_rows.rows(
    ("178", "IPC", "Table 2", "FFHQ 178", "37.18"),
    ("178,model=transinr", "IPC", "Table 2", "FFHQ 178", "33.66"),
    ("178,model=la_ginr", "LA-GINR", "Table 1", "FFHQ 178", "43.32"),
    ("178,layer=1", "IPC", "Table 7", "FFHQ", "36.04", _TABLE7),
    ("178,layer=2", "IPC", "Table 7", "FFHQ", "36.20", _TABLE7),
    ("178,layer=3", "IPC", "Table 7", "FFHQ", "34.2", _TABLE7),
    ("178,layer=4", "IPC", "Table 7", "FFHQ", "31.09", _TABLE7),
    ("178,layer=5", "IPC", "Table 7", "FFHQ", "22.92", _TABLE7),
    ("256", "IPC", "Table 3", "FFHQ 256", "34.68",
     "d 256, r 256; also LA-GINR Tables 2, 3 and 6"),
    ("512", "IPC", "Table 3", "FFHQ 512", "31.58",
     "d 256, r 256; also LA-GINR Tables 2 and 6"),
    ("256,d=1024", "IPC", "Table 3", "FFHQ 256", "38.43", "d 1024, r 256"),
    ("512,d=1024", "IPC", "Table 3", "FFHQ 512", "35.22", "d 1024, r 256"),
    ("256,d=1024,r=1024", "IPC", "Table 3", "FFHQ 256", "40.37",
     "d 1024, r 1024"),
    ("512,d=1024,r=1024", "IPC", "Table 3", "FFHQ 512", "36.27",
     "d 1024, r 1024"),
    ("256,model=transinr", "IPC", "Table 3", "FFHQ 256", "30.96",
     "d 256, 64x4+3 tokens; also LA-GINR Tables 2 and 6"),
    ("512,model=transinr", "IPC", "Table 3", "FFHQ 512", "29.35",
     "d 256, 64x4+3 tokens; also LA-GINR Tables 2 and 6"),
    ("256,model=transinr,groups=256", "IPC", "Table 3", "FFHQ 256", "32.92",
     "d 256, 256x4+3 tokens"),
    ("512,model=transinr,groups=256", "IPC", "Table 3", "FFHQ 512", "31.00",
     "d 256, 256x4+3 tokens"),
    ("256,model=transinr,d=1024", "IPC", "Table 3", "FFHQ 256", "33.83",
     "d 1024, 64x4+3 tokens"),
    ("512,model=transinr,d=1024", "IPC", "Table 3", "FFHQ 512", "31.57",
     "d 1024, 64x4+3 tokens"),
    ("256,model=transinr,d=1024,groups=256", "IPC", "Table 3", "FFHQ 256",
     "36.50", "d 1024, 256x4+3 tokens"),
    ("512,model=transinr,d=1024,groups=256", "IPC", "Table 3", "FFHQ 512",
     "32.68", "d 1024, 256x4+3 tokens"),
    ("1024", "LA-GINR", "Table 2", "FFHQ 1024", "28.68", "IPC; also Table 6"),
    ("1024,model=transinr", "LA-GINR", "Table 2", "FFHQ 1024", None,
     'TransINR, no number ("-")'),
    ("256,model=la_ginr", "LA-GINR", "Table 2", "FFHQ 256", "39.88",
     "L = 2, the default; also Table 6"),
    ("512,model=la_ginr", "LA-GINR", "Table 2", "FFHQ 512", "35.43",
     "L = 2, the default; also Table 6"),
    ("1024,model=la_ginr", "LA-GINR", "Table 2", "FFHQ 1024", "31.94",
     "L = 2, the default; also Table 6"),
    ("256,model=la_ginr,levels=1", "LA-GINR", "Table 6", "FFHQ 256", "37.09"),
    ("512,model=la_ginr,levels=1", "LA-GINR", "Table 6", "FFHQ 512", "34.84"),
    ("1024,model=la_ginr,levels=1", "LA-GINR", "Table 6", "FFHQ 1024",
     "31.56"),
    ("256,model=la_ginr,levels=3", "LA-GINR", "Table 6", "FFHQ 256", "40.13"),
    ("512,model=la_ginr,levels=3", "LA-GINR", "Table 6", "FFHQ 512", "35.58"),
    ("1024,model=la_ginr,levels=3", "LA-GINR", "Table 6", "FFHQ 1024",
     "32.40"),
    ("256,model=la_ginr,levels=4", "LA-GINR", "Table 6", "FFHQ 256", "39.79"),
    ("512,model=la_ginr,levels=4", "LA-GINR", "Table 6", "FFHQ 512", "35.40"),
    ("1024,model=la_ginr,levels=4", "LA-GINR", "Table 6", "FFHQ 1024",
     "32.32"),
    ("256,model=la_ginr,heads=1", "LA-GINR", "Table 3", "FFHQ 256", "38.01",
     '"Ours" (single head)'),
    ("256,model=la_ginr,sta=false", "LA-GINR", "Table 3", "FFHQ 256",
     "34.52", "w/o STA"),
    ("256,model=la_ginr,heads=1,multiband=false", "LA-GINR", "Table 3",
     "FFHQ 256", "33.65", "w/o multi FM")
)
# fmt: on

_RECIPES = {  # res: (patch, padding, sigma, epochs, batch, subsample)
    178: (9, 1, 64.0, 1000, 16, 1.0), 256: (16, 0, 64.0, 400, 16, 0.1),
    512: (32, 0, 128.0, 400, 8, 0.1), 1024: (32, 0, 256.0, 400, 8, 0.1)
}
_LA_GINR = {  # res: (patch, padding, heads, bandwidth scale)
    178: (9, 1, 2, 1.0), 256: (16, 0, 2, 1.0), 512: (32, 0, 4, 1.0),
    1024: (48, 16, 4, 2.0)
}
_LEVEL_SIGMAS = {
    1: (128.0,), 2: (128.0, 32.0), 3: (128.0, 64.0, 32.0),
    4: (128.0, 90.0, 64.0, 32.0)
}
_TRAIN_IMAGES = 60_000


def get_config(arg=None):
  arg = common.parse_arg(arg, res=178, d=256, levels=0, epochs=0, tiny=False,
                         model="ipc")
  if arg.res not in _RECIPES:
    raise ValueError(
        f"FFHQ resolution {arg.res} not supported; use one of {sorted(_RECIPES)}."
    )
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
  common.set_input_workers(c)
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
  common.set_length(c, arg.epochs or epochs, _TRAIN_IMAGES, eval_steps=50_000)
  return common.shrink_for_tiny(c) if arg.tiny else c
