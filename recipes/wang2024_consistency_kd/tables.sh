#!/usr/bin/env bash
# Paper 001 Table 1 shape from run.sh's runs: macro F1, precision and recall (the paper's averaging), then micro
# and weighted, on the Romanian test movies,
# mean ± std over seeds; plus the correlation of the quality weights with XED en-ro's own noise signals.
#   bash recipes/wang2024_consistency_kd/tables.sh runs/wang2024_embedded   # or: --profile embedded|paper
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
out="${args[0]:-${OUT:-runs/wang2024_$profile}}"
M=()
# macro first: paper 001's F1 averages per class (README, "Which F1"); micro and weighted beside it
for m in f1_macro precision_macro recall_macro f1_micro precision_micro recall_micro f1_weighted; do M+=(--metric "$m"); done
cap="XED en-ro (EXALT is unavailable): Romanian side of the held-out test movies (split by movie_id), x100, mean ± \
std over seeds, threshold = the stage-1 student's (tuned on English validation). The English side plays the \
machine translation. Teacher: English-only model on English XED minus every parallel line. Stage 2 is unlabelled \
(alpha 0), per-label Bernoulli KL (multi-label form), weights of Eq. 3 normalised over the whole refinement set. \
Ensemble: mean probabilities of the seeds' quality-weighted students (one ensemble, so no spread). Runs in $out."
ensemble=()  # run.sh builds the ensemble from two seeds or more
[[ -f "$out/ensemble/metrics.json" ]] && ensemble=(--row "ensemble of the quality-weighted students=$out/ensemble")
"$bin" table seeds "${M[@]}" --baseline "refined, uniform weights" --caption "Table 1 (paper 001). $cap" \
  --row "student, stage 1 (before refinement)=$out/quality_s*::test_stage1" \
  --row "refined, uniform weights=$out/uniform_s*" \
  --row "refined, quality weights (Eq. 3)=$out/quality_s*" \
  --row "refined, drop worst 20% (threshold)=$out/threshold_s*" \
  --row "teacher on the English side (upper reference)=$out/quality_s*::test_teacher" \
  "${ensemble[@]}" --out "$out/table1.md"
if compgen -G "$out/quality_s*/metrics.json" > /dev/null; then
  "$bin" table json --runs "$out/quality_s*" --key run.weight_noise_correlations --out "$out/weight_noise.md" \
    --caption "Pearson correlation of the quality weights (Eq. 3, over the refinement set) with XED en-ro's noise \
signals; a good quality proxy correlates negatively with each. Mean ± std over seeds."
fi
