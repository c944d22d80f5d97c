#!/usr/bin/env bash
# Paper 000 Table 1 over seeds: the REDv2 baseline next to the cross-lingual variants (09_cross_lingual.sh).
#   bash recipes/romanian_mtkd/10_cross_lingual_study.sh --profile embedded
# Environment: SEEDS (default "42 1 2"), OUT (default runs/xling_study_<profile>), ONLY (a subset of the variants
# multistage gradual mtl_adversarial mtl_discriminative mtl_sign_reversal), BASELINE (glob of the single-task REDv2
# runs with the same REDv2 budget; default runs/mtl_study_<profile>/stl_redv2_s*, from 07_mtl_study.sh).
# Extra arguments go to every run. Finished runs are skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
study xling_study "42 1 2"
for s in "${seeds[@]}"; do
  for v in multistage gradual mtl_adversarial mtl_discriminative mtl_sign_reversal; do
    study_wants "$v" || continue
    STUDY_RESUME=0 study_run "$out/${v}_s$s" bash "$here/09_cross_lingual.sh" --profile "$profile" --variant "$v" "$@" \
      --seed "$s"
  done
done
base="${BASELINE:-runs/mtl_study_$profile/stl_redv2_s*}"
cap="Table 1 (paper 000): REDv2 test, x100, mean ± std over seeds; Ac = subset accuracy, then macro F1/P/R (the \
paper's averaging), micro F1/P/R, weighted and samples F1, all at threshold 0.5. English source: dair-ai emotion; language pairs: XED en-ro subtitles (the paper translated its English data \
with Google Translate). Runs in $out; baseline: $base. See each run's report.md for the stages and the profile's \
cuts (embedded: multilingual-e5-small, dair-ai capped to 4000 rows and 1 epoch, language task to 2000 rows, REDv2 \
3 epochs in all)."
M=(--metric redv2_subset_accuracy)
for m in f1_macro precision_macro recall_macro f1_micro precision_micro recall_micro f1_weighted f1_samples; do
  M+=(--metric "redv2_$m")
done
"$bin" table seeds --allow-missing "${M[@]}" --caption "$cap" --baseline "baseline (REDv2 only)" \
  --row "baseline (REDv2 only)=$base" --row "multi-stage cross-lingual=$out/multistage_s*" \
  --row "gradual fine-tuning=$out/gradual_s*" --row "multi-task cross-lingual, adversarial (GRL)=$out/mtl_adversarial_s*" \
  --row "multi-task cross-lingual, discriminative=$out/mtl_discriminative_s*" \
  --row "multi-task cross-lingual, loss sign reversal=$out/mtl_sign_reversal_s*" --out "$out/table1.md"
