"""The official IPC ImageNette training step, re-implemented in PyTorch.

For timing ginr_jax's step side by side with the official implementation
(which needs Python <= 3.10) on the same machine: the same shapes and
operations as the official code (unfold 9x9 patches with one pixel of zero
padding, Linear + positional embedding, 6 pre-LN blocks of width 768 with
residual dropout, 256 weight tokens, LN -> Linear post-FC, V @ U, the
5-layer hyponet with its appended ones row, per-batch repeated weights,
F.normalize and bmm, jittered coordinates, MSE, Adam), fp32, default
PyTorch threading. Not part of the package; in its own environment:

  python -m venv /tmp/torch && /tmp/torch/bin/pip install torch==2.13.0
  /tmp/torch/bin/python tools/official_ipc_step_torch.py [batch steps warmup]

prints each step's seconds and the median of the timed ones.
"""

import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):

  def __init__(self, d=768, heads=12, pdrop=0.1):
    super().__init__()
    self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
    self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
    self.proj = nn.Linear(d, d)
    self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(),
                             nn.Linear(4 * d, d))
    self.drop1, self.drop2 = nn.Dropout(pdrop), nn.Dropout(pdrop)
    self.heads = heads

  def attn(self, x):
    b, t, c = x.shape
    h = self.heads
    q = self.q(x).view(b, t, h, c // h).transpose(1, 2)
    k = self.k(x).view(b, t, h, c // h).transpose(1, 2)
    v = self.v(x).view(b, t, h, c // h).transpose(1, 2)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
    att = F.softmax(att, dim=-1)
    y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
    return self.proj(y)

  def forward(self, x):
    x = x + self.drop1(self.attn(self.ln1(x)))
    return x + self.drop2(self.mlp(self.ln2(x)))


class IPC(nn.Module):

  def __init__(self, size=178, p=9, pad=1, d=768, width=256, layers=5,
               ff_dim=128, sigma=128.0, rank=256):
    super().__init__()
    self.unfold = nn.Unfold(p, padding=pad, stride=p)
    n = ((size + 2 * pad) // p)**2
    self.embed = nn.Linear(3 * p * p, d)
    self.pos = nn.Parameter(torch.randn(1, n, d))
    self.wtokens = nn.Parameter(torch.randn(rank, d))
    self.blocks = nn.Sequential(*[Block(d) for _ in range(6)])
    self.post = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, width))
    self.u = nn.Parameter(torch.randn(1, rank, width) / math.sqrt(rank * width))
    dims = [2 * ff_dim] + [width] * (layers - 1) + [3]
    self.wb = nn.ParameterList()
    for i in range(layers):
      w = torch.empty(dims[i] + 1, dims[i + 1])
      nn.init.kaiming_uniform_(w[:-1], a=math.sqrt(5))
      w[-1].zero_()
      self.wb.append(nn.Parameter(w))
    self.register_buffer(
        "freqs", torch.exp(torch.linspace(0, math.log(sigma), ff_dim // 2)))
    self.rank = rank

  def hyponet(self, coords, mod):
    b = coords.shape[0]
    z = (coords.unsqueeze(-1) * self.freqs).flatten(-2) * math.pi
    h = torch.cat([torch.cos(z), torch.sin(z)], -1).view(b, -1, z.shape[-1] * 2)
    for i, wb in enumerate(self.wb):
      ones = torch.ones(*h.shape[:-1], 1)
      h = torch.cat([h, ones], -1)
      wb = wb.unsqueeze(0).repeat(b, 1, 1)
      w, bias = wb[:, :-1], wb[:, -1:]
      w = mod if i == 1 else w
      w = F.normalize(w, dim=1)
      h = torch.bmm(h, torch.cat([w, bias], 1))
      if i < len(self.wb) - 1:
        h = F.relu(h)
    return h + 0.5

  def forward(self, images, coords):
    tokens = self.embed(self.unfold(images).transpose(1, 2)) + self.pos
    w = self.wtokens.unsqueeze(0).expand(images.shape[0], -1, -1)
    x = self.blocks(torch.cat([tokens, w], 1))[:, -self.rank:]
    v = self.post(x).transpose(1, 2)  # (B, fan_in, r)
    return self.hyponet(coords, torch.bmm(v, self.u.expand(v.shape[0], -1, -1)))


def main(batch=2, steps=5, warmup=2, size=178):
  torch.manual_seed(0)
  model = IPC(size)
  opt = torch.optim.Adam(model.parameters(), lr=1e-4)
  images = torch.rand(batch, 3, size, size)
  c = -1 + (2 * torch.arange(size) + 1) / size
  grid = torch.stack(torch.meshgrid(c, c, indexing="ij"), -1)
  print("params", sum(p.numel() for p in model.parameters()), flush=True)
  times = []
  for i in range(warmup + steps):
    start = time.perf_counter()
    coords = grid.repeat(batch, 1, 1, 1)
    coords = coords + (torch.rand_like(coords) - 0.5) * (2 / size)
    pred = model(images, coords)
    target = images.permute(0, 2, 3, 1).reshape(batch, -1, 3)
    loss = ((pred - target)**2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if i >= warmup:
      times.append(time.perf_counter() - start)
    print(i, round(time.perf_counter() - start, 3), flush=True)
  times.sort()
  print("median", times[len(times) // 2], "threads", torch.get_num_threads())


if __name__ == "__main__":
  main(*map(int, sys.argv[1:]))
