r"""Learned Init / MAML: all MLP weights meta-learned (IPC §4.4 baseline).

  python -m ginr_jax.cli.main --config=configs/learned_init.py:ffhq256 \
      --workdir=workdirs/learned_init_ffhq256

Paper rows (argument: the paper's table, data: its test PSNR; from PAPER_ROWS,
written here by `python -m ginr_jax.cli.paper_rows`):
  ffhq256             FFHQ 256: the official learned_init config (200 epochs)
  ffhq256,epochs=100  IPC §4.4, FFHQ 256: 32.84 dB; "MAML" in the paper, the
                      official learned_init; Meta-IPC: 33.74 dB
  imagenette          ImageNette 178: the official learned_init config; IPC
                      Table 2's Learned Init numbers (ImageNette 27.07, CelebA
                      30.37 dB) are quoted from Tancik et al.
  ffhq256,maml        FFHQ 256: plain MAML: all weights and biases, plain SGD
                      steps

Recipe (`docs/faithfulness.md#meta-learning`): the 5-layer d=256
weight-normalised MLP; every layer's weight adapted per instance by 2
norm-scaled SGD steps (biases shared and outer-only), second-order; Adam
outer updates, batch 16.
  ffhq256:    inner eps 0.001, outer LR 3e-4 with half an epoch of linear
              warm-up, 200 epochs, sigma 64 (IPC §4.4: eps 0.001, eps'
              0.0003, 100 epochs).
  imagenette: inner eps 0.003, outer LR 1e-4, 800 epochs, sigma 128.
The official YAMLs for these do not load (they set `ignore_base_param`,
which their config class lacks); these configs are those YAMLs without it.
`maml` adapts the biases too and drops the norm scaling (the textbook MAML
step), keeping the same learning rates.

Measured: no full run here (CPU-only machine); `:tiny` trains 3 steps.

Arguments: `data` (imagenette | ffhq256, positional), `epochs` (0: the
official config's), `maml`, `first_order`, `remat`, `inner_subsample` (the
fraction of pixels each inner step sees in training; 1.0, the official,
all), `tiny`.
"""

from ginr_jax import config_lib as common
from ginr_jax import paper_rows

# fmt: off
PAPER_ROWS = paper_rows.rows(
    ("ffhq256", "", "", "FFHQ 256", None,
     "the official learned_init config (200 epochs)"),
    ("ffhq256,epochs=100", "IPC", "§4.4", "FFHQ 256", "32.84",
     '"MAML" in the paper, the official learned_init; Meta-IPC: 33.74 dB'),
    ("imagenette", "", "", "ImageNette 178", None,
     "the official learned_init config; IPC Table 2's Learned Init numbers "
     "(ImageNette 27.07, CelebA 30.37 dB) are quoted from Tancik et al."),
    ("ffhq256,maml", "", "", "FFHQ 256", None,
     "plain MAML: all weights and biases, plain SGD steps")
)
# fmt: on


def get_config(arg=None):
  arg = common.parse_arg(arg, data="ffhq256", epochs=0, maml=False,
                         first_order=False, remat=False, inner_subsample=1.0,
                         tiny=False)
  c = common.meta_learning_config(
      arg, model="learned_init",
      inner_lr={"imagenette": 0.003, "ffhq256": 0.001},
      outer_lr={"imagenette": 1e-4, "ffhq256": 3e-4},
      epochs={"imagenette": 800, "ffhq256": 200}, norm_scaled=not arg.maml)
  c.model.adapt_biases = arg.maml
  return common.shrink_for_tiny(c) if arg.tiny else c
