r"""Class-conditional ImageNet 256 by generating LA-GINR latents (LA-GINR
§4.4, App. A.3, Table 5: FID 9.3 with guidance 2.5).

  # 1. LA-GINR on ImageNet 256 (configs/imagenet.py), then its latents:
  python -m ginr_jax.cli.export_latents --workdir=workdirs/imagenet_la_ginr \
      --out=workdirs/imagenet_latents --splits=train
  # 2. the denoiser (8 devices: batch 32 per device):
  python -m ginr_jax.cli.diffusion --config=configs/diffusion_imagenet.py \
      --workdir=workdirs/imagenet_diffusion \
      --config.eval.inception_path=fid_inception.npz
  # memory of the training step from shapes only (no data, no devices):
  XLA_FLAGS=--xla_force_host_platform_device_count=8 JAX_PLATFORMS=cpu \
  python -m ginr_jax.cli.diffusion --config=configs/diffusion_imagenet.py \
      --workdir=/tmp/unused --mode=compile

Recipe (App. A.3): 256 latent tokens x 256 channels (Table 5), standardised
per token and channel on the training split; DDPM with the linear schedule,
T = 1000, x0-parameterisation; 10% of the class labels dropped; Adam (0.9,
0.999) at 1e-4 constant, no warm-up, no weight decay; batch 256, 400 epochs;
EMA 0.9999; sampling with the EMA parameters, 250 DDIM steps, guidance 2.5.
Parameters and Adam state FSDP-sharded over the devices (sharding.py).

Choices the paper leaves open (named here):
  - The block: DiT's adaLN-Zero (denoiser.py), which gives 458.6M
    parameters for 24 blocks of width 1024 and 16 heads (paper: 458M); a
    plain pre-LN block would be 302M. MLP 4x width, GELU (tanh).
  - Guidance combines the x0 predictions, x0_u + 2.5 (x0_c - x0_u), scale 1
    the conditional model (identical to combining eps, schedule.py).
  - DDIM with eta = 0 on the uniformly spaced timesteps 0, 4, ..., 996; no
    clipping of the predicted latents.
  - FID: 50,000 samples (50 per class) against 50,000
    training images, pytorch-fid's Inception (fid.py).

Measured (no training run here: CPU-only machine): 458,578,176 parameters
(tests/diffusion_denoiser_test.py); the training step at the paper's batch
per device (global 256 over 8 devices, 32 each), FSDP, compiled for 8
simulated CPU devices (the command above): 33.7 GB per device in float32
(32.7 GB temporaries), XLA-CPU's estimate of a GPU's.

Arguments: `tiny` (the demo's tiny shapes; see configs/diffusion_demo.py).
"""

from ginr_jax import config_lib as common
from ginr_jax.diffusion import defaults

_TRAIN_IMAGES = 1_281_167


def get_config(arg=None):
  arg = common.parse_arg(arg, epochs=400, tiny=False)
  c = defaults.base_config()
  c.latents_dir = "workdirs/imagenet_latents"
  c.sharding.strategy = "fsdp"
  c.input.batch_size = 256
  c.total_steps = arg.epochs * _TRAIN_IMAGES // c.input.batch_size
  c.ckpt_steps = 10_000
  c.eval_steps = 200_000
  c.eval.update(num_samples=50_000, num_real=50_000, batch_size=256)
  return defaults.shrink_for_tiny(c) if arg.tiny else c
