#!/usr/bin/env bash
# The accelerator check (issue 17), one script for a fresh accelerator machine:
#
#   tools/accelerator_check.sh [OUT]            # OUT: accelerator_check/
#   INSTALL=0 SMALL=1 tools/accelerator_check.sh /tmp/check   # CPU smoke run
#
# 1. installs the project with its GPU extra (`pip install -e .[gpu]`);
#    INSTALL=0 skips it (CPU, TPU, or an environment already set up);
# 2. benchmarks IPC, TransINR and LA-GINR at batch 16 in fp32 and bf16 at
#    ImageNette 178 and FFHQ 1024 (configs/imagenette.py, configs/ffhq.py:1024),
#    one process per model with its two precisions interleaved, within
#    BENCH_SECONDS (default 450) in all: a run that would overrun is cut off
#    and the rest are skipped, each recorded as such;
# 3. trains IPC for TRAIN_SECONDS (default 180) at ImageNette size on
#    generated images (input.name=synthetic), stopped by SIGTERM, which
#    saves a checkpoint; 5 steps are traced into OUT/train/profile;
# 4. writes OUT/accelerator_check.{json,md}, the report as JSON and markdown
#    (tools/accelerator_report.py) from the runs' outputs.
#
# SMALL=1 runs the same at the configs' `:tiny` sizes, batch 4, 2 timed steps
# and 6 training steps: seconds on a CPU, to check the script end to end.
# PYTHON names the interpreter (default: python).

set -uo pipefail  # not -e: a failed run is recorded and the others go on

cd "$(dirname "$0")/.."
out="${1:-accelerator_check}"
python="${PYTHON:-python}"
small="${SMALL:-0}"
mkdir -p "$out/bench"
rm -rf "$out/train" "$out"/bench/*

if [[ "${INSTALL:-1}" == 1 ]]; then
  "$python" -m pip install -e ".[gpu]" || exit 1
fi

if [[ "$small" == 1 ]]; then
  tiny=",tiny" batch=4 steps=(--steps=2 --warmup=1)
else
  tiny="" batch=16 steps=(--steps=10 --warmup=2)
fi

# The two sizes: the config file with its argument (prefix of each variant).
declare -A sizes=([imagenette178]="configs/imagenette.py:" \
                  [ffhq1024]="configs/ffhq.py:1024,")
deadline=$((SECONDS + ${BENCH_SECONDS:-450}))
for size in imagenette178 ffhq1024; do
  file="${sizes[$size]%%:*}" arg="${sizes[$size]#*:}"
  for model in ipc transinr la_ginr; do
    name="$out/bench/${size}_${model}"
    # fp32 named: precision=auto would be bf16 on an accelerator.
    variants=("${arg}model=$model,precision=fp32$tiny"
              "${arg}model=$model,precision=bf16$tiny")
    echo "${size}_${model}" >> "$out/bench/plan"
    printf '%s\n' "${variants[@]}" > "$name.variants"
    left=$((deadline - SECONDS))
    if ((left < 10)); then
      echo skipped > "$name.status"
      continue
    fi
    timeout "$left" "$python" -m ginr_jax.cli.benchmark \
      --config="$file:${variants[0]}" --config.input.batch_size="$batch" \
      "${steps[@]}" "${variants[@]/#/--variant=}" \
      > "$name.jsonl" 2> "$name.log"
    rc=$?
    if ((rc == 124)); then echo "timed out" > "$name.status";
    elif ((rc != 0)); then echo "failed ($rc): see $name.log" > "$name.status";
    else echo ok > "$name.status"; fi
  done
done

# No evaluation and no checkpoint but SIGTERM's: the time goes to steps.
if [[ "$small" == 1 ]]; then
  train=(--config=configs/imagenette.py:tiny --config.total_steps=6
         --config.log_steps=1 --config.profile_steps=2)
  limit=300
else
  train=(--config=configs/imagenette.py --config.total_steps=1000000000
         --config.log_steps=25 --config.profile_steps=5)
  limit="${TRAIN_SECONDS:-180}"
fi
train+=(--config.input.name=synthetic --config.ckpt_steps=1000000000
        --config.eval_steps=1000000000)
# SIGTERM at the limit: the run saves and stops; KILL a minute later.
timeout -s TERM -k 60 "$limit" "$python" -m ginr_jax.cli.main "${train[@]}" \
  --workdir="$out/train" > "$out/train.log" 2>&1
echo $? > "$out/train.rc"

"$python" tools/accelerator_report.py "$out" --small="$small"
