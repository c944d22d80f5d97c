#!/usr/bin/env bash
# Single-task REDv2 KD over temperature T x alpha (0.5, 0.75, 1 constant, and 0.1 -> 0.7 annealed), written as
# Markdown (mean ± std when SEEDS holds several seeds) with a heat map PNG. This is paper 000's Table 4 grid applied
# to *single-task* KD; the paper's Table 4 itself is the multi-task (MTKD) grid: 07_mtl_study.sh with GRID=1.
#   bash recipes/romanian_mtkd/02_kd_sweep.sh --profile embedded [hf-emo overrides, e.g. --num_train_epochs 3]
# Environment: TEMPS (default "0.5 1 1.5 2 3 4"), ALPHAS (default "0.5 0.75 1 ta"), SEEDS (default "42"),
# OUT (default runs/redv2_kd_sweep_<profile>). 24 runs per seed; finished runs are skipped on a re-run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
study redv2_kd_sweep "42"
for s in "${seeds[@]}"; do
  for t in ${TEMPS:-0.5 1 1.5 2 3 4}; do
    for a in ${ALPHAS:-0.5 0.75 1 ta}; do
      if [[ "$a" == "ta" ]]; then
        study_run "$out/T${t}_a${a}_s${s}" bash "$here/01_kd.sh" --profile "$profile" --ta "$@" --temperature "$t" \
          --seed "$s"
      else
        study_run "$out/T${t}_a${a}_s${s}" bash "$here/01_kd.sh" --profile "$profile" "$@" --alpha_schedule constant \
          --alpha "$a" --temperature "$t" --seed "$s"
      fi
    done
  done
done
"$bin" table kd-grid --runs "$out/T*" --metric f1_macro --split test --png "$out/kd_grid.png" \
  --caption "Single-task KD on REDv2 (not the paper's Table 4, which is MTKD): test macro-F1 (%) by temperature (rows) and alpha (columns; 0.1→0.7 = teacher annealing); profile $profile, seeds ${SEEDS:-42}; extra arguments: ${*:-none}" \
  --out "$out/kd_grid.md"
