#!/usr/bin/env bash
# KD variant of paper 004 on dair-ai emotion: fine-tune the teacher first, then distil the student from its
# cached logits (the teacher runs once over every split; no teacher forward pass during training).
#   bash recipes/distilbert_emotion/kd.sh --profile embedded   # MiniLM-L6 teacher -> 3-layer MiniLM student
#   bash recipes/distilbert_emotion/kd.sh                      # paper: bert-base-uncased -> distilbert-base-uncased
# Other arguments are `hf-emo distil` overrides, e.g. --seed 1 --temperature 4
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"
if [[ "$profile" == "embedded" ]]; then
  teacher="runs/dair_emotion_embedded"; teach=(--profile embedded)
else
  teacher="runs/dair_emotion_bert_teacher"
  teach=(--profile paper --model_name_or_path bert-base-uncased --output_dir "$teacher")
fi
if [[ ! -f "$root/$teacher/config.json" ]]; then
  echo "teacher $teacher not found: fine-tuning it first (train.sh ${teach[*]})" >&2
  bash "$here/train.sh" "${teach[@]}"
fi
hf_emo_run distil "$profile,kd_$profile" "${args[@]}"
