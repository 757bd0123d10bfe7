r"""CelebA 178x178: IPC, TransINR and LA-GINR.

  # aligned JPEGs in data/img_align_celeba/ (see README "Data")
  python -m ginr_jax.cli.main --config=configs/celeba.py \
      --workdir=workdirs/celeba

Paper rows (argument: the paper's table, data: its test PSNR; from PAPER_ROWS,
written here by `python -m ginr_jax.cli.paper_rows`):
  (none)                          IPC Table 2, CelebA 178: 35.93 dB
  model=transinr                  IPC Table 2, CelebA 178: 33.33 dB
  model=transinr,recipe=original  CelebA 178: TransINR's own recipe (sigma
                                  1024, no dropout, 30 epochs, LR x0.1 after
                                  80%); no number in either paper
  model=la_ginr                   LA-GINR Table 1, CelebA 178: 50.74 dB

IPC Table 2's Learned Init, 30.37 dB, is quoted from Tancik et al.
(configs/learned_init.py).

Official recipe: as ImageNette but sigma=64 Fourier features and no
coordinate jitter, 300 epochs at batch 16; resize + centre crop 178 of the
aligned 178x218 faces; official index split, evaluated on the 19,962 test
images (182,638-202,599). LA-GINR: App. A.1, the same decoder as ImageNette.

Deviation: IPC's unused base weight of the modulated layer is not created
(models/ipc.py): 65,536 fewer parameters than the official model.

Measured: no full run here (CPU-only machine); `:tiny` trains 3 steps and
evaluates in about 10 s on 2 CPU cores.

Arguments: `epochs` (0: 300, or 30 for recipe=original), `tiny`;
`source=tfds` reads the TFDS `celeb_a` data source (same aligned images and
official partition; prepared with `tfds build celeb_a
--file_format=array_record`) instead of the folder; the model arguments
(`model`, `precision`, the family's ARGS in `ginr_jax/models/`).
"""

from ginr_jax import config_lib as common
from ginr_jax import paper_rows

# fmt: off
PAPER_ROWS = paper_rows.rows(
    ("", "IPC", "Table 2", "CelebA 178", "35.93"),
    ("model=transinr", "IPC", "Table 2", "CelebA 178", "33.33"),
    ("model=transinr,recipe=original", "", "", "CelebA 178", None,
     "TransINR's own recipe (sigma 1024, no dropout, 30 epochs, LR x0.1 "
     "after 80%); no number in either paper"),
    ("model=la_ginr", "LA-GINR", "Table 1", "CelebA 178", "50.74")
)
# fmt: on
_TRAIN_IMAGES = 162_770


def get_config(arg=None):
  arg, c = common.image_dataset_config(arg, "celeba", tfds_name="celeb_a",
                                       tfds_test_split="test")
  if arg.source == "tfds":
    c.input.augment = False  # resize + centre crop only, as the folder path
  common.set_model(c, arg, ff_sigma=64.0)
  original = arg.model_args.get("recipe") == "original"
  epochs = arg.epochs or (30 if original else 300)
  common.set_length(c, epochs, _TRAIN_IMAGES, eval_steps=50_000)
  return common.shrink_for_tiny(c) if arg.tiny else c
