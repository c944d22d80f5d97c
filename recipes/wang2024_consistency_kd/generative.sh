#!/usr/bin/env bash
# Wang et al. 2024's generative baseline: a decoder fine-tuned through a QLoRA / LoRA adapter on the Alpaca-style
# prompt, scored on XED en-ro like the encoder rows of run.sh.
#   bash recipes/wang2024_consistency_kd/generative.sh --profile paper     # BLOOMZ-7b1, QLoRA, one GPU
#   ACCELERATE_CONFIG=ddp bash recipes/wang2024_consistency_kd/generative.sh --profile paper   # several GPUs
#   bash recipes/wang2024_consistency_kd/generative.sh --profile embedded [--model_name_or_path gemma-3-270m]
# Other arguments are `hf-emo generative` overrides (--seed 1, --model_name_or_path bigscience/bloom-7b1, ...).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
launch_paper_with_accelerate
hf_emo_run generative "generative$sfx" "${args[@]}"
