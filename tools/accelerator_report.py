"""Assembles tools/accelerator_check.sh's outputs into one JSON file and one
markdown table, OUT/accelerator_check.{json,md}.

  python tools/accelerator_report.py OUT [--small=1]

Reads OUT/bench/plan (the benchmark processes in order, <size>_<model>),
each one's OUT/bench/<size>_<model>.{variants,status,jsonl} (the variants
it was to time, how it ended, its JSON lines) and the
training run's OUT/train/metrics.jsonl, OUT/train.rc and OUT/train/profile.
Every planned variant gets a row, measured or not (with why).
"""

import argparse
import glob
import json
import os
import platform
import statistics

import jax

GB = 1e9
REPORT = "accelerator_check"  # OUT/REPORT.json and its markdown twin


def read_jsonl(path: str) -> list[dict]:
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(l) for l in f if l.startswith("{")]


def read_text(path: str, default: str) -> str:
  if not os.path.exists(path):
    return default
  with open(path) as f:
    return f.read().strip()


def benchmark_rows(out: str) -> list[dict]:
  """One row per planned variant, in the script's order."""
  rows = []
  plan = read_text(os.path.join(out, "bench", "plan"), "").splitlines()
  for run in plan:
    name = os.path.join(out, "bench", run)
    size, model = run.split("_", 1)
    status = read_text(name + ".status", "not run")
    results = {
        r["variant"]: r for r in read_jsonl(name + ".jsonl") if "variant" in r
    }
    for variant in read_text(name + ".variants", "").splitlines():
      r = results.get(variant)
      precision = "bf16" if "precision=bf16" in variant else "fp32"
      row = {
          "size": size, "model": model, "precision": precision,
          "variant": variant, "status": "ok" if r else status
      }
      if r:
        row.update({
            k: r.get(k)
            for k in ("batch_size", "devices", "num_params", "steps_per_sec",
                      "examples_per_sec", "model_flops_per_step",
                      "encoder_flops_per_step", "decoder_flops_per_step",
                      "flops_per_step", "compute_dtype", "mfu", "mfu_note",
                      "peak_tflops", "peak_source", "compiled_memory_bytes",
                      "peak_memory_bytes", "compile_sec")
        })
      rows.append(row)
  return rows


def training(out: str) -> dict:
  """The training run's loss curve and how it ended."""
  workdir = os.path.join(out, "train")
  curve = [{
      "step": m["step"], "loss": m["train/loss"], "psnr": m["train/psnr"],
      "steps_per_sec": m.get("time/steps_per_sec")
  }
           for m in read_jsonl(os.path.join(workdir, "metrics.jsonl"))
           if "train/loss" in m]
  traces = glob.glob(
      os.path.join(workdir, "profile", "plugins", "profile", "*",
                   "*.xplane.pb"))
  rates = [p["steps_per_sec"] for p in curve[1:] if p["steps_per_sec"]]
  return {
      "exit_code": read_text(os.path.join(out, "train.rc"), "not run"),
      "steps": curve[-1]["step"] if curve else 0,
      "median_steps_per_sec": statistics.median(rates) if rates else None,
      "profile": traces[0] if traces else None, "curve": curve
  }


def _number(value, scale=1.0) -> str:
  return "—" if value is None else f"{value / scale:.4g}"


def markdown(report: dict) -> str:
  env = report["environment"]
  lines = [
      f"# Accelerator check{' (small)' if report['small'] else ''}", "",
      f"{env['devices']}, jax {env['jax']}, python {env['python']}.", "",
      "| size | model | precision | status | steps/s | examples/s | MFU | "
      "model GFLOP/step (enc + dec) | XLA GFLOP/step | compiled GB | "
      "process peak GB |", "|---|---|---|---|---|---|---|---|---|---|---|"
  ]
  for r in report["benchmarks"]:
    if r["status"] != "ok":
      lines.append(f"| {r['size']} | {r['model']} | {r['precision']} | "
                   f"{r['status']} |" + " — |" * 7)
      continue
    flops = (f"{_number(r['model_flops_per_step'], 1e9)} "
             f"({_number(r['encoder_flops_per_step'], 1e9)} + "
             f"{_number(r['decoder_flops_per_step'], 1e9)})")
    mfu = ("—" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%")
    lines.append(f"| {r['size']} | {r['model']} | {r['precision']} | ok | "
                 f"{_number(r['steps_per_sec'])} | "
                 f"{_number(r['examples_per_sec'])} | {mfu} | "
                 f"{flops} | {_number(r['flops_per_step'], 1e9)} | "
                 f"{_number(r.get('compiled_memory_bytes'), GB)} | "
                 f"{_number(r['peak_memory_bytes'], GB)} |")
  notes = {r["mfu_note"] for r in report["benchmarks"] if r.get("mfu_note")}
  lines += [
      "", "Model FLOPs: forward + backward (2x forward), `ginr_jax/flops.py`; "
      "XLA's count (of one device's share) adds the elementwise work and "
      "the optimizer. Compiled GB: "
      "XLA's memory analysis of the variant's step; process peak: the "
      "benchmark process's, over both precisions."
  ] + [f"MFU —: {n}." for n in sorted(notes)]
  t = report["training"]
  lines += [
      "", "## Training (IPC, generated images)", "",
      f"{t['steps']} steps, median {_number(t['median_steps_per_sec'])} "
      f"steps/s, exit code {t['exit_code']}, profile: "
      f"{t['profile'] or 'none'}.", "", "| step | loss | PSNR (dB) |",
      "|---|---|---|"
  ]
  curve = t["curve"]
  shown = curve[::max(1, len(curve) // 10)]
  if curve and shown[-1] is not curve[-1]:
    shown.append(curve[-1])
  lines += [
      f"| {p['step']} | {p['loss']:.5f} | {p['psnr']:.2f} |" for p in shown
  ]
  return "\n".join(lines) + "\n"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("out")
  parser.add_argument("--small", default="0")
  args = parser.parse_args()
  report = {
      "small": args.small == "1", "environment": {
          "devices": f"{jax.device_count()}x {jax.devices()[0].device_kind}",
          "jax": jax.__version__, "python": platform.python_version()
      }, "benchmarks": benchmark_rows(args.out), "training": training(args.out)
  }
  with open(os.path.join(args.out, REPORT + ".json"), "w") as f:
    json.dump(report, f, indent=1)
  text = markdown(report)
  with open(os.path.join(args.out, REPORT + ".md"), "w") as f:
    f.write(text)
  print(text)


if __name__ == "__main__":
  main()
