"""Errors a person can act on: every bad input of the command line prints
one line, `error: <problem and what to do>`, exits non-zero, and prints no
traceback.

The commands run in one subprocess that imports the libraries once and then
forks a child per command, which runs the entry point as `python -m` does
(`runpy`, `__main__`, the same `cli.run`): a fresh interpreter per command
would spend most of this file's time importing JAX.
"""

import atexit
import functools
import json
import os
import subprocess
import shutil
import sys
import tempfile
import textwrap

from absl.testing import absltest
import numpy as np
from PIL import Image

from ginr_jax import checks
from ginr_jax import cli
from ginr_jax import config_lib
from ginr_jax import train
from ginr_jax import utils
from ginr_jax.cli import compare
from ginr_jax.datasets import images
from ginr_jax.datasets import preprocess
from configs import demo

ROOT = os.path.join(os.path.dirname(__file__), "..")

_RUNNER = textwrap.dedent("""
    import json, os, runpy, sys
    from ginr_jax import train  # noqa: the imports every command shares
    from ginr_jax import api  # noqa
    from ginr_jax.diffusion import train as diffusion_train  # noqa
    results = []
    for module, argv in json.loads(sys.argv[1]):
      read, write = os.pipe()
      pid = os.fork()
      if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        os.dup2(write, 2)
        sys.argv = [module, *argv]
        code = 0
        try:
          runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as e:
          code = e.code if isinstance(e.code, int) else (e.code is not None)
        except BaseException:  # a traceback: what the tests look for
          import traceback
          traceback.print_exc()
          code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
      os.close(write)
      with os.fdopen(read, errors="replace") as f:
        output = f.read()
      _, status = os.waitpid(pid, 0)
      results.append({"rc": os.waitstatus_to_exitcode(status),
                      "output": output})
    print(json.dumps(results))
""")


def run_commands(cases):
  """Runs [(module, argv)] as `python -m module *argv`; [{rc, output}]."""
  # The environment of conftest.py: four CPU devices, fast compiles.
  proc = subprocess.run([sys.executable, "-c", _RUNNER,
                         json.dumps(cases)], cwd=ROOT, capture_output=True,
                        text=True, timeout=600, check=True)
  return json.loads(proc.stdout.splitlines()[-1])


