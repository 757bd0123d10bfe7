r"""Controlled NVS experiments: the demo's model on a fixed set of objects.

The README's NVS diagnosis ("Why the NVS demo first showed little of each
object") ran this. It trains the model and step of configs/nvs_demo.py
(`train.train_step`) on `--objects` generated training objects whose views
are traced once (8 support / query draws per object, so 3,000 light-field
steps cost a few CPU minutes), and every `--every` steps predicts the
novel views of training and test objects from their own and from another
object's support views (the swap test of `ginr_jax.cli.support_check`):

  PYTHONPATH=. python tools/nvs_diagnosis.py --arg=views=1,model=la_ginr \
      --objects=400 --steps=3000 --every=1000 [--rays=256] [--same] \
      [--kind=random] [--set=task.ray_scale=1.0] [--png=out.png]

--same makes the query view the support view itself: the NVS path then
autoencodes an image. Each evaluation prints the PSNR from own / another
object's support views, the mean absolute difference of the two
predictions and the mean-colour baseline, for up to 16 training objects and
for the test objects.
"""

import argparse
import ast
import functools
import time

import jax
import numpy as np
from PIL import Image

from configs import nvs_demo
from ginr_jax import models
from ginr_jax import optim
from ginr_jax import tasks
from ginr_jax import train
from ginr_jax.datasets import scenes
from ginr_jax.tasks import views

DRAWS = 8  # support / query draws traced per training object


def parse():
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--arg", default="views=1,model=la_ginr",
                 help="configs/nvs_demo.py's argument")
  p.add_argument("--objects", type=int, default=400)
  p.add_argument("--test_objects", type=int, default=32)
  p.add_argument("--steps", type=int, default=3000)
  p.add_argument("--every", type=int, default=1000)
  p.add_argument("--rays", type=int, help="query rays per object and step")
  p.add_argument("--same", action="store_true",
                 help="query view = support view (autoencoding)")
  p.add_argument("--kind", choices=scenes.OBJECTS,
                 help="generated objects; default the config's")
  p.add_argument(
      "--set", action="append", default=[],
      help="config override key=value (Python literal), e.g. "
      "task.ray_scale=1.0; repeatable")
  p.add_argument(
      "--png", help="write support / target / prediction rows "
      "of 8 test objects at the end")
  return p.parse_args()


def configure(a):
  c = nvs_demo.get_config(a.arg)
  c.total_steps = a.steps
  if a.rays:
    c.task.num_rays = a.rays
  for item in a.set:
    key, value = item.split("=", 1)
    *path, last = key.split(".")
    node = c
    for name in path:
      node = node[name]
    node[last] = ast.literal_eval(value)
  if a.kind:
    c.input.kwargs.objects = a.kind
  return c


def draw(c, split, count, rng):
  """One support / query draw of the split's first `count` objects."""
  kw = c.input.kwargs
  source, transform = scenes.make(split=split, train=split == "train",
                                  image_size=c.input.image_size,
                                  n_support=kw.n_support, train_objects=count,
                                  test_objects=count, num_views=kw.num_views,
                                  objects=kw.objects)
  examples = [transform(source[i], rng) for i in range(count)]
  return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


def query_is_support(batch):
  return dict(batch, query_image=batch["support_image"][:, :1],
              query_pose=batch["support_pose"][:, :1])


def psnr(pred, target):
  mse = np.mean((np.asarray(pred) - np.asarray(target))**2, axis=(1, 2))
  return float(np.mean(-10 * np.log10(mse)))


def main():
  a = parse()
  c = configure(a)
  model, task = models.build(c.model_name, c.model), tasks.build(c)
  tx, schedule = optim.make(c.optim, a.steps)
  kwargs = dict(model=model, task=task)
  state = jax.jit(functools.partial(train.init_state, tx=tx,
                                    **kwargs))(jax.random.key(c.seed))
  step = jax.jit(
      functools.partial(train.train_step, tx=tx, schedule=schedule,
                        meta=c.meta.to_dict(), **kwargs))

  @jax.jit
  def predict(params, batch):
    """(colours, targets) [B, M, 3] of every query ray."""
    latents, _ = train.encode(params, batch, meta=c.meta.to_dict(), **kwargs)
    rays, targets = task.eval_inputs(batch)
    return train.predict(params, latents, rays, chunk=1024, **kwargs), targets

  prepare = query_is_support if a.same else (lambda b: b)
  rng = np.random.default_rng(0)
  pool = [draw(c, "train", a.objects, rng) for _ in range(DRAWS)]
  test = prepare(draw(c, "test", a.test_objects, np.random.default_rng(1)))

  def swap_test(params, batch):
    own, target = predict(params, batch)
    other, _ = predict(params, views.other_support(batch))
    base = np.broadcast_to(np.mean(np.asarray(target), 1, keepdims=True),
                           target.shape)
    return (f"own {psnr(own, target):.2f} other {psnr(other, target):.2f} "
            f"diff {float(np.mean(np.abs(own - other))):.3f} "
            f"base {psnr(base, target):.2f}")

  start = time.time()
  for s in range(a.steps + 1):
    if s % a.every == 0:
      shown = {k: v[:16] for k, v in pool[(s // a.every) % DRAWS].items()}
      print(
          f"step {s:5d} {time.time() - start:5.0f}s | train "
          f"{swap_test(state['params'], prepare(shown))} | test "
          f"{swap_test(state['params'], test)}", flush=True)
    if s == a.steps:
      break
    picks = rng.integers(0, a.objects, c.input.batch_size)
    batch = {
        k: np.stack([pool[rng.integers(DRAWS)][k][i] for i in picks])
        for k in pool[0]
    }
    state, _ = step(state, prepare(batch), jax.random.key(1))
  if a.png:
    pred, target = predict(state["params"], test)
    n, size = min(8, a.test_objects), c.input.image_size
    rows = [
        np.asarray(test["support_image"])[:n, 0],
        np.asarray(target)[:n].reshape(n, size, size, 3),
        np.asarray(pred)[:n].reshape(n, size, size, 3)
    ]
    grid = np.concatenate([np.concatenate(list(r), 1) for r in rows], 0)
    Image.fromarray(np.round(255 * np.clip(grid, 0, 1)).astype(
        np.uint8)).resize((3 * grid.shape[1], 3 * grid.shape[0]),
                          Image.NEAREST).save(a.png)


if __name__ == "__main__":
  main()
