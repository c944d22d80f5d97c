#!/usr/bin/env bash
# A SIGKILL during the final save of a run that replaces a finished one (issue 37): the earlier run must survive
# byte for byte in OUTPUT_DIR/.previous_run/, and the next run into the folder must stop with the restore sentence.
#   HF_EMO_DATA_DIR=... bash bench/kill_during_save.sh     # prints each step; the last lines are the verdict
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"; bin="${HF_EMO_BIN:-$root/.venv/bin/hf-emo}"
work="${WORK:-${TMPDIR:-/tmp}/hf_emo_kill_save}"; mkdir -p "$work"; cd "$work"; rm -rf run
common=(train --model_name_or_path multilingual-e5-small --task redv2 --max_train_samples 32 --max_eval_samples 16 --max_test_samples 16 --max_steps 2 --per_device_train_batch_size 8 --save_strategy no --report_to none --output_dir run)
$bin "${common[@]}" > a.log 2>&1; echo "A rc=$?"
(cd run && sha256sum $(ls -p | grep -v /) | sort -k2) > a.sha
t0=$(date +%s.%N)
$bin "${common[@]}" --overwrite_output_dir true --seed 7 > b.log 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
  if [[ -f run/model.safetensors ]] && [[ $(stat -c %Y.%N run/model.safetensors 2>/dev/null | cut -d. -f1) -ge ${t0%.*} ]] && [[ -d run/.previous_run ]]; then
    kill -9 $pid; echo "B killed while run/model.safetensors was $(stat -c %s run/model.safetensors) bytes"; break
  fi
  sleep 0.01
done
wait $pid 2>/dev/null; echo "B rc=$?"
ls -la run run/.previous_run | head -30
(cd run/.previous_run && sha256sum $(ls -p | grep -v /) | sort -k2) > prev.sha 2>/dev/null; mv run/.previous_run/prev.sha . 2>/dev/null
diff <(awk '{print $1, $2}' a.sha) <(awk '{print $1, $2}' prev.sha) && echo "previous run byte-identical"
$bin "${common[@]}" --overwrite_output_dir true > c.log 2>&1; echo "C rc=$?"; grep "hf-emo" c.log | tail -2
