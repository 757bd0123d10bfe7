r"""Your own images: IPC, TransINR or LA-GINR on any folder of images.

  python -m ginr_jax.cli.main --config=configs/folder.py:size=64 \
      --config.input.data_dir=PATH --workdir=workdirs/my_images

Data (`ginr_jax/datasets/folder.py`): every .jpg, .jpeg, .png and .webp
file under PATH, in subfolders too. Split by PATH/train and PATH/test (or
val) when both are there, else 10% of the files are held out for testing
by a hash of their path (`--config.input.kwargs.test_fraction=0.2` to
change it), the same on every machine. Each image is turned upright by its
EXIF orientation, converted to RGB (alpha dropped), resized to `size` on
its short side (smaller images are upscaled, with a warning) and
centre-cropped, plus a random horizontal flip in training. Every file is
checked at start: an unreadable one stops the run naming it, or is left out
with `--config.input.skip_bad_files=True`.

Model: the demo's (configs/demo.py, `config_lib.demo_model`): 3 blocks of
width 128, 64 weight / latent tokens, a 5-layer d=64 MLP; 16 tokens of
size/4-pixel patches at any size. The bandwidths scale with the size as
the demo's do at 32 px: Fourier sigma = size (twice the Nyquist limit),
LA-GINR (sigma_1, sigma_2, sigma_q) = (1, 1/4, 1/8) x size. Adam 1e-3,
3,000 steps of batch 16, each supervising a random quarter of the pixels.

Target: test PSNR at least 3 dB above the mean-colour baseline. Measured
(README, Your own images) on the 2,000 photo crops that `python -m
ginr_jax.cli.prepare photos --data_dir=data/photos` writes, tested on
two photos it never trains on: 20.73 dB against a baseline of 16.22 dB
after 3,000 steps, 40 min 35 s on a 2-core CPU shared with other jobs.

Arguments: `size` (a multiple of 4, default 64), `tiny` (generated data,
tiny model, 3 steps), and the model arguments (`model`, `precision`, the
family's ARGS in `ginr_jax/models/`), e.g.
`configs/folder.py:size=128,model=la_ginr`.
"""

from ginr_jax import cli
from ginr_jax import config_lib as common


def get_config(arg=None):
  arg = common.parse_arg(arg, tiny=False, size=64, model="ipc")
  if arg.size < 8 or arg.size % 4:
    raise cli.ConfigError(f"size={arg.size}: use a multiple of 4 of at "
                          "least 8 (images are cut into 4 x 4 patches).")
  c = common.base_config()
  c.input.name = "folder"
  c.input.data_dir = ""  # required: the folder of your images
  c.input.image_size = arg.size
  c.input.kwargs = dict(test_fraction=0.1)
  c.input.batch_size = 16
  c.input.eval_batch_size = 64
  common.set_model(c, arg, ff_sigma=float(arg.size),
                   sigmas=(float(arg.size), arg.size / 4), sigma_q=arg.size / 8)
  common.demo_model(c, groups=16)
  common.image_demo_recipe(c)
  c.model.patch_size, c.model.patch_padding = arg.size // 4, 0
  # A random quarter of each image's pixels per step (the official FFHQ
  # 512 / 1024 configs take 10%): a quarter of the MLP's work, which
  # dominates the step at 64 px. Evaluation decodes every pixel.
  c.train.coord_subsample = 0.25
  return common.shrink_for_tiny(c) if arg.tiny else c
