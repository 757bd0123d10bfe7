"""Do the NVS models read their support views? After a short fit on four
objects seen by the same cameras (so that the rays alone cannot tell the
objects apart), an object's query view must be predicted better from its own
support view than from another object's; with noise for support views it
cannot be."""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import nvs_demo
from ginr_jax import models
from ginr_jax import optim
from ginr_jax import rendering
from ginr_jax import tasks
from ginr_jax import train
from ginr_jax.datasets import scenes
from ginr_jax.tasks import views

OBJECTS, STEPS, LR = 4, 300, 3e-3


def fixed_objects(size: int) -> dict:
  """Four generated objects, each with one support and one query view from
  the same two cameras."""
  poses = scenes.scene((7, 0), 2)[1].astype(np.float32)
  examples = []
  for i in range(OBJECTS):
    shapes, _ = scenes.scene((7, i), 2)

    def view(pose, shapes=shapes):
      rgba = scenes.trace(shapes, pose, size).astype(np.float32) / 255.0
      return rgba[..., :3] * rgba[..., 3:] + 1.0 - rgba[..., 3:]

    examples.append({
        "support_image": view(poses[0])[None], "support_pose": poses[:1],
        "query_image": view(poses[1])[None], "query_pose": poses[1:],
        "focal": np.float32(rendering.focal_length(size, scenes.CAMERA_ANGLE_X))
    })
  return {
      k: jnp.asarray(np.stack([e[k] for e in examples])) for k in examples[0]
  }


@functools.cache
def query_errors(arg: str, noise: bool = False):
  """Per-object MSE [4] of the query view from own and from another
  object's support view, after STEPS steps on the four objects with every
  query ray supervised; `noise`: support images drawn afresh as uniform
  noise at every step and evaluation (they tell nothing of the object)."""
  c = nvs_demo.get_config(arg)
  c.optim.lr = LR
  batch = fixed_objects(c.input.image_size)

  def with_support(key):
    if not noise:
      return batch
    return dict(
        batch, support_image=jax.random.uniform(key,
                                                batch["support_image"].shape))

  c.task.num_rays = int(np.prod(batch["query_image"].shape[1:-1]))
  model, task = models.build(c.model_name, c.model), tasks.build(c)
  kwargs = dict(model=model, task=task)
  tx, schedule = optim.make(c.optim, STEPS)
  step = jax.jit(
      functools.partial(train.train_step, tx=tx, schedule=schedule,
                        meta=c.meta.to_dict(), **kwargs))
  state = train.init_state(jax.random.key(0), model, tx, task)
  for i in range(STEPS):
    key = jax.random.key(i)
    state, _ = step(state, with_support(key), key)

  @jax.jit
  def predict(params, batch):
    latents, _ = train.encode(params, batch, meta=c.meta.to_dict(), **kwargs)
    rays, targets = task.eval_inputs(batch)
    return train.predict(params, latents, rays, chunk=4096, **kwargs), targets

  test_batch = with_support(jax.random.key(STEPS))
  own, targets = predict(state["params"], test_batch)
  other, _ = predict(state["params"], views.other_support(test_batch))
  mse = lambda pred: np.mean(
      (np.asarray(pred) - np.asarray(targets))**2, axis=(1, 2))
  return mse(own), mse(other)


def assert_reads_support(test, arg: str):
  own, other = query_errors(arg)
  # Reading the support views at least halves the error on average.
  test.assertLess(own.mean(), 0.5 * other.mean(), (arg, own, other))


@pytest.mark.slow
class ConditioningTest(parameterized.TestCase):
  # One support view per object (fixed_objects).
  @parameterized.parameters("views=1,tiny", "views=1,tiny,model=transinr",
                            "views=1,tiny,model=la_ginr")
  def test_the_query_view_is_predicted_from_the_support_view(self, arg):
    assert_reads_support(self, arg)

  def test_noise_support_views_fail_the_check(self):
    own, other = query_errors("views=1,tiny,model=la_ginr", noise=True)
    self.assertGreater(own.mean(), 0.8 * other.mean(), (own, other))


if __name__ == "__main__":
  absltest.main()
