#!/usr/bin/env bash
# Paper 001 (Wang et al. 2024) on XED en-ro: monolingual English teacher -> multilingual student, refined on the
# Romanian side by translation-quality-weighted consistency distillation; Table 1 rows over seeds.
#   bash recipes/wang2024_consistency_kd/run.sh --profile embedded   # all-MiniLM-L6-v2 -> multilingual-e5-small
#   bash recipes/wang2024_consistency_kd/run.sh                      # paper profile: RoBERTa-large -> XLM-R-large
# Per seed: teacher (English XED minus the parallel lines), stage-1 student (same data), then stage 2 three ways:
# uniform weights, quality weights (Eq. 2-3) and hard thresholding (drop the worst 20%). Then the ensemble of the
# seeds' quality-weighted students and the tables (tables.sh).
# Environment: SEEDS (default "42 1 2"), OUT (default runs/wang2024_<profile>), ONLY (a subset of the steps
# teacher stage1 uniform quality threshold ensemble). Extra arguments go to every run. Finished runs are skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"; set -- "${args[@]}"
study wang2024 "42 1 2"
for s in "${seeds[@]}"; do
  study_wants teacher && study_run "$out/teacher_s$s" "$bin" train --config "$cfg/teacher$sfx.yaml" "$@" --seed "$s"
  study_wants stage1 && study_run "$out/stage1_s$s" "$bin" train --config "$cfg/student$sfx.yaml" "$@" --seed "$s"
  for w in uniform quality threshold; do
    study_wants "$w" && study_run "$out/${w}_s$s" "$bin" consistency --config "$cfg/refine$sfx.yaml" \
      --model_name_or_path "$out/stage1_s$s" --teacher "$out/teacher_s$s" --quality_weighting "$w" "$@" --seed "$s"
  done
done
members=()
for s in "${seeds[@]}"; do [[ -f "$out/quality_s$s/config.json" ]] && members+=(--model "$out/quality_s$s"); done
if study_wants ensemble && (( ${#members[@]} / 2 > 1 )); then  # two words (--model DIR) per member
  [[ -f "$out/ensemble/metrics.json" ]] && echo "skip $out/ensemble (done)" || "$bin" evaluate "${members[@]}" --task xed_en_ro --output "$out/ensemble/metrics.json"
fi
bash "$here/tables.sh" "$out"
