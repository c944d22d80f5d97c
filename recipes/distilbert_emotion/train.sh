#!/usr/bin/env bash
# Paper 004 (Emotion Classification Using DistilBERT): fine-tune on dair-ai emotion; the run writes the
# classification report, the confusion matrix and the weighted one-vs-rest ROC-AUC (report.md, metrics.json,
# confusion_matrix.png in the output directory).
#   bash recipes/distilbert_emotion/train.sh                     # paper profile: distilbert-base-uncased (Hub)
#   bash recipes/distilbert_emotion/train.sh --profile embedded  # runs here: all-MiniLM-L6-v2
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"
hf_emo_run train "$profile" "${args[@]}"
