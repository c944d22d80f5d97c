#!/usr/bin/env bash
# Paper 000 §3.2.3: single-task knowledge distillation on REDv2 (the KD rows), L = alpha*BCE + (1-alpha)*KD.
#   bash recipes/romanian_mtkd/01_kd.sh                       # paper profile (Hub: bert-base-romanian-cased-v1)
#   bash recipes/romanian_mtkd/01_kd.sh --profile embedded    # born-again e5-small, runs here on 2 CPU cores
#   bash recipes/romanian_mtkd/01_kd.sh --profile embedded --ta   # teacher annealing 0.1 -> 0.7, T = 1.5
# The teacher is the profile's baseline; it is trained first (00_baseline.sh) when its folder is missing.
# Other arguments are `hf-emo distil` overrides, e.g. --seed 1 --temperature 2 --output_dir runs/x
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
words=() ta=""
for a in "$@"; do if [[ "$a" == "--ta" ]]; then ta=",kd_ta"; else words+=("$a"); fi; done
recipe "$here" paper "${words[@]}"
teacher="runs/redv2_baseline"; [[ "$profile" == "embedded" ]] && teacher="runs/redv2_baseline_embedded"
if [[ ! -f "$root/$teacher/config.json" ]]; then
  echo "teacher $teacher not found: training it first (00_baseline.sh --profile $profile)" >&2
  bash "$here/00_baseline.sh" --profile "$profile"
fi
hf_emo_run distil "baseline$sfx,kd$sfx$ta" "${args[@]}"
