#!/usr/bin/env bash
# A deployable dair-ai emotion student (issue 40): fine-tune all-mpnet-base-v2 (110M) as the teacher, distil
# all-MiniLM-L6-v2 (22.7M) from its cached logits over SEEDS (the teacher runs once: its logits are kept in
# OUT/teacher_logits for every seed), fine-tune the same student without a teacher over the same seeds (the paired
# baseline), distil the same student over SEEDS from an ensemble (the teacher and every seed's baseline: KD against
# the mean of their probabilities), export the first seed's ensemble-distilled student to ONNX Runtime int8
# (checked on the test split) and write the table: accuracy mean ± std and the paired difference with its 95% interval.
#   bash recipes/distilbert_emotion/deploy.sh --profile embedded   # offline zoo models, 2 epochs each, CPU
#   bash recipes/distilbert_emotion/deploy.sh --profile paper      # Hub models, paper 004's settings
# Environment: SEEDS (default "42 1 2"), OUT (default runs/deploy_<profile>), ONLY (teacher, student, baseline,
# ensemble, export, table: run only those steps), TEACHER (another teacher run). Other arguments are overrides of
# every training command.
# The serving benchmark is separate: python bench/inference_speed.py --serving --student OUT/student_s42 ...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"; set -- "${args[@]}"
study deploy "42 1 2"
if [[ "$profile" == "embedded" ]]; then
  base=(--config "$cfg/embedded.yaml"); teacher="runs/dair_emotion_mpnet_teacher_embedded"
else
  base=(--config "$cfg/paper.yaml" --config "$cfg/student.yaml"); teacher="runs/dair_emotion_mpnet_teacher"
fi
teacher="${TEACHER:-$teacher}"
if study_wants teacher; then
  study_run "$teacher" "$bin" train --config "$cfg/$([[ $profile == embedded ]] && echo embedded || echo paper).yaml" \
    --config "$cfg/teacher_mpnet$sfx.yaml" "$@"
fi
for seed in "${seeds[@]}"; do
  if study_wants student "student_s$seed"; then
    study_run "$out/student_s$seed" "$bin" distil "${base[@]}" --config "$cfg/kd_student$sfx.yaml" \
      --teacher "$teacher" --teacher_cache_dir "$out/teacher_logits" --seed "$seed" "$@"
  fi
  if study_wants baseline "baseline_s$seed"; then
    study_run "$out/baseline_s$seed" "$bin" train "${base[@]}" --seed "$seed" "$@"
  fi
done
ensemble=("$teacher")
for seed in "${seeds[@]}"; do ensemble+=("$out/baseline_s$seed"); done
for seed in "${seeds[@]}"; do
  if study_wants ensemble "ensemble_student_s$seed"; then
    study_run "$out/ensemble_student_s$seed" "$bin" distil "${base[@]}" --config "$cfg/kd_student$sfx.yaml" \
      --teacher "${ensemble[@]}" --teacher_aggregation probs --teacher_cache_dir "$out/teacher_logits" \
      --seed "$seed" "$@"
  fi
done
first="$out/ensemble_student_s${seeds[0]}"  # the recipe's best student (3-seed mean 93.52)
if study_wants export && [[ -f "$first/metrics.json" ]]; then
  "$bin" export "$first" --quantize int8 --output_dir "${first}_onnx_int8" --overwrite
fi
if study_wants table; then
  "$bin" table seeds --row "distilled from all-mpnet-base-v2=$out/student_s*[0-9]" \
    --row "distilled from the ensemble=$out/ensemble_student_s*" --row "no teacher=$out/baseline_s*" \
    --baseline "no teacher" --metric accuracy --metric f1_macro --allow-missing --out "$out/table.md" \
    --caption "dair-ai emotion test, all-MiniLM-L6-v2 ($profile profile), teacher $teacher"
  [[ ! -f "$out/table.md" ]] || cat "$out/table.md"
fi
