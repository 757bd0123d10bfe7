r"""Meta-IPC: IPC meta-learned with a norm-scaled inner loop (IPC §3.3).

  python -m ginr_jax.cli.main --config=configs/meta_ipc.py:imagenette \
      --workdir=workdirs/meta_ipc_imagenette

Paper rows (argument: the paper's table, data: its test PSNR; from PAPER_ROWS,
written here by `python -m ginr_jax.cli.paper_rows`):
  imagenette          ImageNette 178: the official config; no number in the
                      paper
  ffhq256             FFHQ 256: the official config (200 epochs); the paper's
                      run: epochs=100
  ffhq256,epochs=100  IPC §4.4, FFHQ 256: 33.74 dB; MAML on the same data:
                      32.84 dB, configs/learned_init.py

Recipe (`docs/faithfulness.md#meta-learning`, the official meta configs): no
encoder; V_0 [r, d] and U are outer parameters with the shared hyponet
(5 layers, d = 256, layer 2 modulated, r = 256); per instance, 2 inner steps
V <- V - eps ||V||_F^2 grad_V MSE on the full pixel grid, second-order
through the inner loop; Adam outer updates of V_0, U and the hyponet, batch
16.
  imagenette: eps 0.003, outer LR 1e-4, 800 epochs, sigma 128.
  ffhq256:    eps 0.01, outer LR 1e-3 with a linear warm-up from 0 over half
              an epoch, 200 epochs, sigma 64.
Evaluation adapts every test image with the same inner loop (first-order,
as the official evaluation) before measuring PSNR; training logs
train/psnr_inner_k, the PSNR before inner step k (k = 0: V_0 itself).

Measured: no full run here (CPU-only machine); `:tiny` trains 3 steps.
Memory of the ffhq256 training step at batch 16, from XLA's analysis of the
compiled step (`python -m ginr_jax.cli.benchmark --config=configs/meta_ipc.py
--compile_only --variant=ffhq256 --variant=ffhq256,remat ...`, CPU; per
device, nearly all activations): second-order 25.1 GB; remat 12.1 GB (1.22x
the FLOPs); inner_subsample=0.25 12.5 GB (0.52x the FLOPs); both 7.8 GB;
first_order 7.8 GB. At batch 2 the measured peak RSS of a run is the
compiled figure plus about 0.5 GB (3.7 / 2.2 / 2.2 / 1.5 GB).

Arguments: `data` (imagenette | ffhq256, positional), `epochs` (0: the
official config's), `first_order` (first-order meta-gradient), `remat`
(recompute the inner steps in the backward pass), `inner_subsample` (the
fraction of pixels, drawn per instance and step, that the inner loop sees in
training; 1.0, the official, all; evaluation adapts on all), `tiny`.
"""

from ginr_jax import config_lib as common
from ginr_jax import paper_rows

# fmt: off
PAPER_ROWS = paper_rows.rows(
    ("imagenette", "", "", "ImageNette 178", None,
     "the official config; no number in the paper"),
    ("ffhq256", "", "", "FFHQ 256", None,
     "the official config (200 epochs); the paper's run: epochs=100"),
    ("ffhq256,epochs=100", "IPC", "§4.4", "FFHQ 256", "33.74",
     "MAML on the same data: 32.84 dB, configs/learned_init.py")
)
# fmt: on


def get_config(arg=None):
  arg = common.parse_arg(arg, data="imagenette", epochs=0, first_order=False,
                         remat=False, inner_subsample=1.0, tiny=False)
  c = common.meta_learning_config(
      arg, model="meta_ipc", inner_lr={"imagenette": 0.003, "ffhq256": 0.01},
      outer_lr={"imagenette": 1e-4,
                "ffhq256": 1e-3}, epochs={"imagenette": 800, "ffhq256": 200})
  return common.shrink_for_tiny(c) if arg.tiny else c
