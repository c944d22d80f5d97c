#!/usr/bin/env bash
# The downstream study of Avram et al. 2022 §5: the fine-tuned student's scores and its loyalty to the fine-tuned
# teacher on the test split (label, probability and regression loyalty), then the inference speed-up over sequence
# lengths 16-512.
#   bash recipes/distil_romanian_berts/02_loyalty_speed.sh --profile embedded
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
task="${TASK:-laroseda}"
out="${OUT:-runs}"  # where 01_finetune.sh wrote its runs
teacher="$out/distil_${profile}_${task}_teacher"
student="$out/distil_${profile}_${task}_student"
"$bin" evaluate --model "$student" --teacher "$teacher" --task "$task" --split test \
  --output "$out/distil_${profile}_${task}_loyalty.json" "${args[@]}"
base="SmolLM2-135M-Instruct"; [[ "$profile" == "paper" ]] && base="dumitrescustefan/bert-base-romanian-cased-v1"
python="$(dirname "$bin")/python"; [[ -x "$python" ]] || python="python"
"$python" "$root/bench/inference_speed.py" --teacher "$base" --out "$out/distil_${profile}_speed"
