#!/usr/bin/env bash
# Paper 000 §2.3 cross-lingual settings (Table 1), one run:
#   bash recipes/romanian_mtkd/09_cross_lingual.sh --profile embedded --variant multistage [--seed 1 ...]
# Variants: multistage (English emotions, then REDv2; Fig. 1), gradual (shrinking English share; Xu et al. 2021),
# mtl_adversarial (REDv2 + language discriminator through gradient reversal; Fig. 2, ADAN), mtl_discriminative
# (plain language task), mtl_sign_reversal (the language loss with a negative weight).
# Extra arguments override the configs (e.g. --output_dir, --seed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
variant=""
args=()
while (( $# )); do
  if [[ "$1" == "--variant" ]]; then variant="$2"; shift 2; else args+=("$1"); shift; fi
done
case "$variant" in
  multistage|gradual|mtl_adversarial|mtl_discriminative|mtl_sign_reversal) ;;
  *) echo "--variant must be one of: multistage gradual mtl_adversarial mtl_discriminative mtl_sign_reversal" >&2
     exit 2 ;;
esac
hf_emo_run stages "xling$sfx,xling_$variant$sfx" "${args[@]}"
