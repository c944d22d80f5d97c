#!/usr/bin/env bash
# Which KD loss form on REDv2: Matei's T^2 KL of the temperature softmax over the label vector (`kl_softmax`, the
# paper profile's) against the per-label Bernoulli KL (`kl_bernoulli`, the embedded profile's `auto`), for KD
# (alpha 0.5, T 1), KD-TA (alpha 0.1 -> 0.7, T 1.5) and MTKD-TA (REDv2's KD term in that form, the auxiliary tasks'
# in theirs), over seeds, next to the baseline.
#   bash recipes/romanian_mtkd/12_kd_loss_form.sh --profile embedded [hf-emo overrides]
# Environment: SEEDS (default "42 1 2"), FORMS (default "kl_bernoulli kl_softmax"), OUT (default
# runs/kd_loss_form_<profile>), ONLY (run names without _s<seed>, e.g. "baseline kd_kl_softmax", or with it: that seed alone). Finished runs are
# skipped and interrupted ones resume, so the study can be spread over several sessions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
study_context "$here" paper kd_loss_form "42 1 2" "$@"; set -- "${args[@]}"
forms=(${FORMS:-kl_bernoulli kl_softmax})
run() {  # run NAME SCRIPT ARGS...: one run of the study, filtered by ONLY
  local name="$1" script="$2"; shift 2
  study_wants "${name%_s*}" "$name" || return 0
  study_run "$out/$name" bash "$here/$script" --profile "$profile" "$@"
}
for s in "${seeds[@]}"; do
  run "baseline_s$s" 00_baseline.sh "$@" --seed "$s"
  for f in "${forms[@]}"; do
    run "kd_${f}_s$s" 01_kd.sh "$@" --kd_loss "$f" --seed "$s"
    run "kd_ta_${f}_s$s" 01_kd.sh --ta "$@" --kd_loss "$f" --seed "$s"
    # MTKD-TA: the form of REDv2's KD term only; the single-label auxiliary tasks keep the profile's (softmax KL)
    run "mtkd_ta_${f}_s$s" 06_mtkd.sh --ta "$@" --task_kd_losses "{\"redv2\": \"$f\"}" --seed "$s"
  done
done
M=(--metric f1_macro --metric precision_macro --metric recall_macro --metric f1_micro --metric f1_weighted
   --metric f1_samples --metric subset_accuracy)
rows=(--row "baseline=$out/baseline_s*")
for f in "${forms[@]}"; do
  rows+=(--row "KD $f=$out/kd_${f}_s*" --row "KD-TA $f=$out/kd_ta_${f}_s*")
done
"$bin" table seeds --split test --allow-missing "${M[@]}" "${rows[@]}" --baseline baseline --out "$out/table_single_task.md" \
  --caption "REDv2 test, x100, mean ± std over seeds ${seeds[*]}; profile $profile; macro F1/P/R is Matei's averaging. KD: alpha 0.5, T 1; KD-TA: alpha 0.1→0.7, T 1.5; the KD loss form per row. Extra arguments: ${*:-none}"
mrows=()
for f in "${forms[@]}"; do mrows+=(--row "MTKD-TA $f=$out/mtkd_ta_${f}_s*"); done
"$bin" table seeds --split test --allow-missing "${mrows[@]}" --out "$out/table_mtkd.md" \
  --metric redv2_f1_macro --metric redv2_precision_macro --metric redv2_recall_macro --metric redv2_f1_micro \
  --metric redv2_f1_weighted --metric redv2_f1_samples --metric redv2_subset_accuracy \
  --caption "REDv2 test (MTKD-TA: REDv2 + LaRoSeDa + news, alpha 0.1→0.7, T 1.5), x100, mean ± std over seeds ${seeds[*]}; profile $profile; REDv2's KD loss form per row (LaRoSeDa and news: the profile's)."
