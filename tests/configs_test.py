"""Every config row builds at full size (shapes only) and trains with `:tiny`;
the paper rows' tables in the docstrings and the README match PAPER_ROWS.

The rows are the argument strings of each config module's PAPER_ROWS.
Rows of one model on one task are shape-equivalent, so the default lane
builds one of each at full size and the slow lane every other. Under `:tiny`
many rows share one code path (they differ in sizes or bandwidths only), so
training runs once per distinct code path: a few optimizer steps for each in
the default lane, the full train-and-evaluate loop of one config per
modality and model family in the slow lane.
"""

import functools
import glob
import importlib.util
import os

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ginr_jax import models
from ginr_jax import paper_rows
from ginr_jax import tasks
from ginr_jax import train
from ginr_jax import utils

ROOT = os.path.join(os.path.dirname(__file__), "..")
CONFIG_DIR = os.path.join(ROOT, "configs")
# Stage-1 configs; the diffusion ones (diffusion_*.py) have their own test.
NAMES = [
    os.path.basename(p)[:-3]
    for p in sorted(glob.glob(os.path.join(CONFIG_DIR, "*.py")))
    if not os.path.basename(p).startswith("diffusion_")
]


@functools.cache
def module(name: str):
  spec = importlib.util.spec_from_file_location(
      name, os.path.join(CONFIG_DIR, f"{name}.py"))
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod


def load(name: str, arg: str):
  return module(name).get_config(arg)


def rows(name: str) -> tuple[str, ...]:
  return paper_rows.args(getattr(module(name), "PAPER_ROWS", ())) or ("",)


ROWS = [(name, row) for name in NAMES for row in rows(name)
       ] + [("demo", "model=transinr"), ("demo", "model=la_ginr")]


def model_and_task(config) -> tuple:
  task = config.task
  return (config.model_name, task.name, task.get("key"), task.get("render"))


def first_row_of_each_model_and_task() -> list[tuple[str, str]]:
  """A paper config's row where there is one (the demos are smaller)."""
  firsts = {}
  for name, row in sorted(ROWS, key=lambda r: ("demo" in r[0], r)):
    firsts.setdefault(model_and_task(load(name, row)), (name, row))
  return sorted(firsts.values())


FAST_ROWS = first_row_of_each_model_and_task()
SLOW_ROWS = [r for r in ROWS if r not in FAST_ROWS]


def code_path(config) -> tuple:
  """What changes the traced model under `:tiny`, beyond array sizes: the
  task and the model's variant (its family's `variant`).

  Trainer options (coordinate jitter and subsampling, schedules) are covered
  by FULL_LOOP and train_test.py.
  """
  task = config.task
  return (task.name, task.get("key"), task.get("render"), config.model_name,
          *models.family(config.model_name).variant(config.model))


# The whole train-and-evaluate loop (IPC's on images is in train_test.py):
# LA-GINR with per-instance coordinates (ImageNette's jitter), 3 s audio
# (coordinates in [-3, 3], 25% of the samples) and both NVS renderings.
FULL_LOOP = [("imagenette", "model=la_ginr,tiny"), ("audio", "3,tiny"),
             ("nvs_demo", "views=2,tiny"),
             ("shapenet", "lamps,views=2,model=la_ginr,tiny")]


def tiny_paths():
  """One (name, row) per `:tiny` code path, FULL_LOOP's configs first."""
  paths = {}
  for name, row in FULL_LOOP + ROWS:
    tiny = (row if row.endswith("tiny") else ",".join(
        filter(None, [row, "tiny"])))
    paths.setdefault(code_path(load(name, tiny)), (name, tiny))
  return sorted(paths.values())


TINY_PATHS = tiny_paths()


def param_count(config) -> int:
  model = models.build(config.model_name, config.model)
  shapes = jax.eval_shape(
      lambda: model.init(jax.random.key(0),
                         *tasks.build(config).init_inputs()))
  return utils.count_params(shapes)


def state_drawn_on_host(setup: train.Setup, seed: int = 0):
  """A train state of the model's shapes, its parameters drawn by numpy.

  A code path's step needs finite parameters, not the model's initialisers
  (the models' own tests check those, and the slow lane's full loops run
  them); compiling the initialisers would cost as much as the step.
  """
  rng = np.random.default_rng(seed)

  def draw(path, s):  # the usual scales: N(0, 1/fan_in), zero biases
    if len(s.shape) >= 2:
      return jnp.asarray(
          rng.standard_normal(s.shape) / np.sqrt(s.shape[-2]), s.dtype)
    unit = path[-1].key in ("scale", "g")  # norm scales, weight-norm gains
    return (jnp.ones if unit else jnp.zeros)(s.shape, s.dtype)

  params = jax.tree_util.tree_map_with_path(draw, setup.state_shape["params"])
  return {
      "step": jnp.zeros((), jnp.int32), "params": params,
      "opt": setup.tx.init(params)
  }


def assert_builds_at_full_size(test, name, row):
  config = load(name, row)
  test.assertGreater(config.total_steps, 0)
  test.assertGreater(param_count(config), 0)


