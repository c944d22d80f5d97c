#!/usr/bin/env bash
# GPU smoke test of the paper profiles (issue 39), about 5 minutes on one GPU; run it whenever a GPU is lent:
#   bash bench/gpu_smoke.sh            # writes bench/results/gpu_smoke_<UTC date>/
# 1. the paper-profile generative recipe (romanian_mtkd's BLOOMZ QLoRA config) on the tiny BLOOM stand-in in 4 bits
#    under FSDP (recipes/accelerate/fsdp_qlora.yaml, one process): the QLoRA-for-FSDP preparation (one dtype per
#    wrap unit) on a real FSDP wrap;
# 2. the same under DDP (recipes/accelerate/ddp.yaml, one process per GPU found);
# 3. one encoder paper profile (romanian_mtkd/00_baseline.sh, BERT-base-ro's stand-in) in bf16.
# Each run is capped (steps, rows) as in tests/test_paper_profiles.py; the stand-ins come from tests/standins.py
# through HF_EMO_HUB_MAP. Each run's metrics.json and log go to the results folder with the GPU and the versions.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py="${PYTHON:-$root/.venv/bin/python}"; [[ -x "$py" ]] || py=python
accelerate="$(dirname "$py")/accelerate"; [[ -x "$accelerate" ]] || accelerate=accelerate
work="${WORK:-${TMPDIR:-/tmp}/hf_emo_gpu_smoke}"
out="bench/results/gpu_smoke_$(date -u +%Y%m%d_%H%M)"
mkdir -p "$work" "$out"
export HF_EMO_HUB_MAP; HF_EMO_HUB_MAP="$("$py" tests/standins.py "$work/standins" | tail -1)"
gpus="$("$py" -c 'import torch; print(torch.cuda.device_count())')"
{
  date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null
  "$py" -c 'import torch, transformers, peft, accelerate, bitsandbytes as b; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__, "accelerate", accelerate.__version__, "bitsandbytes", b.__version__)'
  git rev-parse HEAD
} > "$out/machine.txt" 2>&1
caps=(--max_steps 10 --max_train_samples 64 --max_eval_samples 64 --max_test_samples 64 --report_to none
      --save_strategy no --load_best_model_at_end false)
status=0
run() {  # run NAME COMMAND...: one smoke run, its log and metrics kept, its status in summary.tsv
  local name="$1"; shift
  local start=$SECONDS rc=0
  "$@" --output_dir "$work/$name" > "$out/$name.log" 2>&1 || rc=$?
  cp "$work/$name/metrics.json" "$out/$name.metrics.json" 2>/dev/null || true
  printf '%s\t%s\t%ss\n' "$name" "$rc" "$((SECONDS - start))" | tee -a "$out/summary.tsv"
  (( rc == 0 )) || status=1
}
gen=(-m hf_emo.cli generative --config recipes/romanian_mtkd/configs/generative.yaml "${caps[@]}")
run generative_fsdp_qlora "$accelerate" launch --config_file recipes/accelerate/fsdp_qlora.yaml --num_processes 1 \
  "${gen[@]}" --bnb_4bit_quant_storage bfloat16
run generative_ddp_qlora "$accelerate" launch --config_file recipes/accelerate/ddp.yaml \
  --num_processes "$(( gpus > 0 ? gpus : 1 ))" "${gen[@]}"
run encoder_bf16 "$py" -m hf_emo.cli train --config recipes/romanian_mtkd/configs/baseline.yaml --bf16 true "${caps[@]}"
echo "results in $out (summary.tsv: name, exit code, seconds)"
exit "$status"
