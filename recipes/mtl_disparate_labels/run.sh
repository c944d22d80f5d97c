#!/usr/bin/env bash
# Paper 002 (MTL with disparate label spaces), Tables 2-4: STL vs multi-head MTL at SemEval training sizes
# 10% / 50% / 100%, then shared embedding (SE), GradNorm (GN) and SE+GN, each over several seeds (95% CI).
#   bash recipes/mtl_disparate_labels/run.sh --profile embedded   # here: frozen multilingual-e5-small
#   bash recipes/mtl_disparate_labels/run.sh                      # paper profile: frozen bert-base-uncased (Hub)
# Environment: SEEDS (default "0 1 2 3 4"), SCHEDULE (mixed, the default, or round_robin), OUT (default
# runs/mtl_disparate_<profile>_<schedule>), ONLY (a space-separated subset of run names). Extra arguments go to
# every `hf-emo mtl` call. Finished runs are skipped.
# ONLY="stlsel_S100 mhsel_S100 mhprop_S100" adds three diagnostic settings (see the README).
# SCHEDULE=mixed (the paper's, its §4): each batch of 64 is drawn from the union of the three training sets and the
# task losses are summed in proportion to their rows. SCHEDULE=round_robin: one task per batch, an optimizer step
# takes one batch of each task (gradient_accumulation_steps 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" embedded "$@"; set -- "${args[@]}"
schedule="${SCHEDULE:-mixed}"
case "$schedule" in
  mixed) schedule_args=(--task_sampler mixed) ;;
  round_robin) schedule_args=(--task_sampler round_robin --gradient_accumulation_steps 3) ;;
  *) echo "SCHEDULE must be mixed or round_robin, got '$schedule'" >&2; exit 2 ;;
esac
out="${OUT:-runs/mtl_disparate_${profile}_$schedule}"
seeds=($(study_seeds 0 1 2 3 4))
S="semeval2018_ec" T="dair_emotion" E="emobank"
MTL=(--tasks "$S" "$T" "$E" "${schedule_args[@]}")
frac() { echo "{\"$S\": $1}"; }
declare -A RUNS=(
  [stl_T]="--tasks $T --primary_task $T"
  [stl_E]="--tasks $E --primary_task $E"
  [stl_S010]="--tasks $S --train_fraction FRAC0.1"
  [stl_S050]="--tasks $S --train_fraction FRAC0.5"
  [stl_S100]="--tasks $S"
  [mh_S010]="MTL --train_fraction FRAC0.1"
  [mh_S050]="MTL --train_fraction FRAC0.5"
  [mh_S100]="MTL"
  [se_S010]="MTL --train_fraction FRAC0.1 --head_layout shared_embedding"
  [se_S100]="MTL --head_layout shared_embedding"
  [gn_S010]="MTL --train_fraction FRAC0.1 --loss_weighting gradnorm"
  [gn_S100]="MTL --loss_weighting gradnorm"
  [segn_S010]="MTL --train_fraction FRAC0.1 --head_layout shared_embedding --loss_weighting gradnorm"
  [segn_S100]="MTL --head_layout shared_embedding --loss_weighting gradnorm"
  # Diagnostics of the MH drop (not in the default ORDER; name them in ONLY): model selection and early stopping
  # on SemEval's validation Jaccard instead of the summed losses, and proportional sampling (one task per step).
  [stlsel_S100]="--tasks $S --metric_for_best_model ${S}_jaccard_samples"
  [mhsel_S100]="MTL --metric_for_best_model ${S}_jaccard_samples"
  [mhprop_S100]="--tasks $S $T $E --task_sampler proportional"
)
ORDER=(stl_T stl_E stl_S010 stl_S050 stl_S100 mh_S010 mh_S050 mh_S100 se_S010 se_S100 gn_S010 gn_S100 segn_S010
       segn_S100)
run_names=(${ONLY:-${ORDER[@]}})
for s in "${seeds[@]}"; do
  for name in "${run_names[@]}"; do
    setting=()
    for w in ${RUNS[$name]}; do
      case "$w" in
        MTL) setting+=("${MTL[@]}") ;;
        FRAC*) setting+=("$(frac "${w#FRAC}")") ;;
        *) setting+=("$w") ;;
      esac
    done
    study_run "$out/${name}_s$s" hf_emo_run mtl "$profile" "${setting[@]}" "$@" --seed "$s"
  done
done
SCHEDULE="$schedule" bash "$here/tables.sh" "$out"
