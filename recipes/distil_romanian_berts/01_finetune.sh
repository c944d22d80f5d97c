#!/usr/bin/env bash
# Fine-tune the teacher and the distilled student on the same task (LaRoSeDa by default; TASK=redv2 for REDv2),
# with the same settings, so that 02_loyalty_speed.sh can compare them.
#   bash recipes/distil_romanian_berts/01_finetune.sh --profile embedded [hf-emo train overrides]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe_context "$here" embedded "$@"
task="${TASK:-laroseda}"
case "$profile" in
  embedded) teacher="SmolLM2-135M-Instruct"; student="runs/distil_smollm2_embedded" ;;
  paper) teacher="dumitrescustefan/bert-base-romanian-cased-v1"; student="runs/distil_bert_ro" ;;
  *) echo "unknown profile '$profile' (one of: embedded paper)" >&2; exit 2 ;;
esac
for who in teacher student; do
  model="$teacher"; [[ "$who" == "student" ]] && model="$student"
  study_run "runs/distil_${profile}_${task}_${who}" "$bin" train --config "$here/configs/finetune_$profile.yaml" \
    --model_name_or_path "$model" --task "$task" "${args[@]}"
done
