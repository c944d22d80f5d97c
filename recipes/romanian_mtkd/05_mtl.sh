#!/usr/bin/env bash
# Paper 000 §3.3 multi-task learning (Tables 2-3): REDv2 + LaRoSeDa + news, auxiliary losses divided by D.
#   bash recipes/romanian_mtkd/05_mtl.sh --profile embedded                 # D = 10 (Table 2's MTL row)
#   bash recipes/romanian_mtkd/05_mtl.sh --profile embedded --divisor 5     # Table 3: D = 5, 10, 15
# Other arguments are `hf-emo mtl` overrides, e.g. --seed 1 --output_dir runs/x --tasks redv2 ag_news
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
words=() divisor=10 next=""
for a in "$@"; do
  if [[ "$next" == 1 ]]; then divisor="$a"; next=""; elif [[ "$a" == "--divisor" ]]; then next=1; else words+=("$a"); fi
done
recipe "$here" paper "${words[@]}"
w="$(awk -v d="$divisor" 'BEGIN { printf "%.6g", 1 / d }')"
hf_emo_run mtl "mtl$sfx" "${args[@]}" --task_weights "{\"laroseda\": $w, \"ag_news\": $w}"
