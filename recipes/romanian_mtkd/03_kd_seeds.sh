#!/usr/bin/env bash
# REDv2, paper 000 Tables 2/4 rows: baseline vs KD (alpha 0.5, T 1) vs KD with teacher annealing
# (alpha 0.1 -> 0.7, T 1.5), each over several seeds, gathered into one Markdown table (mean ± std).
#   bash recipes/romanian_mtkd/03_kd_seeds.sh --profile embedded [hf-emo overrides, e.g. --num_train_epochs 3]
# Environment: SEEDS (default "42 1 2"), OUT (default runs/redv2_kd_seeds_<profile>).
# Finished runs (a metrics.json in their folder) are skipped, so the script can be re-run after an interruption.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
profile="$(parse_profile paper "$@")"
[[ "${1:-}" == "--profile" ]] && shift 2
root="$(cd "$here/../.." && pwd)"
out="${OUT:-runs/redv2_kd_seeds_$profile}"
seeds=(${SEEDS:-42 1 2})
cd "$root"
run() {  # run NAME SCRIPT [ARGS...]
  local name="$1" script="$2"; shift 2
  if [[ -f "$out/$name/metrics.json" ]]; then echo "skip $out/$name (done)"; return; fi
  bash "$here/$script" --profile "$profile" "$@" --output_dir "$out/$name"
}
for s in "${seeds[@]}"; do
  run "baseline_s$s" 00_baseline.sh "$@" --seed "$s"
  run "kd_s$s" 01_kd.sh "$@" --seed "$s"
  run "kd_ta_s$s" 01_kd.sh --ta "$@" --seed "$s"
done
"$(hf_emo_bin "$root")" table seeds --split test \
  --row "baseline=$out/baseline_s*" --row "KD (alpha 0.5, T 1)=$out/kd_s*" \
  --row "KD-TA (alpha 0.1→0.7, T 1.5)=$out/kd_ta_s*" \
  --metric f1_micro --metric subset_accuracy --metric precision_micro --metric recall_micro --metric f1_macro \
  --caption "REDv2 test, profile $profile, seeds ${seeds[*]}; extra arguments: ${*:-none}" --out "$out/table.md"
