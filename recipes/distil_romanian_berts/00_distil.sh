#!/usr/bin/env bash
# Avram et al. 2022: distil a language model into its half-depth student on Romanian text.
#   bash recipes/distil_romanian_berts/00_distil.sh --profile paper      # BERT-base-ro -> 6 layers, accelerate
#   bash recipes/distil_romanian_berts/00_distil.sh --profile embedded   # SmolLM2-135M -> 15 layers, CPU
# Other arguments are `hf-emo pretrain` overrides (--seed 1, --teacher A B for an ensemble with one vocabulary, ...).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
launch_paper_with_accelerate
hf_emo_run pretrain "distil$sfx" "${args[@]}"
