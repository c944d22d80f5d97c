#!/usr/bin/env bash
# Paper 000 §3.2.3-3.2.4 multi-task knowledge distillation (born-again multi-task network): each task distils its
# single-task teacher; T = 1, alpha = 0.5 (MTKD), or --ta: alpha 0.1 -> 0.7 at T = 1.5 (MTKD-TA, the best row).
#   bash recipes/romanian_mtkd/06_mtkd.sh --profile embedded [--ta] [hf-emo mtl overrides]
# Without --teacher '{"task": DIR, ...}', missing default teachers are trained first (00_baseline.sh for REDv2, 04_single_task.sh for the auxiliary tasks).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
words=() ta=""
for a in "$@"; do if [[ "$a" == "--ta" ]]; then ta=",kd_ta"; else words+=("$a"); fi; done
recipe "$here" paper "${words[@]}"
if [[ " ${args[*]} " == *" --teacher "* ]]; then  # own teachers given: train no default ones
  hf_emo_run mtl "mtl$sfx,mtkd$sfx$ta" "${args[@]}"
  exit
fi
if [[ ! -f "$root/runs/redv2_baseline$sfx/config.json" ]]; then
  echo "teacher runs/redv2_baseline$sfx not found: training it first" >&2
  bash "$here/00_baseline.sh" --profile "$profile"
fi
for task in laroseda ag_news; do
  if [[ ! -f "$root/runs/${task}${sfx}/config.json" ]]; then
    echo "teacher runs/${task}${sfx} not found: training it first" >&2
    bash "$here/04_single_task.sh" --profile "$profile" --task "$task" --output_dir "runs/${task}${sfx}"
  fi
done
hf_emo_run mtl "mtl$sfx,mtkd$sfx$ta" "${args[@]}"
