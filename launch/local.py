r"""Starts N processes of `ginr_jax.cli.main` on this machine, as N hosts would.

  python launch/local.py --num_processes=2 --devices_per_process=1 -- \
      --config=configs/demo.py:tiny --workdir=workdirs/two_process

Everything after `--` goes to `python -m ginr_jax.cli.main`. Each process gets
`--coordinator_address=127.0.0.1:<free port> --num_processes=N
--process_id=i`; on CPU (the default `--platform=cpu`) each also sees
`--devices_per_process` simulated devices. Process 0 prints to this terminal,
process i > 0 to WORKDIR/logs/process_<i>.log. SIGTERM and Ctrl-C are passed
on to every process (so they save a checkpoint and stop together); if one
process fails, the others are stopped. The exit code is the first non-zero
one.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def workdir_of(main_args: list[str]) -> str | None:
  for i, arg in enumerate(main_args):
    if arg.startswith("--workdir="):
      return arg.split("=", 1)[1]
    if arg == "--workdir" and i + 1 < len(main_args):
      return main_args[i + 1]
  return None


def launch(num_processes: int, main_args: list[str], *,
           devices_per_process: int = 1, platform: str = "cpu") -> int:
  """Runs the processes to completion; returns the exit code."""
  workdir = workdir_of(main_args)
  if workdir is None:
    raise SystemExit("Pass --workdir=DIR after -- (the logs of processes "
                     "1..N-1 go to DIR/logs).")
  log_dir = os.path.join(workdir, "logs")
  os.makedirs(log_dir, exist_ok=True)
  address = f"127.0.0.1:{free_port()}"
  env = dict(os.environ)
  if platform == "cpu":
    env["JAX_PLATFORMS"] = "cpu"
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_"
                        f"platform_device_count={devices_per_process}")
  procs, logs = [], []
  for i in range(num_processes):
    out = None
    if i:
      logs.append(open(os.path.join(log_dir, f"process_{i}.log"), "w"))
      out = logs[-1]
    cmd = [
        sys.executable, "-m", "ginr_jax.cli.main", *main_args,
        f"--coordinator_address={address}", f"--num_processes={num_processes}",
        f"--process_id={i}"
    ]
    procs.append(
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out,
                         stderr=subprocess.STDOUT if out else None))

  def forward(signum, frame):
    del frame
    for p in procs:
      if p.poll() is None:
        p.send_signal(signum)

  for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, forward)
  code = 0
  try:
    running = list(procs)
    while running:
      time.sleep(0.2)
      for p in list(running):
        if p.poll() is None:
          continue
        running.remove(p)
        if p.returncode and not code:
          code = p.returncode
          print(
              f"launch/local.py: process {procs.index(p)} exited with "
              f"{p.returncode}; stopping the others (logs: {log_dir}).",
              file=sys.stderr)
          for q in running:
            q.terminate()
  finally:
    for f in logs:
      f.close()
  return code


def main():
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--num_processes", type=int, default=2)
  parser.add_argument("--devices_per_process", type=int, default=1,
                      help="simulated CPU devices per process")
  parser.add_argument(
      "--platform", default="cpu", choices=["cpu", "native"],
      help="cpu: force JAX onto simulated CPU devices; "
      "native: leave the platform to JAX")
  parser.add_argument("main_args", nargs=argparse.REMAINDER,
                      help="-- then the arguments of ginr_jax.cli.main")
  args = parser.parse_args()
  main_args = (args.main_args[1:] if args.main_args[:1] == ["--"] else
               (args.main_args))
  sys.exit(
      launch(args.num_processes, main_args,
             devices_per_process=args.devices_per_process,
             platform=args.platform))


if __name__ == "__main__":
  main()