def write_images(folder, count, bad=None):
  """`count` JPEGs img0.JPEG ... in folder; file `bad` truncated."""
  os.makedirs(folder, exist_ok=True)
  paths = []
  for i in range(count):
    path = os.path.join(folder, f"img{i}.JPEG")
    pixels = np.random.default_rng(i).integers(0, 255, (20, 24, 3), np.uint8)
    Image.fromarray(pixels).save(path)
    if i == bad:
      with open(path, "rb") as f:
        data = f.read()
      with open(path, "wb") as f:
        f.write(data[:len(data) // 3])
    paths.append(path)
  return paths


def fake_workdir(path, config, with_checkpoint=True):
  """A workdir as training leaves it, as far as the checks look."""
  os.makedirs(
      os.path.join(path, "checkpoints", "3") if with_checkpoint else path)
  with open(os.path.join(path, "config.json"), "w") as f:
    f.write(config.to_json_best_effort())


@functools.cache
def command_results():
  """(root, {name: (module, argv)}, {name: {rc, output}}) of every bad
  command, run once per test process."""
  root = tempfile.mkdtemp()
  atexit.register(shutil.rmtree, root, True)
  tiny = ["--config=configs/demo.py:tiny"]
  wd = lambda name: f"--workdir={os.path.join(root, name)}"
  os.makedirs(os.path.join(root, "empty"))
  with open(os.path.join(root, "a_file"), "w") as f:
    f.write("not a folder")
  fake_workdir(os.path.join(root, "trained"), demo.get_config("tiny"))
  fake_workdir(os.path.join(root, "no_ckpt"), demo.get_config("tiny"),
               with_checkpoint=False)
  data = os.path.join(root, "data", "imagenette2-320")
  write_images(os.path.join(data, "train", "n01"), 8, bad=3)
  write_images(os.path.join(data, "val", "n01"), 8)
  main = "ginr_jax.cli.main"

  def tiny_main(*args):
    """`main` on the tiny demo config, with `args`."""
    return main, [*tiny, *args]

  cases = {
      "typo_in_config_argument":
          (main, ["--config=configs/demo.py:tinyy",
                  wd("w")]), "unknown_model":
                      (main, ["--config=configs/demo.py:model=nope",
                              wd("w")]),
      "unknown_key_far_from_any": tiny_main("--config.nope=1", wd("w")),
      "unknown_nested_key": tiny_main("--config.input.nme=x", wd("w")),
      "wrong_value_type": tiny_main("--config.total_steps=abc", wd("w")),
      "missing_config_file": (main, ["--config=configs/nope.py",
                                     wd("w")]),
      "diffusion_config_to_main":
          (main, ["--config=configs/diffusion_demo.py:tiny",
                  wd("w")]), "stage1_config_to_diffusion":
                      ("ginr_jax.cli.diffusion", [*tiny, wd("w")]),
      "benchmark_input_zero_batches":
          ("ginr_jax.cli.benchmark_input", [*tiny, "--batches=0"]
          ), "negative_total_steps": tiny_main("--config.total_steps=-5",
                                               wd("w")),
      "zero_batch_size": tiny_main("--config.input.batch_size=0", wd("w")),
      "negative_profile_steps": tiny_main("--config.profile_steps=-1", wd("w")),
      "zero_peak_tflops":
          ("ginr_jax.cli.benchmark", [*tiny, "--peak_tflops=0"]
          ), "batch_not_divisible": tiny_main("--config.input.batch_size=6",
                                              wd("w")),
      "wrong_patch_size": tiny_main("--config.input.image_size=15", wd("w")),
      "workdir_is_a_file": tiny_main(wd("a_file")), "missing_dataset": (main, [
          "--config=configs/imagenette.py",
          wd("w"), f"--config.input.data_dir={os.path.join(root, 'nodata')}"
      ]), "eval_on_empty_workdir": tiny_main(
          "--mode=eval", wd("empty")), "eval_without_config_or_workdir":
              (main, ["--mode=eval",
                      wd("w")]), "resume_with_other_model": tiny_main(
                          "--config.model.hyponet.hidden_dim=48",
                          wd("trained")), "eval_with_other_config": (main, [
                              "--config=configs/demo.py:tiny,model=la_ginr",
                              "--mode=eval",
                              wd("trained")
                          ]), "tto_without_checkpoint":
                              ("ginr_jax.cli.tto", [wd("no_ckpt")]),
      "compare_without_metrics":
          ("ginr_jax.cli.compare", [os.path.join(root, "empty")]
          ), "unreadable_image": (main, [
              "--config=configs/imagenette.py:tiny",
              wd("bad"), "--config.input.name=imagenette",
              f"--config.input.data_dir={os.path.join(root, 'data')}"
          ]), "nan_loss": tiny_main("--config.optim.lr=1e30",
                                    "--config.num_devices=1",
                                    "--config.total_steps=3",
                                    "--config.ckpt_steps=1",
                                    "--config.eval_steps=100", wd("nan"))
  }
  names = sorted(cases)
  return root, cases, dict(zip(names, run_commands([cases[n] for n in names])))


class CommandLineTest(absltest.TestCase):
  """Each bad input: exit status 1, one `error:` line, no traceback."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root, cls.cases, cls.results = command_results()

  def assert_error(self, name, *expected):
    """The command `name` failed with one `error:` line holding `expected`."""
    result = self.results[name]
    output = result["output"]
    self.assertEqual(result["rc"], 1, output)
    self.assertNotIn("Traceback", output)
    errors = [l for l in output.splitlines() if l.startswith("error: ")]
    self.assertLen(errors, 1, output)
    for text in expected:
      self.assertIn(text, errors[0])
    return errors[0]

  def test_benchmark_input_bad_flag(self):
    self.assert_error("benchmark_input_zero_batches", "--batches=0",
                      "not a positive integer")

  def test_typo_in_config_argument_suggests_the_option(self):
    self.assert_error(
        "typo_in_config_argument",
        "Config argument 'tinyy' not understood; did you mean 'tiny'? options: "
    )

  def test_unknown_model_lists_the_models(self):
    self.assert_error("unknown_model", "model='nope'; use one of ipc, ")

  def test_unknown_override_key_lists_valid_keys(self):
    self.assert_error("unknown_key_far_from_any", "unknown config key 'nope'",
                      "valid keys of config: ", "total_steps")
    self.assert_error("unknown_nested_key", "unknown config key 'input.nme'",
                      "did you mean 'name'?", "valid keys of input: ")

  def test_wrong_value_type_names_the_default(self):
    self.assert_error("wrong_value_type", "--config.total_steps=abc",
                      "takes a value like its default, 3")

  def test_missing_config_file(self):
    self.assert_error("missing_config_file",
                      "configs/nope.py: no such config file")

  def test_each_stage_points_to_the_others_command(self):
    self.assert_error(
        "diffusion_config_to_main",
        "python -m ginr_jax.cli.diffusion --config=configs/"
        "diffusion_demo.py:tiny")
    self.assert_error(
        "stage1_config_to_diffusion",
        "python -m ginr_jax.cli.main --config=configs/demo.py:tiny")

  def test_non_positive_steps_and_batch_fail_before_running(self):
    self.assert_error("negative_total_steps",
                      "config.total_steps=-5: it must be at least 1")
    self.assert_error("zero_batch_size", "config.input.batch_size=0")
    self.assert_error("negative_profile_steps", "config.profile_steps=-1",
                      "0 for none")
    self.assertFalse(os.path.exists(os.path.join(self.root, "w")))

  def test_benchmark_peak_must_be_positive(self):
    self.assert_error("zero_peak_tflops", "--peak_tflops=0.0", "above 0")

  def test_batch_not_divisible_by_devices(self):
    self.assert_error("batch_not_divisible",
                      "input.batch_size=6 is not divisible by the 4 devices")

  def test_wrong_patch_size(self):
    self.assert_error("wrong_patch_size", "do not tile",
                      "Choose input.image_size")

  def test_workdir_that_is_a_file(self):
    self.assert_error("workdir_is_a_file", "a_file is a file, not a folder")

  def test_missing_dataset_names_prepare_command(self):
    self.assert_error("missing_dataset",
                      "python -m ginr_jax.cli.prepare imagenette",
                      os.path.join(self.root, "nodata"))
    self.assertFalse(os.path.exists(os.path.join(self.root, "w")))

  def test_eval_on_empty_workdir_creates_nothing(self):
    self.assert_error("eval_on_empty_workdir", "No checkpoint in",
                      "train first with the same --workdir")
    self.assertEmpty(os.listdir(os.path.join(self.root, "empty")))
    # --config is optional for --mode=eval: it reads the workdir's.
    self.assert_error("eval_without_config_or_workdir", "config.json")

  def test_other_config_on_a_trained_workdir_lists_the_differences(self):
    self.assert_error("resume_with_other_model", "cannot resume",
                      "model.hyponet.hidden_dim: 16 -> 48",
                      "or a new --workdir")
    self.assert_error("eval_with_other_config", "cannot evaluate",
                      "model_name: ipc -> la_ginr", "more)")

  def test_tto_without_checkpoint(self):
    self.assert_error("tto_without_checkpoint", "No checkpoint in")

  def test_compare_without_metrics(self):
    self.assert_error("compare_without_metrics", "No metrics.jsonl in")

  def test_unreadable_image_names_path_and_index(self):
    self.assert_error(
        "unreadable_image",
        os.path.join("train", "n01", "img3.JPEG") + " (index 3 of the 8 files",
        "--config.input.skip_bad_files=True")

  def test_nan_loss_names_the_last_checkpoint(self):
    self.assert_error(
        "nan_loss", "at step 2; stopping. The last good checkpoint is step 1")


class UnreadableFileTest(absltest.TestCase):

  def test_skip_reads_the_next_file_and_counts(self):
    files = write_images(self.create_tempdir().full_path, 3, bad=1)
    with self.assertRaisesRegex(images.UnreadableFileError,
                                r"img1.JPEG \(index 1 of the 3 files"):
      images.read_file(files[1], files)
    with self.assertLogs(level="WARNING") as logs:
      image = images.read_file(files[1], files, skip_bad_files=True)
    self.assertEqual(
        np.asarray(image).tolist(),
        np.asarray(preprocess.load_image(files[2])).tolist())
    self.assertIn("1 skipped so far", logs.output[0])


class ConfigChecksTest(absltest.TestCase):

  def test_resumable_keys_may_change_others_may_not(self):
    saved = demo.get_config("tiny")
    requested = demo.get_config("tiny")
    requested.total_steps, requested.eval_max_examples = 10, 2
    requested.input.data_dir = "elsewhere"
    requested.optim.lr = 0.5
    requested.profile_steps = 5
    self.assertEmpty(checks.differences(saved, requested))
    requested.optim.name, requested.seed = "adamw", 3
    self.assertEqual(checks.differences(saved, requested),
                     ["seed: 0 -> 3", "optim.name: adam -> adamw"])

  def test_a_config_without_a_section_fails_naming_it(self):
    saved, requested = demo.get_config("tiny"), demo.get_config("tiny")
    del saved["meta"]
    self.assertIn("meta.inner_steps: (none) -> 0",
                  checks.differences(saved, requested))
    with self.assertRaisesRegex(cli.ConfigError, "the config has no meta;"):
      train.Setup(saved)

  def test_a_config_json_without_training_only_keys_still_loads(self):
    saved = demo.get_config("tiny")
    del saved["profile_steps"]  # a model exported before it existed
    train.Setup(saved)
    checks.check_config(saved, training=False)

  def test_bare_word_still_fills_the_first_option(self):
    self.assertEqual(
        config_lib.parse_arg("la_ginr", tiny=False, model="ipc").model,
        "la_ginr")
    with self.assertRaisesRegex(cli.ConfigError, "give a value of that type"):
      config_lib.parse_arg("r=x", r=1)


class EvalCheckpointTest(absltest.TestCase):

  def test_eval_uses_the_workdirs_config_and_its_own_file(self):
    workdir = self.create_tempdir().full_path
    config = demo.get_config("tiny")
    config.total_steps = config.eval_steps = 2
    config.render_upsample, config.num_images = (1,), 2
    train.train_and_evaluate(config, workdir)
    training = utils.read_metrics(workdir)
    scalars = train.evaluate_checkpoint(None, workdir)
    self.assertEqual(utils.read_metrics(workdir), training)
    with open(os.path.join(workdir, "eval_metrics.jsonl")) as f:
      evals = [json.loads(line) for line in f]
    self.assertEqual([e["step"] for e in evals], [2])
    self.assertAlmostEqual(evals[0]["eval/psnr"], scalars["eval/psnr"],
                           places=5)
    self.assertEqual(compare.curves(workdir)[2].tolist(), [2])


if __name__ == "__main__":
  absltest.main()
