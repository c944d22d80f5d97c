#!/usr/bin/env bash
# Paper 000 (Matei), Table 1/2 row "BERT-base-ro": REDv2 multi-label baseline with BCE.
#   bash recipes/romanian_mtkd/00_baseline.sh                     # paper profile (Hub: bert-base-romanian-cased-v1)
#   bash recipes/romanian_mtkd/00_baseline.sh --profile embedded  # runs here: multilingual-e5-small, 2 CPU cores
# Extra arguments are passed to `hf-emo train` as overrides, e.g. --seed 1 --output_dir runs/x
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile=paper
if [[ "${1:-}" == "--profile" ]]; then profile="$2"; shift 2; fi
case "$profile" in
  paper) config="$here/configs/baseline.yaml" ;;
  embedded) config="$here/configs/baseline_embedded.yaml" ;;
  *) echo "unknown profile '$profile' (paper | embedded)" >&2; exit 2 ;;
esac
hf_emo="${HF_EMO_BIN:-$root/.venv/bin/hf-emo}"
[[ -x "$hf_emo" ]] || hf_emo="hf-emo"
cd "$root"
exec "$hf_emo" train --config "$config" "$@"
