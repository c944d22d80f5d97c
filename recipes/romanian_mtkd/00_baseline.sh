#!/usr/bin/env bash
# Paper 000 (Matei), Table 1/2 row "BERT-base-ro": REDv2 multi-label baseline with BCE.
#   bash recipes/romanian_mtkd/00_baseline.sh                     # paper profile (Hub: bert-base-romanian-cased-v1)
#   bash recipes/romanian_mtkd/00_baseline.sh --profile embedded  # runs here: multilingual-e5-small, 2 CPU cores
# Extra arguments are passed to `hf-emo train` as overrides, e.g. --seed 1 --output_dir runs/x
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"
hf_emo_run train "baseline$sfx" "${args[@]}"
