r"""IPC on FFHQ at 178, 256, 512 or 1024 pixels (IPC Table 2 and Table 3).

  python -m ginr_jax.main --config=configs/ffhq.py:512,d=1024,r=1024 \
      --workdir=workdirs/ffhq512_d1024_r1024

Arguments: `res` (178 | 256 | 512 | 1024, positional), `d` (MLP width, 256 or
1024), `r` (rank = weight tokens, default 256), `tiny`.

Paper targets (test PSNR on the 10k validation images):
  res 178, d 256,  r 256:  37.18 dB (Table 2)
  res 256, d 256,  r 256:  34.68 dB   res 512: 31.58 dB (Table 3)
  res 256, d 1024, r 256:  38.43 dB   res 512: 35.22 dB
  res 256, d 1024, r 1024: 40.37 dB   res 512: 36.27 dB

Recipe per resolution, from the official configs where one exists:
  178:  9x9 patches + 1-px padding (400 tokens), sigma 64, 1000 epochs,
        batch 16.
  256:  16x16 patches (256 tokens), sigma 64, 400 epochs, batch 16, 10% of
        the coordinates per step. The official code has no FFHQ-256 config
        for the transformer; patches and subsampling follow the paper
        (App. A.2), sigma follows its FFHQ-178 and meta FFHQ-256 configs.
  512:  32x32 patches (256 tokens), sigma 128, 400 epochs, 10% coordinates.
  1024: 32x32 patches (1024 tokens), sigma 256, 400 epochs, 10% coordinates.
512 and 1024 use batch 8: the official YAMLs say 16, but the official code
never accumulates gradients, so its runs stepped on 8 (2 per GPU x 4).

Deviations: the default split is by file name (00000-59999 train, 60000-69999
test), not the official lists, which are not redistributed here; pass them
with --config.input.kwargs.train_list=ffhqtrain.txt and .test_list=
ffhqvalidation.txt (taming-transformers' files). The modulated layer's unused
base weight is not created (models/ipc.py).

Measured: no full run here (CPU-only machine); `:tiny` trains 3 steps and
evaluates in about 10 s on 2 CPU cores.
"""

from ginr_jax import config_lib as common

_RECIPES = {  # res: (patch, padding, sigma, epochs, batch, subsample)
    178: (9, 1, 64.0, 1000, 16, 1.0),
    256: (16, 0, 64.0, 400, 16, 0.1),
    512: (32, 0, 128.0, 400, 8, 0.1),
    1024: (32, 0, 256.0, 400, 8, 0.1),
}
_TRAIN_IMAGES = 60_000


def get_config(arg=None):
  arg = common.parse_arg(arg, res=178, d=256, r=256, tiny=False)
  if arg.res not in _RECIPES:
    raise ValueError(f"FFHQ resolution {arg.res} not supported; use one of "
                     f"{sorted(_RECIPES)}.")
  patch, padding, sigma, epochs, batch, subsample = _RECIPES[arg.res]
  c = common.base_config()
  c.input.name = "ffhq"
  # Split lists (one file name a line); empty: 00000-59999 train, 60000-69999
  # test. The official ones are taming-transformers' ffhqtrain.txt and
  # ffhqvalidation.txt, a different 60k/10k split.
  c.input.kwargs = dict(train_list="", test_list="")
  c.input.image_size = arg.res
  c.input.batch_size = batch
  c.input.eval_batch_size = batch
  c.model.patch_size, c.model.patch_padding = patch, padding
  c.model.hyponet.ff_sigma = sigma
  c.model.hyponet.hidden_dim = arg.d
  c.model.rank = arg.r
  c.train.coord_subsample = subsample
  c.total_steps = epochs * _TRAIN_IMAGES // batch
  c.ckpt_steps = 10_000
  c.eval_steps = 50_000
  return common.shrink_for_tiny(c) if arg.tiny else c
