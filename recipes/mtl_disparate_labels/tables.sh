#!/usr/bin/env bash
# Gather the runs of run.sh into paper 002's Tables 2-3 (mean ± 95% CI over seeds), the GradNorm weight curves
# (Fig. 3, averaged over seeds) and the label correlation heat map of the shared embedding (Fig. 4/7).
#   bash recipes/mtl_disparate_labels/tables.sh runs/mtl_disparate_embedded_mixed   # or: --profile embedded|paper
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"
out="${args[0]:-${OUT:-runs/mtl_disparate_${profile}_${SCHEDULE:-mixed}}}"
M=(--metric dair_emotion_f1_micro --metric emobank_pearson_mean --metric semeval2018_ec_jaccard_samples)
case "${SCHEDULE:-}" in
  mixed) sched="Multi-task batches are drawn from the union of the tasks, losses summed in proportion to their rows (the paper's §4)." ;;
  round_robin) sched="Multi-task steps take one batch of each task (round robin, gradient accumulation 3), not the paper's mixed batches." ;;
  *) sched="" ;;
esac
cap="S = SemEval-2018 E-c (its test labels are not public: S is evaluated on the official dev set; validation = 10% \
of train), T = dair-ai emotion capped to 965 training tweets (in place of Fairy Tales), E = EmoBank. Metrics as the \
paper: T micro-F1 (the paper's pooled TP / (TP + (FP + FN) / 2), equal to accuracy), E mean Pearson r over V/A/D, S \
Jaccard (sample-averaged), all x100, mean ± 95% CI (Student t) over seeds. Frozen encoder, early stopping on the \
sum of validation losses. $sched Runs in $out."
"$bin" table seeds --split test --spread ci95 --allow-missing "${M[@]}" --caption "Table 2 (paper 002). $cap" \
  --row "T (STL)=$out/stl_T_s*" --row "E (STL)=$out/stl_E_s*" \
  --row "0.1S (STL)=$out/stl_S010_s*" --row "0.1S+T+E (MH)=$out/mh_S010_s*" \
  --row "0.5S (STL)=$out/stl_S050_s*" --row "0.5S+T+E (MH)=$out/mh_S050_s*" \
  --row "S (STL)=$out/stl_S100_s*" --row "S+T+E (MH)=$out/mh_S100_s*" --out "$out/table2.md"
"$bin" table seeds --split test --spread ci95 --allow-missing "${M[@]}" --caption "Table 3 (paper 002). $cap" \
  --row "0.1S+T+E MH=$out/mh_S010_s*" --row "0.1S+T+E SE=$out/se_S010_s*" --row "0.1S+T+E GN=$out/gn_S010_s*" \
  --row "0.1S+T+E SE+GN=$out/segn_S010_s*" --row "S+T+E MH=$out/mh_S100_s*" --row "S+T+E SE=$out/se_S100_s*" \
  --row "S+T+E GN=$out/gn_S100_s*" --row "S+T+E SE+GN=$out/segn_S100_s*" --out "$out/table3.md"
if compgen -G "$out/*sel_S100_s*/metrics.json" > /dev/null || compgen -G "$out/mhprop_S100_s*/metrics.json" > /dev/null; then
  "$bin" table seeds --split test --spread ci95 --allow-missing "${M[@]}" --caption "MH drop diagnostics. \
sel = early stopping and model selection on SemEval's validation Jaccard instead of the summed validation losses; \
prop = proportional task sampling (one task per optimizer step, no gradient accumulation). $cap" \
    --row "S (STL)=$out/stl_S100_s*" --row "S (STL) sel=$out/stlsel_S100_s*" \
    --row "S+T+E (MH)=$out/mh_S100_s*" --row "S+T+E (MH) sel=$out/mhsel_S100_s*" \
    --row "S+T+E (MH) prop=$out/mhprop_S100_s*" --out "$out/table_mh_diagnostics.md"
fi
if compgen -G "$out/segn_S100_s*/task_weights.json" > /dev/null; then
  "$bin" table task-weights --runs "$out/segn_S100_s*" --png "$out/gradnorm_weights_segn_S100.png"
fi
first_se="$(ls -d "$out"/se_S100_s* 2>/dev/null | head -1 || true)"
if [[ -n "$first_se" && -f "$first_se/label_correlation.png" ]]; then
  cp "$first_se/label_correlation.png" "$out/label_correlation_se_S100.png"
  cp "$first_se/label_correlation.csv" "$out/label_correlation_se_S100.csv"
fi
for f in "$out/table2.md" "$out/table3.md" "$out/table_mh_diagnostics.md"; do [[ -f "$f" ]] && cat "$f"; done; true
