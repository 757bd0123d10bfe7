r"""LA-GINR on ImageNet 256x256 (LA-GINR App. A.1, Table 5).

  # ImageNet prepared as a TFDS array_record data source (README "Data"):
  #   tfds build imagenet2012 --manual_dir=... --file_format=array_record
  python -m ginr_jax.cli.main --config=configs/imagenet.py \
      --workdir=workdirs/imagenet_la_ginr

Paper rows (argument: the paper's table, data: its test PSNR; from PAPER_ROWS,
written here by `python -m ginr_jax.cli.paper_rows`):
  (none)  LA-GINR Table 5, ImageNet 256: 37.7 dB; "Ours": the PSNR of the
          latents that the diffusion model learns to generate (FID 9.3)

Recipe (App. A): 16x16 patches (256 tokens), the 6-block width-768
transformer, R = 256 latent tokens, decoder d = d_F = 256 with L = 2,
(sigma_1, sigma_2, sigma_q) = (128, 32, 16) and 8 cross-attention heads;
Adam 1e-4 constant, batch 16, 20 epochs (2.5 days on 8 A100s in the paper).

Choices the paper leaves open: images are resized to a 256-pixel short side
and centre-cropped (no random crop), evaluation on the 50,000 validation
images, all coordinates decoded at every step (no subsampling is
mentioned for ImageNet).

Measured: no full run here (CPU-only machine); `:tiny` trains 3 steps.

Arguments: `epochs` (default 20), `tiny`, and the model arguments (`model`,
here la_ginr by default; `precision`; the family's ARGS in
`ginr_jax/models/`).
"""

from ginr_jax import config_lib as common
from ginr_jax import paper_rows

# fmt: off
PAPER_ROWS = paper_rows.rows(
    ("", "LA-GINR", "Table 5", "ImageNet 256", "37.7",
     '"Ours": the PSNR of the latents that the diffusion model learns to '
     "generate (FID 9.3)")
)
# fmt: on
_TRAIN_IMAGES = 1_281_167


def get_config(arg=None):
  arg = common.parse_arg(arg, epochs=20, tiny=False, model="la_ginr")
  c = common.base_config()
  common.set_tfds_source(c, tfds_name="imagenet2012",
                         tfds_test_split="validation")
  c.input.augment = False  # resize + centre crop
  c.input.image_size = 256
  common.set_model(c, arg, ff_sigma=128.0, heads=8)
  c.model.patch_size, c.model.patch_padding = 16, 0
  common.set_length(c, arg.epochs, _TRAIN_IMAGES, eval_steps=50_000)
  return common.shrink_for_tiny(c) if arg.tiny else c
