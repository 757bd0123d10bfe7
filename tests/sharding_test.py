"""Sharding strategies: FSDP rules on paths, and data-parallel and FSDP
steps equal to one device (on simulated CPU devices)."""

from absl.testing import absltest
import jax
import numpy as np
from jax.sharding import PartitionSpec as P

from ginr_jax import input_pipeline
from ginr_jax import sharding
from ginr_jax import train
from configs import imagenette


class LeafSpecTest(absltest.TestCase):

  def spec(self, path, shape, **kwargs):
    return sharding.leaf_spec(path, shape, 4, strategy="fsdp", **kwargs)

  def test_default_shards_the_largest_divisible_dimension_of_big_leaves(self):
    self.assertEqual(self.spec("params/a/kernel", (768, 3072)), P(None, "data"))
    self.assertEqual(self.spec("params/a/kernel", (3072, 766)), P("data"))
    self.assertEqual(self.spec("params/a/kernel", (255, 255)), P())
    self.assertEqual(self.spec("params/a/bias", (3072,), min_size=4096), P())
    self.assertEqual(self.spec("step", ()), P())

  def test_first_matching_rule_wins(self):
    rules = (("composer_u", None), ("query/kernel", 0), ("kernel", -1))
    self.assertEqual(self.spec("params/composer_u", (256, 256), rules=rules),
                     P())
    self.assertEqual(
        self.spec("opt/0/mu/attn/query/kernel", (768, 768), rules=rules),
        P("data"))
    self.assertEqual(
        self.spec("params/mlp_in/kernel", (768, 3072), rules=rules),
        P(None, "data"))
    with self.assertRaisesRegex(ValueError, "not divisible by 4"):
      self.spec("params/x/kernel", (768, 3), rules=rules)

  def test_data_parallel_and_one_device_replicate(self):
    self.assertEqual(sharding.leaf_spec("params/k", (768, 3072), 4), P())
    self.assertEqual(
        sharding.leaf_spec("params/k", (768, 3072), 1, strategy="fsdp"), P())
    with self.assertRaisesRegex(ValueError, "use one of"):
      sharding.leaf_spec("params/k", (8, 8), 4, strategy="zero")


def tiny_config(num_devices: int, strategy: str):
  config = imagenette.get_config("tiny")
  config.num_devices = num_devices
  config.sharding.strategy = strategy
  config.sharding.min_size = 256  # tiny weights still get sharded
  return config


class ShardedStepTest(absltest.TestCase):

  def test_adam_moments_follow_their_parameters(self):
    setup = train.Setup(tiny_config(4, "fsdp"))
    specs = {
        sharding.path_str(path): leaf.spec for path, leaf in
        jax.tree_util.tree_flatten_with_path(setup.state_sharding)[0]
    }
    params = {
        k[len("params/"):]: v
        for k, v in specs.items()
        if k.startswith("params/")
    }
    self.assertTrue(any(v != P() for v in params.values()))
    for moment in ("mu", "nu"):
      moments = {
          k.split(f"/{moment}/", 1)[1]: v
          for k, v in specs.items()
          if f"/{moment}/" in k
      }
      self.assertEqual(moments, params)

  # Data parallelism alone: train_test.py's ShardedStepTest.
  def test_fsdp_on_four_devices_equals_one_device(self):
    self.assertGreaterEqual(jax.device_count(), 4)
    results = []
    for n in (1, 4):
      config = tiny_config(n, "fsdp")
      setup = train.Setup(config)
      state = setup.init(jax.random.key(0))
      sharded = [x.sharding.spec for x in jax.tree.leaves(state["params"])]
      self.assertEqual(any(s != P() for s in sharded), n == 4)
      batch = next(input_pipeline.TrainIterator(config.input, setup.mesh, 0))
      step = jax.jit(
          setup.train_step,
          out_shardings=(setup.state_sharding, sharding.replicated(setup.mesh)))
      for _ in range(2):
        state, metrics = step(state, batch, jax.random.key(1))
      # the state keeps its sharding through the step
      self.assertEqual(
          [x.sharding.spec for x in jax.tree.leaves(state["params"])], sharded)
      results.append(jax.device_get((state, metrics)))
    for a, b in zip(jax.tree.leaves(results[0]), jax.tree.leaves(results[1])):
      np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=2e-5)


if __name__ == "__main__":
  absltest.main()
