#!/usr/bin/env bash
# Paper 000's multi-task study over seeds: single-task baselines -> MTL (aux losses / 5, 10, 15; Table 3) -> MTKD
# -> MTKD-TA (Table 2), the ablations without sentiment / without news (Table 5), optionally the T x alpha grid
# (Table 4, GRID=1), MTKD-TA whose REDv2 teacher is the ensemble of every seed's single-task run (`mtkd_ta_ens`)
# or REDv2's annotators' vote shares (`mtkd_ta_ann`),
# then the tables (08_mtl_tables.sh) and Table 6.
#   bash recipes/romanian_mtkd/07_mtl_study.sh --profile embedded
# Environment: SEEDS (default "42 1 2"), OUT (default runs/mtl_study_<profile>), GRID (1 = also Table 4's
# grid: the paper's 14 T x alpha cells, 11 runs per seed; full = all 6 x 4 cells, 17 runs; see grid_cells),
# ONLY (run names without their _s<seed>, e.g. "stl_laroseda stl_ag_news mtl_d10 mtkd mtkd_ta": only
# these; the default is all; a name with its seed, e.g. mtkd_s1, runs that seed alone), TABLES (0 = skip the tables,
# e.g. in parallel lanes that split the study). Extra arguments go to every run. The first seed's single-task runs are the MTKD teachers of every
# seed. Finished runs (metrics.json) are skipped, so the script can be re-run after an interruption.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
study mtl_study "42 1 2"
run() {  # run NAME SCRIPT ARGS...: one run of the study, filtered by ONLY (its name without _s<seed>)
  local name="$1" script="$2"; shift 2
  study_wants "${name%_s*}" "$name" || return 0
  study_run "$out/$name" bash "$here/$script" --profile "$profile" "$@"
}
grid_cells() {  # grid_cells 1|full: Table 4's T:alpha cells that need a run of their own ("ta": 0.1 -> 0.7)
  # 1 = the paper's cells (alpha 0.5 at every T; 0.75 at T 1, 1.5, 2; 1 at T 1, 2; annealed at T 1, 1.5, 2), full =
  # every T x alpha. Not run: T 1 / alpha 0.5 and T 1.5 / annealed, which are mtkd_s<seed> and mtkd_ta_s<seed> (08
  # reads them into the grid), and alpha 1 at any T but 1 (the KD term then weighs 0, so T changes nothing).
  local cells=(0.5:0.5 1.5:0.5 2:0.5 3:0.5 4:0.5 1:0.75 1.5:0.75 2:0.75 1:1 1:ta 2:ta)
  [[ "$1" == 1 ]] && { echo "${cells[*]}"; return; }
  [[ "$1" == full ]] || { echo "07_mtl_study.sh: GRID must be 0, 1 (the paper's cells) or full, not '$1'" >&2; exit 2; }
  echo "${cells[*]} 0.5:0.75 3:0.75 4:0.75 0.5:ta 3:ta 4:ta"
}
grid=()
[[ "${GRID:-0}" == 0 ]] || grid=($(grid_cells "${GRID}"))
t0="${seeds[0]}"
teachers="{\"redv2\": \"$out/stl_redv2_s$t0\", \"laroseda\": \"$out/stl_laroseda_s$t0\", \"ag_news\": \"$out/stl_ag_news_s$t0\"}"
# The lever for a stronger teacher (fidelity issue): REDv2 distils the ensemble of every seed's single-task run
# (mean of their probabilities), the auxiliary tasks their first seed's run, as above.
red_ensemble="$(printf '"%s/stl_redv2_s%s", ' $(for s in "${seeds[@]}"; do echo "$out" "$s"; done))"
teachers_ens="{\"redv2\": [${red_ensemble%, }], \"laroseda\": \"$out/stl_laroseda_s$t0\", \"ag_news\": \"$out/stl_ag_news_s$t0\"}"
# The lever that KD from the annotators (13_annotator_kd.sh) suggests: REDv2 distils its annotators' vote shares
# (soft_labels, no teacher model) in the paper's softmax form, named here so that the profile's form cannot change
# what the run means (the Bernoulli form stalls under annealing); the auxiliary tasks distil their first seed's run.
teachers_aux="{\"laroseda\": \"$out/stl_laroseda_s$t0\", \"ag_news\": \"$out/stl_ag_news_s$t0\"}"
teachers_no_sent="{\"redv2\": \"$out/stl_redv2_s$t0\", \"ag_news\": \"$out/stl_ag_news_s$t0\"}"
teachers_no_news="{\"redv2\": \"$out/stl_redv2_s$t0\", \"laroseda\": \"$out/stl_laroseda_s$t0\"}"
# the REDv2 single-task run: the paper's 7 epochs (§3.3) in the paper profile; the embedded profile trains it 3, the
# budget of its MTL runs (README, "Where the paper profile differs")
stl_epochs=()
[[ "$profile" == embedded ]] && stl_epochs=(--num_train_epochs 3)
for s in "${seeds[@]}"; do
  run "stl_redv2_s$s" 00_baseline.sh "${stl_epochs[@]}" "$@" --seed "$s"
  for task in laroseda ag_news; do
    run "stl_${task}_s$s" 04_single_task.sh --task "$task" "$@" --seed "$s"
  done
done
for s in "${seeds[@]}"; do
  for d in 5 10 15; do
    run "mtl_d${d}_s$s" 05_mtl.sh --divisor "$d" "$@" --seed "$s"
  done
  run "mtkd_s$s" 06_mtkd.sh "$@" --teacher "$teachers" --seed "$s"
  run "mtkd_ta_s$s" 06_mtkd.sh --ta "$@" --teacher "$teachers" --seed "$s"
  run "mtkd_ta_ens_s$s" 06_mtkd.sh --ta "$@" --teacher "$teachers_ens" --seed "$s"
  run "mtkd_ta_ann_s$s" 06_mtkd.sh --ta "$@" --teacher "$teachers_aux" --teacher_columns '{"redv2": "soft_labels"}' \
    --task_kd_losses '{"redv2": "kl_softmax"}' --seed "$s"
  run "mtkd_ta_no_sentiment_s$s" 06_mtkd.sh --ta "$@" --tasks redv2 ag_news --task_weights '{"ag_news": 0.1}' \
    --teacher "$teachers_no_sent" --seed "$s"
  run "mtkd_ta_no_news_s$s" 06_mtkd.sh --ta "$@" --tasks redv2 laroseda --task_weights '{"laroseda": 0.1}' \
    --teacher "$teachers_no_news" --seed "$s"
  for cell in "${grid[@]}"; do
    T="${cell%:*}" a="${cell#*:}"
    if [[ "$a" == ta ]]; then
      run "grid_T${T}_ta_s$s" 06_mtkd.sh --ta "$@" --teacher "$teachers" --temperature "$T" --seed "$s"
    else
      run "grid_T${T}_a${a}_s$s" 06_mtkd.sh "$@" --teacher "$teachers" --temperature "$T" --alpha "$a" --seed "$s"
    fi
  done
done
[[ "${TABLES:-1}" == 0 ]] || TABLE6_SEED="$t0" bash "$here/08_mtl_tables.sh" "$out"
