r"""Generating INRs on the embedded demo: a small denoiser of LA-GINR latents.

  # 1. the stage-1 LA-GINR demo (configs/demo.py):
  python -m ginr_jax.cli.main --config=configs/demo.py:model=la_ginr \
      --workdir=workdirs/demo_la_ginr
  # 2. its latents: 256 grid crops per photo of both splits
  python -m ginr_jax.cli.export_latents --workdir=workdirs/demo_la_ginr \
      --out=workdirs/demo_latents \
      --input_kwargs='{"test_crops_per_photo": 256}'
  # 3. the denoiser, sampling grids at the end:
  python -m ginr_jax.cli.diffusion --config=configs/diffusion_demo.py \
      --workdir=workdirs/demo_diffusion

Target: LA-GINR §4.4 (Fig. 6 / 11) in miniature. The classes are the seven
training photos of the embedded data (one class per source photo); a sample
of class k should look like a crop of photo k.
Measured on 2 shared CPU cores, from the stage-1 demo at 2,000 steps
(latents' reconstruction PSNR 23.05 dB train / 23.83 dB test): training
14 min 28 s, sampling (250 DDIM steps, guidance 2.5) 5 min; 41.4% of 70
samples have a nearest real training crop of their own class (chance
14.3%), 20.1 dB from it. Grid and discussion: README, "Generating INRs
(LA-GINR §4.4)".

Data: 64 latent tokens x 64 channels of 32x32 crops (configs/demo.py's
LA-GINR), standardised per token and channel as App. A.3.

Model: the paper's design (denoiser.py: adaLN-Zero blocks) at width 128, 4
blocks, 4 heads: 1.3M parameters. Recipe as App. A.3 (linear schedule T =
1000, x0-prediction, 10% label drop, Adam without warm-up or weight decay,
DDIM, guidance 2.5), except, for a run of minutes instead of 400 epochs:
batch 32 (paper 256), 2,000 steps, Adam at 5e-4 (paper 1e-4), EMA decay
0.999 (paper 0.9999, an average over 10,000 steps, more than the whole run).

Arguments: `tiny` (latents of a `:tiny` LA-GINR run, a one-block denoiser,
3 steps; used by tests/diffusion_end_to_end_test.py).
"""

from ginr_jax import config_lib as common
from ginr_jax.diffusion import defaults


def get_config(arg=None):
  arg = common.parse_arg(arg, tiny=False)
  c = defaults.base_config()
  c.latents_dir = "workdirs/demo_latents"
  c.model.update(num_tokens=64, token_dim=64, num_classes=7, width=128, depth=4,
                 num_heads=4, freq_dim=128)
  c.input.batch_size = 32
  c.optim.lr = 5e-4
  c.diffusion.ema_decay = 0.999
  c.total_steps = 2000
  c.log_steps = 100
  c.ckpt_steps = 500
  c.eval_steps = 2000
  # 8 samples of each of the 7 classes, decoded at 1x and 3x; nearest-
  # neighbour metrics of 70 samples against 896 real training crops; no
  # FID (the Inception network on 32 px crops means little; pass
  # eval.fid_extractor=inception and eval.inception_path to get it).
  c.eval.update(per_class=8, max_classes=7, upsample=(1, 3), num_samples=70,
                num_real=896, fid_extractor="", nn_metrics=True)
  return defaults.shrink_for_tiny(c) if arg.tiny else c
