r"""Does an NVS model read its support views? The swap test.

  python -m ginr_jax.cli.support_check --workdir=workdirs/nvs_demo_1 [--step=N]

Evaluates the test split twice: each object's novel view predicted from its
own support views, then from another object's (the support views of the
batch rolled by one, `views.other_support`). A model that reads its support
views loses PSNR on the second pass; one that predicts an average object
does not. With several support views, two more passes ask whether the
views after the first are read too: those views taken from another object
(`psnr_later_views_from_other`), and the first view in every slot
(`psnr_first_view_repeated`: what the other views add). Prints one JSON
line and writes it to WORKDIR/support_check.json.
"""

from ginr_jax import host_memory

if __name__ == "__main__":  # glibc reads its tunables at start only
  host_memory.restart_with_malloc_tuning()

# pylint: disable=g-import-not-at-top,wrong-import-position
import json
import os

from absl import flags
import jax

from ginr_jax import cli
from ginr_jax import evaluators
from ginr_jax import input_pipeline
from ginr_jax import train
from ginr_jax.tasks import views

flags.DEFINE_string("workdir", None, "An NVS training workdir.", required=True)
flags.DEFINE_integer("step", None, "Checkpoint step; default latest.")


def swap_test(setup, params) -> dict[str, float]:
  """Test PSNR from own and from other objects' support views, and the
  mean-colour baseline, over the whole test split."""
  if not isinstance(setup.task, views.Views):
    raise cli.ConfigError("support_check needs an NVS run (configs/"
                          "shapenet.py, configs/nvs_demo.py).")
  cfg = setup.config
  if cfg.input.eval_batch_size < 2:
    raise cli.ConfigError("input.eval_batch_size=1: the swap test rolls the "
                          "support views within a batch; use at least 2.")

  def scalars(transform):
    batches = (dict(transform(b), mask=b["mask"])
               for b in input_pipeline.eval_batches(cfg.input, setup.mesh))
    return evaluators.evaluate(setup.metrics_fn, params, batches)

  own = scalars(lambda b: b)
  other = scalars(views.other_support)
  result = {
      "psnr_own_support": own["eval/psnr"],
      "psnr_other_support": other["eval/psnr"],
      "drop": own["eval/psnr"] - other["eval/psnr"],
      "baseline_psnr": own["eval/baseline_psnr"],
      "num_examples": own["eval/num_examples"]
  }
  if cfg.input.kwargs.get("n_support", 1) > 1:
    later = scalars(lambda b: views.other_support(b, first=1))
    repeated = scalars(views.first_view_repeated)
    result["psnr_later_views_from_other"] = later["eval/psnr"]
    result["psnr_first_view_repeated"] = repeated["eval/psnr"]
  return result


def main(argv):
  del argv
  f = flags.FLAGS
  _, setup, params = train.load_workdir(f.workdir, step=f.step)
  result = {"step": f.step or "latest", **swap_test(setup, params)}
  if jax.process_index() == 0:
    line = json.dumps(result)
    with open(os.path.join(f.workdir, "support_check.json"), "w") as out:
      out.write(line + "\n")
    print(line)


if __name__ == "__main__":
  cli.run(main)
