#!/usr/bin/env bash
# Fine-tune the teacher and the distilled student on the same task (LaRoSeDa by default; TASK=redv2 for REDv2),
# with the same settings, so that 02_loyalty_speed.sh can compare them.
#   bash recipes/distil_romanian_berts/01_finetune.sh --profile embedded [hf-emo train overrides]
# Environment: TASK (laroseda), OUT (the folder of the runs, default runs), STUDENT (default: 00_distil.sh's output).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
task="${TASK:-laroseda}"
case "$profile" in
  embedded) teacher="SmolLM2-135M-Instruct"; student="${STUDENT:-runs/distil_smollm2_embedded}" ;;
  paper) teacher="dumitrescustefan/bert-base-romanian-cased-v1"; student="${STUDENT:-runs/distil_bert_ro}" ;;
  *) echo "unknown profile '$profile' (one of: embedded paper)" >&2; exit 2 ;;
esac
for who in teacher student; do
  model="$teacher"; [[ "$who" == "student" ]] && model="$student"
  study_run "${OUT:-runs}/distil_${profile}_${task}_${who}" "$bin" train --config "$here/configs/finetune_$profile.yaml" \
    --model_name_or_path "$model" --task "$task" "${args[@]}"
done
