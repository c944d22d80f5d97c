#!/usr/bin/env bash
# The LoRA decoder alternative to DistilBERT (Shreya et al.): a score head on a decoder, LoRA adapter.
#   bash recipes/distilbert_emotion/lora.sh --profile embedded      # SmolLM2-135M, 2000 rows, CPU
#   bash recipes/distilbert_emotion/lora.sh --profile paper         # Pythia-410M, full data, accelerate (one GPU)
# Other arguments are `hf-emo generative` overrides.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
launch_paper_with_accelerate
hf_emo_run generative "lora$sfx" "${args[@]}"
