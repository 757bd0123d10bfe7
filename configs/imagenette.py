r"""IPC on ImageNette 178x178 (IPC paper Table 2, last column).

  python -m ginr_jax.datasets.prepare imagenette --data_dir=data
  python -m ginr_jax.main --config=configs/imagenette.py --workdir=workdirs/imagenette

Paper: 38.46 dB test PSNR (Ours), 29.77 dB (TransINR), after 4000 epochs at
batch 16 on 4 V100s. Official recipe (`official_code_facts.md` §11): 400
tokens of 9x9 patches with 1-pixel zero padding, 256 weight tokens, 5-layer
d=256 MLP with sigma=128 Fourier features, Adam 1e-4 constant, +-half-pixel
coordinate jitter in training; train = random 178 crops of the 320-px images,
test = resized + centre-cropped val (3,925 images).

Parameters: 43,680,771 (the official 43,746,307 less its unused base weight
of the modulated layer, see models/ipc.py).

Measured: no full run here (CPU-only machine; the run is about 2.4M steps).
On 2 CPU cores one training step takes 6.6 s at batch 2 and 11.4 s at batch
4 (`python -m ginr_jax.benchmark`, README Results); `:tiny` trains 3 steps
and evaluates in about 10 s.

Arguments: `tiny` (synthetic data, tiny model, 3 steps); `source=tfds`
reads the TFDS `imagenette/320px-v2` data source (prepared with `tfds build
imagenette/320px-v2 --file_format=array_record`) instead of the folder.
"""

from ginr_jax import config_lib as common


def get_config(arg=None):
  arg = common.parse_arg(arg, tiny=False, source="folder")
  c = common.base_config()
  c.input.name = "imagenette"
  if arg.source == "tfds":
    c.input.name = "tfds"
    c.input.data_dir = ""    # TFDS's default data_dir
    c.input.kwargs = dict(tfds_name="imagenette/320px-v2")
  c.model.hyponet.ff_sigma = 128.0
  c.train.coord_jitter = True
  c.total_steps = 4000 * 9469 // 16          # 4000 epochs at batch 16
  c.ckpt_steps = 10_000
  c.eval_steps = 100_000
  return common.shrink_for_tiny(c) if arg.tiny else c
