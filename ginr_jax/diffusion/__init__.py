"""Generating INRs: a transformer diffusion model over LA-GINR latent tokens
(LA-GINR §4.4, Appendix A.3, Table 5).

  schedule.py  DDPM forward process, x0-parameterised loss, DDIM, guidance
  denoiser.py  the transformer over the R latent tokens
  latents.py   export of a stage-1 model's latents, the on-disk format,
               standardisation
  train.py     the diffusion trainer (its loop: ginr_jax/run_loop.py)
  sample.py    DDIM sampling from the EMA parameters, decoding, PNG grids
  fid.py       Frechet distance and the FID Inception network

Its commands: `python -m ginr_jax.cli.export_latents` (a stage-1 model's
latents to disk) and `python -m ginr_jax.cli.diffusion` (train, sample).
"""
