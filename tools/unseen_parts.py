r"""How much of a novel view do the support views leave unseen?

  PYTHONPATH=. python tools/unseen_parts.py [--kind=figure] [--objects=200]

For generated objects (datasets/scenes.py), each with one query view and 5
support views drawn as the ShapeNet loader draws them, prints the fraction
of the query view's object pixels that show a part (a box or sphere) none of
the first 1, 2, 3 or 5 support views shows: a bound on what more support
views can add (README, "Why the NVS demo first showed little of each
object").
"""

import argparse

import numpy as np

from ginr_jax.datasets import scenes
from ginr_jax.datasets import shapenet

SUPPORT = (1, 2, 3, 5)


def unseen_fractions(kind: str, objects: int, size: int,
                     seed: int = 0) -> dict[int, float]:
  """Mean fraction of query object pixels whose part no support view shows
  (in at least 2 pixels), per number of support views."""
  rng = np.random.default_rng(seed)
  fractions = {s: [] for s in SUPPORT}
  for index in range(objects):
    shapes, poses = scenes.scene((seed, 1, index), 50, kind)
    support, query = shapenet.draw_views(rng, 50, max(SUPPORT), 1, train=False)
    target = scenes.part_ids(shapes, poses[query[0]], size)
    shown = [scenes.part_ids(shapes, poses[i], size) for i in support]
    for s in SUPPORT:
      pixels = sum(
          np.bincount(view[view >= 0], minlength=len(shapes))
          for view in shown[:s])
      unseen = (target >= 0) & ~np.isin(target, np.flatnonzero(pixels >= 2))
      fractions[s].append(unseen.sum() / max((target >= 0).sum(), 1))
  return {s: float(np.mean(f)) for s, f in fractions.items()}


def main():
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--kind", choices=scenes.OBJECTS, default="figure")
  p.add_argument("--objects", type=int, default=200)
  p.add_argument("--size", type=int, default=32)
  a = p.parse_args()
  for s, f in unseen_fractions(a.kind, a.objects, a.size).items():
    print(f"{a.kind}: {s} support view{'s' * (s > 1)}: "
          f"{100 * f:.1f}% of the query's object pixels unseen")


if __name__ == "__main__":
  main()
