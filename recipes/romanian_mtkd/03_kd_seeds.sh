#!/usr/bin/env bash
# REDv2, paper 000 Tables 2/4 rows: baseline vs KD (alpha 0.5, T 1) vs KD with teacher annealing
# (alpha 0.1 -> 0.7, T 1.5), each over several seeds, gathered into one Markdown table (mean ± std).
#   bash recipes/romanian_mtkd/03_kd_seeds.sh --profile embedded [hf-emo overrides, e.g. --num_train_epochs 3]
# Environment: SEEDS (default "42 1 2"), OUT (default runs/redv2_kd_seeds_<profile>).
# Finished runs (a metrics.json in their folder) are skipped, so the script can be re-run after an interruption.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
study redv2_kd_seeds "42 1 2"
for s in "${seeds[@]}"; do
  study_run "$out/baseline_s$s" bash "$here/00_baseline.sh" --profile "$profile" "$@" --seed "$s"
  study_run "$out/kd_s$s" bash "$here/01_kd.sh" --profile "$profile" "$@" --seed "$s"
  study_run "$out/kd_ta_s$s" bash "$here/01_kd.sh" --profile "$profile" --ta "$@" --seed "$s"
done
"$bin" table seeds --split test --baseline baseline \
  --row "baseline=$out/baseline_s*" --row "KD (alpha 0.5, T 1)=$out/kd_s*" \
  --row "KD-TA (alpha 0.1→0.7, T 1.5)=$out/kd_ta_s*" \
  --metric f1_macro --metric precision_macro --metric recall_macro --metric f1_micro --metric precision_micro \
  --metric recall_micro --metric f1_weighted --metric f1_samples --metric subset_accuracy \
  --caption "REDv2 test, profile $profile, seeds ${seeds[*]}; extra arguments: ${*:-none}" --out "$out/table.md"
