#!/usr/bin/env bash
# Which KD loss form on REDv2: Matei's T^2 KL of the temperature softmax over the label vector (`kl_softmax`, the
# paper profile's) against the per-label Bernoulli KL (`kl_bernoulli`, the embedded profile's `auto`), for KD
# (alpha 0.5, T 1), KD-TA (alpha 0.1 -> 0.7, T 1.5) and MTKD-TA (REDv2's KD term in that form, the auxiliary tasks'
# in theirs), over seeds, next to the baseline.
#   bash recipes/romanian_mtkd/12_kd_loss_form.sh --profile embedded [hf-emo overrides]
# MTKD-TA distils the teachers of 07_mtl_study.sh (MTL_STUDY, default runs/mtl_study_<profile>: its first seed's
# single-task runs, MTL_TEACHER_SEED default 42), so the arm in the profile's own REDv2 form is 07's mtkd_ta_s<seed>
# run itself (same command): the table reads it there and this script trains only the other form.
# Environment: SEEDS (default "42 1 2"), FORMS (default "kl_bernoulli kl_softmax"), OUT (default
# runs/kd_loss_form_<profile>), ONLY (run names without _s<seed>, e.g. "baseline kd_kl_softmax", or with it: that seed alone). Finished runs are
# skipped and interrupted ones resume, so the study can be spread over several sessions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
study kd_loss_form "42 1 2"
forms=(${FORMS:-kl_bernoulli kl_softmax})
mtl="${MTL_STUDY:-runs/mtl_study_$profile}" t0="${MTL_TEACHER_SEED:-42}"
teachers="{\"redv2\": \"$mtl/stl_redv2_s$t0\", \"laroseda\": \"$mtl/stl_laroseda_s$t0\", \"ag_news\": \"$mtl/stl_ag_news_s$t0\"}"
# REDv2's KD form in the profile's MTKD config (kd_loss; auto is the per-label Bernoulli KL on a multi-label task)
own_form="$(sed -n 's/^kd_loss: *\([a-z_]*\).*/\1/p' "$cfg/mtkd$sfx.yaml")"
[[ "${own_form:-auto}" == auto ]] && own_form=kl_bernoulli
mtkd_dir() { if [[ "$1" == "$own_form" ]]; then echo "$mtl/mtkd_ta"; else echo "$out/mtkd_ta_$1"; fi; }
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
    if [[ "$f" == "$own_form" ]]; then
      if study_wants "mtkd_ta_$f" "mtkd_ta_${f}_s$s" && [[ ! -f "$mtl/mtkd_ta_s$s/metrics.json" ]]; then
        echo "MTKD-TA in $f is 07_mtl_study.sh's mtkd_ta_s$s, not run yet: ONLY=mtkd_ta_s$s bash $here/07_mtl_study.sh" >&2
      fi
    else
      run "mtkd_ta_${f}_s$s" 06_mtkd.sh --ta "$@" --teacher "$teachers" --task_kd_losses "{\"redv2\": \"$f\"}" \
        --seed "$s"
    fi
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
for f in "${forms[@]}"; do mrows+=(--row "MTKD-TA $f=$(mtkd_dir "$f")_s*"); done
"$bin" table seeds --split test --allow-missing "${mrows[@]}" --out "$out/table_mtkd.md" \
  --metric redv2_f1_macro --metric redv2_precision_macro --metric redv2_recall_macro --metric redv2_f1_micro \
  --metric redv2_f1_weighted --metric redv2_f1_samples --metric redv2_subset_accuracy \
  --caption "REDv2 test (MTKD-TA: REDv2 + LaRoSeDa + news, alpha 0.1→0.7, T 1.5, teachers: $mtl's seed-$t0 single-task runs; the $own_form row is $mtl/mtkd_ta), x100, mean ± std over seeds ${seeds[*]}; profile $profile; REDv2's KD loss form per row (LaRoSeDa and news: the profile's)."
