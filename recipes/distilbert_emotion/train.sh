#!/usr/bin/env bash
# Paper 004 (Emotion Classification Using DistilBERT): fine-tune on dair-ai emotion; the run writes the
# classification report, the confusion matrix and the weighted one-vs-rest ROC-AUC (report.md, metrics.json,
# confusion_matrix.png in the output directory).
#   bash recipes/distilbert_emotion/train.sh                     # paper profile: distilbert-base-uncased (Hub)
#   bash recipes/distilbert_emotion/train.sh --profile embedded  # runs here: all-MiniLM-L6-v2
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile=paper
if [[ "${1:-}" == "--profile" ]]; then profile="$2"; shift 2; fi
case "$profile" in
  paper|embedded) config="$here/configs/$profile.yaml" ;;
  *) echo "unknown profile '$profile' (paper | embedded)" >&2; exit 2 ;;
esac
hf_emo="${HF_EMO_BIN:-$root/.venv/bin/hf-emo}"
[[ -x "$hf_emo" ]] || hf_emo="hf-emo"
cd "$root"
exec "$hf_emo" train --config "$config" "$@"
