#!/usr/bin/env bash
# Gather 07_mtl_study.sh's runs into Markdown tables shaped like paper 000's Tables 2-6 (mean ± std over seeds).
#   bash recipes/romanian_mtkd/08_mtl_tables.sh runs/mtl_study_embedded   # or: --profile embedded|paper
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"
out="${args[0]:-${OUT:-runs/mtl_study_$profile}}"
# REDv2: the paper's averaging (macro F1 / P / R, BENCHMARKS.md "Which F1 paper 000 reports") first, then the others
RED=(--metric redv2_subset_accuracy --metric redv2_f1_macro --metric redv2_precision_macro --metric redv2_recall_macro
     --metric redv2_f1_micro --metric redv2_precision_micro --metric redv2_recall_micro --metric redv2_f1_weighted
     --metric redv2_f1_samples)
AUX=()
for t in laroseda ag_news; do
  AUX+=(--metric "${t}_accuracy" --metric "${t}_f1_macro" --metric "${t}_precision_macro" --metric "${t}_recall_macro")
done
cap="Test split, x100, mean ± std over seeds; REDv2 Ac = subset accuracy, then macro F1/P/R (the paper's averaging), \
micro F1/P/R, weighted and samples F1, all at threshold 0.5; LaRoSeDa and news: accuracy and macro F1/P/R. News = AG \
News (its test split re-split 80/10/10) in place of MOROCO. Runs in $out; see each run's report.md for the profile's \
cuts (embedded: multilingual-e5-small, auxiliary training sets capped to 2000 rows, 3 epochs, max length 64) and its \
KD loss (paper profile: softmax KL, as the paper)."
"$bin" table seeds --allow-missing "${RED[@]}" "${AUX[@]}" --caption "Table 2 (paper 000). $cap" --baseline "STL REDv2" \
  --row "STL REDv2=$out/stl_redv2_s*" --row "STL LaRoSeDa=$out/stl_laroseda_s*" \
  --row "STL news=$out/stl_ag_news_s*" --row "MTL (aux / 10)=$out/mtl_d10_s*" --row "MTKD=$out/mtkd_s*" \
  --row "MTKD-TA=$out/mtkd_ta_s*" --row "MTKD-TA, REDv2 teacher = ensemble of the STL seeds=$out/mtkd_ta_ens_s*" \
  --row "MTKD, REDv2's KD in the per-label Bernoulli form (the embedded profile until 2026-12-04)=$out/mtkd_kl_bernoulli_s*" \
  --row "MTKD-TA, ensemble teacher, Bernoulli form (until 2026-12-04)=$out/mtkd_ta_ens_kl_bernoulli_s*" \
  --row "MTKD-TA, REDv2 teacher = its annotators' vote shares (softmax KL)=$out/mtkd_ta_ann_s*" \
  --out "$out/table2.md"
"$bin" table seeds --allow-missing "${RED[@]}" "${AUX[@]}" --caption "Table 3 (paper 000): auxiliary losses divided by D. $cap" \
  --row "STL REDv2=$out/stl_redv2_s*" --baseline "STL REDv2" \
  --row "MTL D=5=$out/mtl_d5_s*" --row "MTL D=10=$out/mtl_d10_s*" --row "MTL D=15=$out/mtl_d15_s*" \
  --out "$out/table3.md"
seeds_of() { printf '%s\n' "$@" | sed -nE 's/.*_s([0-9]+)$/\1/p' | sort -nu; }  # seeds_of DIR...: their _s<seed>
if compgen -G "$out/grid_*" > /dev/null; then
  # The cells T 1 / alpha 0.5 and T 1.5 / alpha 0.1->0.7 are the grid seed's MTKD and MTKD-TA runs (07 trains no copy)
  grid=(--runs "$out/grid_*")
  for s in $(seeds_of "$out"/grid_*); do
    grid+=(--runs "$out/mtkd_s$s" --runs "$out/mtkd_ta_s$s")
  done
  "$bin" table kd-grid "${grid[@]}" --metric redv2_f1_macro --png "$out/table4.png" \
    --caption "Table 4 (paper 000): REDv2 macro-F1 of MTKD by T and alpha (alpha weighs the gold loss; \
0.1→0.7 = teacher annealing), mean (± std) over the grid's seeds; the cell T 1 / alpha 0.5 is the MTKD run, T 1.5 / 0.1→0.7 the MTKD-TA run; \
alpha 1 (no KD term, so T has no effect) runs at T 1 only. $cap" --out "$out/table4.md"
fi
"$bin" table seeds --allow-missing "${RED[@]}" --caption "Table 5 (paper 000): ablations of MTKD-TA. $cap" --baseline MTKD-TA \
  --row "MTKD-TA=$out/mtkd_ta_s*" --row "w/o sentiment=$out/mtkd_ta_no_sentiment_s*" \
  --row "w/o news=$out/mtkd_ta_no_news_s*" --out "$out/table5.md"
# Table 6 compares the models of one seed: TABLE6_SEED (07 passes its first seed), else 42 when its baseline exists,
# else the lowest seed with a baseline
seed="${TABLE6_SEED:-}"
if [[ -z "$seed" ]]; then
  seeds_found="$(seeds_of "$out"/stl_redv2_s*)"
  if grep -qx 42 <<< "$seeds_found"; then seed=42; else seed="$(head -1 <<< "$seeds_found")"; fi
fi
models=()
for pair in "baseline=stl_redv2" "MTL=mtl_d10" "MTKD=mtkd" "MTKD-TA=mtkd_ta"; do
  dir="$out/${pair#*=}_s$seed"
  [[ -n "$seed" && -f "$dir/config.json" ]] && compgen -G "$dir/model*.safetensors" > /dev/null &&
    models+=(--model "${pair%%=*}=$dir")  # weights kept (records copied off a GPU machine have none)
done
if (( ${#models[@]} )); then
  "$bin" table probs "${models[@]}" --task redv2 --rows 110 111 116 119 --out "$out/table6.md" \
    --caption "Table 6 (paper 000): the paper's four example tweets (REDv2 test rows 110, 111, 116, 119), gold labels, and each model's labels above its threshold with their probabilities (%); seed $seed of every model."
fi
true  # each table was printed as it was written
