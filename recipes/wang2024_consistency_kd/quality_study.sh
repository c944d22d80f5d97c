#!/usr/bin/env bash
# What drives the gain of quality weighting (Wang et al. 2024 report +5 F1 over the unrefined student; +0.9 here):
# vary what the paper varies, over seeds, on top of run.sh's runs (same OUT, same teachers and stage-1 students):
#   - the quality estimate: Eq. 3 min-max quality (`quality`), hard thresholding of the worst 20 % (`threshold`),
#     none (`uniform`);
#   - the weight normalisation: over the whole refinement set (`global`, Eq. 3) or within each batch (`batch`);
#   - the teacher's strength: run.sh's teacher, and a weak one (WEAK_ROWS English rows, one epoch), each refining
#     with uniform and with quality weights.
#   bash recipes/wang2024_consistency_kd/quality_study.sh --profile embedded
# Environment: SEEDS (default "42 1 2"), OUT (default runs/wang2024_<profile>), WEAK_ROWS (default 1500), ONLY (run
# names without _s<seed>). Finished runs are skipped; run.sh's teacher, stage1, uniform, quality and threshold runs
# are trained first when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"; set -- "${args[@]}"
study wang2024 "42 1 2"
SEEDS="${seeds[*]}" OUT="$out" ONLY="teacher stage1 uniform quality threshold" bash "$here/run.sh" --profile "$profile" \
  "$@"
refine() {  # refine NAME TEACHER ARGS...: one stage-2 run from the seed's stage-1 student
  local name="$1" teacher="$2"; shift 2
  study_wants "${name%_s*}" "$name" || return 0
  study_run "$out/$name" "$bin" consistency --config "$cfg/refine$sfx.yaml" --model_name_or_path "$out/stage1_s$s" \
    --teacher "$teacher" "$@"
}
for s in "${seeds[@]}"; do
  refine "quality_batch_s$s" "$out/teacher_s$s" --quality_weighting quality --weight_normalization batch "$@" --seed "$s"
  if study_wants weak_teacher; then
    study_run "$out/weak_teacher_s$s" "$bin" train --config "$cfg/teacher$sfx.yaml" \
      --max_train_samples "${WEAK_ROWS:-1500}" --num_train_epochs 1 "$@" --seed "$s"
  fi
  for w in uniform quality; do
    refine "weak_${w}_s$s" "$out/weak_teacher_s$s" --quality_weighting "$w" "$@" --seed "$s"
  done
done
M=()
for m in f1_macro precision_macro recall_macro f1_micro; do M+=(--metric "$m"); done  # macro: the paper's
"$bin" table seeds --allow-missing "${M[@]}" --out "$out/table_quality_study.md" \
  --caption "What drives quality weighting (paper 001, XED en-ro Romanian test movies, x100, mean ± std over seeds ${seeds[*]}; profile $profile). Weak teacher: ${WEAK_ROWS:-1500} English rows, one epoch. Runs in $out." \
  --row "stage 1 (no refinement)=$out/quality_s*::test_stage1" \
  --row "strong teacher, uniform=$out/uniform_s*" --row "strong teacher, quality (Eq. 3, global)=$out/quality_s*" \
  --row "strong teacher, quality (per batch)=$out/quality_batch_s*" \
  --row "strong teacher, drop worst 20%=$out/threshold_s*" \
  --row "strong teacher on English (reference)=$out/quality_s*::test_teacher" \
  --row "weak teacher, uniform=$out/weak_uniform_s*" --row "weak teacher, quality (Eq. 3)=$out/weak_quality_s*" \
  --row "weak teacher on English (reference)=$out/weak_quality_s*::test_teacher"
