"""One-off: pytorch-fid's InceptionV3 weights (.pth) -> .npz for ginr_jax.

Run once on a machine with torch installed (ginr_jax itself needs no torch):

  wget \
    https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
  python tools/convert_fid_inception.py \
      pt_inception-2015-12-05-6726825d.pth fid_inception.npz

The .npz holds the state_dict unchanged (torch names and layouts);
`ginr_jax/diffusion/fid.py` checks every entry it reads and maps the layouts.
"""

import sys

import numpy as np
import torch


def main(src: str, dst: str):
  state = torch.load(src, map_location="cpu")
  np.savez(dst, **{k: v.numpy() for k, v in state.items()})
  print(f"wrote {len(state)} arrays to {dst}")


if __name__ == "__main__":
  main(*sys.argv[1:])