@pytest.mark.slow
class EveryRowTest(parameterized.TestCase):

  @parameterized.parameters(*SLOW_ROWS)
  def test_row_builds_at_full_size(self, name, row):
    assert_builds_at_full_size(self, name, row)

  @parameterized.parameters(*FULL_LOOP)
  def test_tiny_trains_and_evaluates(self, name, arg):
    config = load(name, arg)
    self.assertIn(config.input.name, ("synthetic", "synthetic_audio", "scenes"))
    workdir = self.create_tempdir().full_path
    train.train_and_evaluate(config, workdir)
    metrics = utils.read_metrics(workdir)
    self.assertEqual(metrics[-1]["step"], config.total_steps)
    self.assertTrue(np.isfinite(metrics[-1]["eval/psnr"]))
    artefacts = os.listdir(os.path.join(workdir, "images"))
    expected = {
        "signal": "recon_00000003_x1.png", "views": "views_00000003.png"
    }.get(config.task.name)
    if config.task.get("key") == "audio":
      expected = "audio_00000003_0_recon.wav"
    self.assertIn(expected, artefacts)


class ConfigsTest(parameterized.TestCase):

  def test_rows_cover_every_model_and_task(self):
    self.assertEqual(sorted(FAST_ROWS + SLOW_ROWS), sorted(ROWS))
    self.assertLen(FAST_ROWS, len({model_and_task(load(*r)) for r in ROWS}))

  @parameterized.parameters(*FAST_ROWS)
  def test_one_row_of_each_model_and_task_builds_at_full_size(self, name, row):
    assert_builds_at_full_size(self, name, row)

  @parameterized.parameters(*NAMES)
  def test_docstring_holds_the_paper_rows(self, name):
    mod = module(name)
    self.assertFalse(hasattr(mod, "ROWS"), "make ROWS PAPER_ROWS")
    if hasattr(mod, "PAPER_ROWS"):
      self.assertIn(paper_rows.table(mod.PAPER_ROWS), mod.__doc__,
                    "rewrite it: python -m ginr_jax.cli.paper_rows")

  def test_readme_lists_the_paper_rows(self):
    with open(os.path.join(ROOT, "README.md")) as f:
      readme = f.read()
    listed = {
        name: module(name).PAPER_ROWS
        for name in NAMES
        if hasattr(module(name), "PAPER_ROWS")
    }
    self.assertIn(paper_rows.summary(listed), readme,
                  "rewrite it: python -m ginr_jax.cli.paper_rows")

  def test_official_sizes(self):
    self.assertEqual(param_count(load("imagenette", "")), 43_680_771)
    # Official TransINR ImageNette: 44.48M (docs/faithfulness.md#transinr).
    self.assertEqual(param_count(load("imagenette", "model=transinr")),
                     44_476_675)
    ffhq = load("ffhq", "res=512,d=1024,r=1024")
    model = models.build(ffhq.model_name, ffhq.model)
    self.assertEqual(model.hyponet.layer_shapes[1], (1024, 1024))
    self.assertEqual(ffhq.train.coord_subsample, 0.1)
    self.assertEqual(load("ffhq", "1024").model.hyponet.ff_sigma, 256.0)
    la = load("ffhq", "1024,model=la_ginr,levels=4").model
    self.assertEqual(la.decoder.sigmas, (256.0, 180.0, 128.0, 64.0))
    self.assertEqual((la.patch_size, la.patch_padding), (48, 16))  # 484
    self.assertEqual(load("imagenette", "layer=5").model.rank, 3)

  @parameterized.parameters(*TINY_PATHS)
  def test_tiny_code_path_trains(self, name, arg):
    config = load(name, arg)
    setup = train.Setup(config)
    state = state_drawn_on_host(setup)
    step = jax.jit(setup.train_step)
    batch = setup.task.dummy_batch(config.input.batch_size,
                                   np.random.default_rng(0))
    for _ in range(2):
      state, metrics = step(state, batch, jax.random.key(1))
      self.assertTrue(np.isfinite(float(metrics["train/loss"])))
      self.assertGreater(float(metrics["train/l2_grads"]), 0.0)
    # (A warm-up from 0 makes the first update zero, not the second.)
    self.assertGreater(float(metrics["train/l2_updates"]), 0.0)

  def test_bad_arguments_fail(self):
    with self.assertRaisesRegex(ValueError, "Unknown config argument 'nope'"):
      load("ffhq", "nope=1")
    with self.assertRaisesRegex(ValueError, "resolution 300"):
      load("ffhq", "300")
    with self.assertRaisesRegex(ValueError, "applies to model=ipc"):
      load("imagenette", "model=la_ginr,form=direct")
    with self.assertRaisesRegex(ValueError, "use it with model=la_ginr"):
      load("ffhq", "256,levels=3")
    with self.assertRaisesRegex(ValueError, "layers 1-5"):
      load("imagenette", "layer=6")

  def test_model_arguments_belong_to_their_family(self):
    with self.assertRaisesRegex(
        ValueError, "heads=1 applies to model=la_ginr, not model=ipc"):
      load("imagenette", "heads=1")
    with self.assertRaisesRegex(
        ValueError, "r=64 applies to model=ipc, not model=meta_ipc"):
      load("demo", "model=meta_ipc,r=64")
    # Given, even a family's default is that family's.
    with self.assertRaisesRegex(ValueError,
                                "groups=64 applies to model=transinr"):
      load("celeba", "model=la_ginr,groups=64")
    # A config's default of a model argument yields to the given value.
    self.assertEqual(
        load("ffhq", "512,model=la_ginr").model.decoder.num_heads, 4)
    self.assertEqual(
        load("ffhq", "512,model=la_ginr,heads=2").model.decoder.num_heads, 2)


if __name__ == "__main__":
  absltest.main()
