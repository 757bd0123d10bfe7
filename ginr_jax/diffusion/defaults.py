"""The diffusion configs' shared defaults and their `:tiny` shrink
(configs/diffusion_*.py); the values are LA-GINR App. A.3's."""

import ml_collections

from ginr_jax import config_lib


def base_config() -> ml_collections.ConfigDict:
  """App. A.3's recipe around a denoiser of the given latents."""
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.num_devices = 0  # devices on the "data" mesh axis; 0: all
  c.sharding = dict(strategy="data_parallel", min_size=2**14, rules=())
  # The exported latents (python -m ginr_jax.cli.export_latents).
  c.latents_dir = ""
  # The latents' shape and classes (checked against the export) and the
  # transformer (denoiser.py).
  c.model = dict(num_tokens=256, token_dim=256, num_classes=1000, width=1024,
                 depth=24, num_heads=16, mlp_ratio=4, freq_dim=256,
                 dtype="float32")
  c.input = dict(batch_size=256, num_threads=4)
  # DDPM, linear betas over T = 1000 steps, x0-prediction; 10% of the labels
  # dropped for classifier-free guidance; EMA of the parameters.
  c.diffusion = dict(num_steps=1000, beta_start=1e-4, beta_end=0.02,
                     label_drop=0.1, ema_decay=0.9999)
  config_lib.set_optim_and_loop(c, eval_steps=50_000)
  # Sampling (sample.py) from the EMA parameters: DDIM steps, guidance scale
  # (1: the conditional model); grids of per_class samples of the first
  # max_classes classes at each upsampling factor; metrics over num_samples
  # samples against num_real real training images; fid_extractor
  # "inception" (weights: inception_path, fid.py), "standin" (tests only, not
  # an FID) or "" (no FID); nn_metrics: nearest-real-image class accuracy and
  # PSNR (sample.py; pixel space, for small data).
  c.eval = dict(sample_steps=250, guidance=2.5, batch_size=64, per_class=8,
                max_classes=10, upsample=(1,), num_samples=50_000,
                num_real=50_000, fid_extractor="inception", inception_path="",
                nn_metrics=False)
  return c


def shrink_for_tiny(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Same code path, tiny sizes: the latents of a `:tiny` LA-GINR run (8
  tokens x 16 channels of the single-class synthetic data), a one-block
  denoiser, 3 steps, 4 DDIM steps and the stand-in FID extractor."""
  c.model.update(num_tokens=8, token_dim=16, num_classes=1, width=16, depth=1,
                 num_heads=2, freq_dim=16)
  c.input.batch_size = 8
  c.input.num_threads = 2
  c.total_steps = 3
  c.log_steps = 1
  c.ckpt_steps = 2
  c.eval_steps = 3
  c.eval.update(sample_steps=4, batch_size=8, per_class=4, max_classes=2,
                upsample=(1, 2), num_samples=8, num_real=8,
                fid_extractor="standin", nn_metrics=True)
  return c
