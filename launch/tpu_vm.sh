#!/bin/bash
# A run on a Cloud TPU VM (a single host or a pod slice): create the TPU if
# needed, copy this checkout to every worker, install, run on all workers at
# once, then fetch the workdir from worker 0.
#
#   launch/tpu_vm.sh NAME ZONE ACCELERATOR_TYPE -- --config=configs/imagenette.py \
#       --workdir=runs/ipc --config.checkpoint_dir=gs://BUCKET/runs/ipc
#
# e.g. NAME=ginr ZONE=us-central2-b ACCELERATOR_TYPE=v4-32. Needs gcloud with
# a project set. On a pod slice (several workers) the checkpoints must go to
# a bucket every worker reaches (--config.checkpoint_dir=gs://...); logs,
# metrics and images are written by worker 0 into its --workdir, which is
# fetched at the end. JAX finds the other workers by itself. The data
# (--config.input.data_dir) must be readable on every worker.
# Environment: TPU_RUNTIME (default tpu-ubuntu2204-base); DELETE_TPU=1
# deletes the TPU after the run (default: kept, to run again or inspect).
set -euo pipefail
if [[ $# -lt 4 || "$4" != "--" ]]; then
  sed -n '2,16p' "$0"; exit 2
fi
NAME=$1; ZONE=$2; TYPE=$3; shift 4
WORKDIR=""
for arg in "$@"; do
  [[ "$arg" == --workdir=* ]] && WORKDIR="${arg#--workdir=}"
done
[[ -n "$WORKDIR" ]] || { echo "pass --workdir=DIR after --" >&2; exit 2; }
TPU=(gcloud compute tpus tpu-vm)

if ! "${TPU[@]}" describe "$NAME" --zone "$ZONE" >/dev/null 2>&1; then
  "${TPU[@]}" create "$NAME" --zone "$ZONE" --accelerator-type "$TYPE" \
    --version "${TPU_RUNTIME:-tpu-ubuntu2204-base}"
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ARCHIVE="$(mktemp -d)/ginr_jax.tgz"
tar -C "$ROOT" --exclude=./workdirs --exclude=./.git --exclude=./data \
  -czf "$ARCHIVE" .
"${TPU[@]}" scp "$ARCHIVE" "$NAME":ginr_jax.tgz --zone "$ZONE" --worker=all

ARGS=$(printf ' %q' "$@")
"${TPU[@]}" ssh "$NAME" --zone "$ZONE" --worker=all --command "
  set -e; mkdir -p ginr_jax && tar -xzf ginr_jax.tgz -C ginr_jax && cd ginr_jax
  python3 -m pip install -q -e . 'jax[tpu]'
  python3 -m ginr_jax.cli.main$ARGS"

mkdir -p "$(dirname "$WORKDIR")"
"${TPU[@]}" scp --recurse "$NAME":ginr_jax/"$WORKDIR" "$(dirname "$WORKDIR")" \
  --zone "$ZONE" --worker=0
[[ "${DELETE_TPU:-0}" == 1 ]] && "${TPU[@]}" delete "$NAME" --zone "$ZONE" --quiet
echo "workdir fetched to $WORKDIR"
