r"""Compares training runs: a markdown table of test PSNR and a PNG of the
learning curves (test PSNR and smoothed training PSNR against steps).

  python -m ginr_jax.cli.compare --out=docs/demo_curves.png \
      workdirs/demo_transinr workdirs/demo_ipc workdirs/demo_la_ginr
"""

import os

from absl import app
from absl import flags
import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from ginr_jax import cli
from ginr_jax import utils

_OUT = flags.DEFINE_string("out", "curves.png", "Where to write the plot.")
_SMOOTH = flags.DEFINE_integer(
    "smooth", 5, "Moving-average window over logged training PSNRs.")


def curves(workdir: str):
  """(train steps, train PSNR, eval steps, eval PSNR, eval baseline)."""
  if not os.path.exists(os.path.join(workdir, "metrics.jsonl")):
    raise cli.NotFoundError(
        f"No metrics.jsonl in {workdir}: is it the --workdir of a training run?"
    )
  rows = utils.read_metrics(workdir)
  if not rows:
    raise cli.NotFoundError(f"No metrics in {workdir}: is it a workdir?")
  train = [(r["step"], r["train/psnr"]) for r in rows if "train/psnr" in r]
  evals = [(r["step"], r["eval/psnr"], r["eval/baseline_psnr"])
           for r in rows
           if "eval/psnr" in r]
  t = np.array(train).reshape(-1, 2)
  e = np.array(evals).reshape(-1, 3)
  return t[:, 0], t[:, 1], e[:, 0], e[:, 1], e[:, 2]


def table(workdirs: list[str]) -> str:
  lines = [
      "| run | steps | test PSNR (dB) | mean-colour baseline (dB) |",
      "|---|---|---|---|"
  ]
  for w in workdirs:
    _, _, steps, psnr, base = curves(w)
    if not len(steps):
      raise cli.ConfigError(f"{w} has no evaluation yet.")
    lines.append(f"| {os.path.basename(os.path.normpath(w))} | "
                 f"{int(steps[-1])} | {psnr[-1]:.2f} | {base[-1]:.2f} |")
  return "\n".join(lines)


def plot(workdirs: list[str], out: str, smooth: int = 5):
  fig, (ax_train, ax_eval) = plt.subplots(1, 2, figsize=(10, 4))
  for w in workdirs:
    name = os.path.basename(os.path.normpath(w))
    t_step, t_psnr, e_step, e_psnr, _ = curves(w)
    window = max(1, min(smooth, len(t_psnr)))
    smoothed = np.convolve(t_psnr, np.ones(window) / window, mode="valid")
    ax_train.plot(t_step[window - 1:], smoothed, label=name)
    ax_eval.plot(e_step, e_psnr, marker="o", label=name)
  ax_train.set(title="training PSNR (moving average)", xlabel="step",
               ylabel="dB")
  ax_eval.set(title="test PSNR", xlabel="step", ylabel="dB")
  for ax in (ax_train, ax_eval):
    ax.grid(alpha=0.3)
    ax.legend()
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  fig.savefig(out, dpi=100)
  plt.close(fig)


def main(argv):
  workdirs = argv[1:]
  if not workdirs:
    raise app.UsageError("Give the workdirs to compare as arguments.")
  print(table(workdirs))
  plot(workdirs, _OUT.value, _SMOOTH.value)
  print(f"wrote {_OUT.value}")


if __name__ == "__main__":
  cli.run(main)
