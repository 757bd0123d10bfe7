r"""The audio demo: IPC, TransINR or LA-GINR on generated chirps, on a CPU.

  python -m ginr_jax.cli.main --config=configs/audio_demo.py \
      --workdir=workdirs/audio_demo_ipc
  python -m ginr_jax.cli.main --config=configs/audio_demo.py:model=transinr \
      --workdir=workdirs/audio_demo_transinr

Data: 1/8-second clips at 16 kHz (2,000 samples) of gliding tones with
three harmonics under an attack / decay envelope (datasets/synthetic_audio
.py), 512 training and 64 test clips, coordinates in [-1, 1]. The model is
configs/audio.py's at a quarter of its sizes: 10 tokens of 200 samples,
3 blocks of width 128, 64 weight / latent tokens (TransINR 16 groups, 65
tokens), the 5-layer d = 64 MLP with 256 Fourier frequencies up to sigma
256 (2,048 Hz on this clip length, as the official sigma 1024 spans 1,024
Hz on 1 s), LA-GINR with d = d_F = 64 and (sigma_1, sigma_2, sigma_q) =
(256, 64, 32). Batch 16, Adam 1e-3, 1,500 steps. Evaluations write WAV files
of targets and reconstructions and a waveform plot to WORKDIR/images/.

Target (IPC Table 1): IPC above TransINR at equal steps.

Paper rows (argument: the paper's table, data: its test PSNR; from PAPER_ROWS,
written here by `python -m ginr_jax.cli.paper_rows`):
  (none)          IPC Table 1, generated chirps: IPC above TransINR at equal
                  steps (no paper number here)
  model=transinr  IPC Table 1, generated chirps: IPC above TransINR at equal
                  steps (no paper number here)
  model=la_ginr   generated chirps: LA-GINR on audio, our extension

Measured on a 2-core CPU shared with other runs (README, Results), test
PSNR at 500 / 1,000 / 1,500 steps (mean-value baseline 7.07 dB):
  (default, IPC)   10.13 / 16.55 / 19.97 dB
  model=transinr    7.57 /  9.81 / 10.31 dB

Arguments: `tiny` and the model arguments (`model`, `precision`, the
family's ARGS in `ginr_jax/models/`).
"""

from ginr_jax import config_lib as common
from ginr_jax import paper_rows
from configs import audio

# The demo's target is IPC Table 1's ordering, not its numbers.
_TARGET = "IPC above TransINR at equal steps (no paper number here)"
# fmt: off
PAPER_ROWS = paper_rows.rows(
    ("", "IPC", "Table 1", "generated chirps", None, _TARGET),
    ("model=transinr", "IPC", "Table 1", "generated chirps", None, _TARGET),
    ("model=la_ginr", "", "", "generated chirps", None,
     "LA-GINR on audio, our extension")
)
# fmt: on


def get_config(arg=None):
  arg = common.parse_arg(arg, tiny=False, model="ipc")
  c = common.base_config()
  c.input.name = "synthetic_audio"
  c.input.kwargs = dict(seconds=0.125, train_examples=512, test_examples=64)
  common.set_model(c, arg, ff_sigma=256.0, sigmas=(256.0, 64.0), sigma_q=32.0)
  audio.audio_model(c, 1)
  # TransINR: 16 x 4 + 1 = 65 weight tokens.
  common.demo_model(c, groups=16)
  if "hyponet" in c.model:
    c.model.hyponet.ff_dim = 256
  c.input.eval_batch_size = 64
  c.optim.lr = 1e-3
  c.total_steps = 1500
  c.log_steps = 100
  c.ckpt_steps = c.eval_steps = 500
  return common.shrink_for_tiny(c) if arg.tiny else c
