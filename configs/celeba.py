r"""IPC on CelebA 178x178 (IPC paper Table 2, first column).

  # aligned JPEGs in data/img_align_celeba/ (see README "Data")
  python -m ginr_jax.main --config=configs/celeba.py --workdir=workdirs/celeba

Paper: 35.93 dB test PSNR (Ours), 33.33 dB (TransINR), 30.37 dB (Learned
Init), after 300 epochs at batch 16. Official recipe: as ImageNette but
sigma=64 Fourier features and no coordinate jitter; resize + centre crop 178
of the aligned 178x218 faces; official index split, evaluated on the 19,962
test images (182,638-202,599).

Deviation: the modulated layer's unused base weight is not created
(models/ipc.py): 65,536 fewer parameters than the official model.

Measured: no full run here (CPU-only machine); `:tiny` trains 3 steps and
evaluates in about 10 s on 2 CPU cores.

Arguments: `tiny`; `source=tfds` reads the TFDS `celeb_a` data source
(same aligned images and official partition; prepared with `tfds build
celeb_a --file_format=array_record`) instead of the folder.
"""

from ginr_jax import config_lib as common


def get_config(arg=None):
  arg = common.parse_arg(arg, tiny=False, source="folder")
  c = common.base_config()
  c.input.name = "celeba"
  if arg.source == "tfds":
    c.input.name = "tfds"
    c.input.data_dir = ""    # TFDS's default data_dir
    c.input.augment = False  # resize + centre crop only, as the folder path
    c.input.kwargs = dict(tfds_name="celeb_a", tfds_test_split="test")
  c.model.hyponet.ff_sigma = 64.0
  c.total_steps = 300 * 162_770 // 16        # 300 epochs at batch 16
  c.ckpt_steps = 10_000
  c.eval_steps = 50_000
  return common.shrink_for_tiny(c) if arg.tiny else c
