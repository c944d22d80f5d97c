#!/usr/bin/env bash
# KD from REDv2's annotators (a lever for the issue's target, not in paper 000): each label's share of the three
# annotators' votes is the teacher (`hf-emo distil --teacher_column soft_labels`), in the KD arms of
# 12_kd_loss_form.sh: KD (alpha 0.5, T 1) and KD-TA (alpha 0.1 -> 0.7, T 1.5), in each KD loss form (Matei's
# softmax KL over the label vector, `kl_softmax`, and the per-label Bernoulli KL, `kl_bernoulli`), over seeds.
# The table sets them beside 12's baseline and its model-teacher KD rows, with the differences beyond the seed
# spread marked against the baseline.
#   bash recipes/romanian_mtkd/13_annotator_kd.sh --profile embedded [hf-emo distil overrides]
# Environment: SEEDS (default "42 1 2"), FORMS (default "kl_bernoulli kl_softmax"), OUT (default
# runs/annotator_kd_<profile>), KD_FORM_STUDY (12's runs, default runs/kd_loss_form_<profile>), ONLY (run names
# without _s<seed>, e.g. "kd_kl_softmax kd_ta_kl_bernoulli", or with it: that seed alone). Finished runs are
# skipped and interrupted ones resume.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
study annotator_kd "42 1 2"
kdf="${KD_FORM_STUDY:-runs/kd_loss_form_$profile}"
forms=(${FORMS:-kl_bernoulli kl_softmax})
for s in "${seeds[@]}"; do
  for f in "${forms[@]}"; do
    for kind in kd kd_ta; do  # KD-TA: the teacher-annealing overlay between the kd config and the annotators'
      study_wants "${kind}_$f" "${kind}_${f}_s$s" || continue
      ta=(); [[ "$kind" == kd_ta ]] && ta=(--config "$cfg/kd_ta.yaml")
      study_run "$out/${kind}_${f}_s$s" "$bin" distil --config "$cfg/baseline$sfx.yaml" --config "$cfg/kd$sfx.yaml" \
        "${ta[@]}" --config "$cfg/annotator_kd.yaml" "$@" --kd_loss "$f" --seed "$s"
    done
  done
done
M=(--metric f1_macro --metric precision_macro --metric recall_macro --metric f1_micro --metric f1_weighted
   --metric f1_samples --metric subset_accuracy)
rows=(--row "baseline=$kdf/baseline_s*")
for f in kl_bernoulli kl_softmax; do rows+=(--row "KD, model teacher, $f=$kdf/kd_${f}_s*"); done
for f in kl_bernoulli kl_softmax; do rows+=(--row "KD-TA, model teacher, $f=$kdf/kd_ta_${f}_s*"); done
for f in "${forms[@]}"; do rows+=(--row "KD, annotators' shares, $f=$out/kd_${f}_s*"); done
for f in "${forms[@]}"; do rows+=(--row "KD-TA, annotators' shares, $f=$out/kd_ta_${f}_s*"); done
"$bin" table seeds --split test --allow-missing "${M[@]}" "${rows[@]}" --baseline baseline --out "$out/table.md" \
  --caption "REDv2 test, x100, mean ± std over seeds ${seeds[*]}; profile $profile; macro F1/P/R is Matei's averaging. KD: alpha 0.5, T 1; KD-TA: alpha 0.1→0.7, T 1.5. Model teacher: 12_kd_loss_form.sh's runs ($kdf), the KD loss form per row; annotators' shares: REDv2's soft_labels (votes / 3) as the teacher, the KD loss form per row. ▲/▼: beyond the larger seed spread against the baseline. Extra arguments: ${*:-none}"
