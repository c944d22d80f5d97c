#!/usr/bin/env bash
# Paper 000 §3.2.3-3.2.4 multi-task knowledge distillation (born-again multi-task network): each task distils its
# single-task teacher; T = 1, alpha = 0.5 (MTKD), or --ta: alpha 0.1 -> 0.7 at T = 1.5 (MTKD-TA, the best row).
#   bash recipes/romanian_mtkd/06_mtkd.sh --profile embedded [--ta] [hf-emo mtl overrides]
# Without --teacher '{"task": DIR, ...}', missing default teachers are trained first (00_baseline.sh for REDv2, 04_single_task.sh for the auxiliary tasks).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
args=() ta=""
for a in "$@"; do if [[ "$a" == "--ta" ]]; then ta=",kd_ta"; else args+=("$a"); fi; done
profile="$(parse_profile paper "${args[@]}")"
root="$(cd "$here/../.." && pwd)"
suffix=""; [[ "$profile" == "embedded" ]] && suffix="_embedded"
if [[ " ${args[*]} " == *" --teacher "* ]]; then  # own teachers given: train no default ones
  HF_EMO_CMD=mtl PROFILE_CONFIG_paper="mtl,mtkd$ta" PROFILE_CONFIG_embedded="mtl_embedded,mtkd_embedded$ta" \
    run_profile "$here" paper embedded -- "${args[@]}"
  exit
fi
if [[ ! -f "$root/runs/redv2_baseline$suffix/config.json" ]]; then
  echo "teacher runs/redv2_baseline$suffix not found: training it first" >&2
  bash "$here/00_baseline.sh" --profile "$profile"
fi
for task in laroseda ag_news; do
  if [[ ! -f "$root/runs/${task}${suffix}/config.json" ]]; then
    echo "teacher runs/${task}${suffix} not found: training it first" >&2
    bash "$here/04_single_task.sh" --profile "$profile" --task "$task" --output_dir "runs/${task}${suffix}"
  fi
done
HF_EMO_CMD=mtl PROFILE_CONFIG_paper="mtl,mtkd$ta" PROFILE_CONFIG_embedded="mtl_embedded,mtkd_embedded$ta" \
  run_profile "$here" paper embedded -- "${args[@]}"
