#!/usr/bin/env bash
# The generative baseline on REDv2 (a decoder + LoRA / QLoRA adapter, multi-label yes/no completions).
#   bash recipes/romanian_mtkd/11_generative.sh --profile embedded    # gemma-3-270m, LoRA, CPU
#   bash recipes/romanian_mtkd/11_generative.sh --profile paper       # BLOOMZ-7b1, QLoRA, accelerate (one GPU)
# Other arguments are `hf-emo generative` overrides.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
launch_paper_with_accelerate
hf_emo_run generative "generative$sfx" "${args[@]}"
