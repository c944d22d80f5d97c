#!/usr/bin/env bash
# Paper 000 single-task baselines of the auxiliary tasks (LaRoSeDa sentiment; news: AG News in place of MOROCO).
# They are the rows "BERT-base-ro" of Table 2 for those tasks and the MTKD teachers of 06_mtkd.sh.
#   bash recipes/romanian_mtkd/04_single_task.sh --profile embedded      # laroseda and ag_news, if missing
#   bash recipes/romanian_mtkd/04_single_task.sh --profile embedded --task laroseda --seed 1 --output_dir runs/x
# Without --task both tasks are trained into runs/<task>[_embedded] (skipped when already there).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
recipe "$here" paper "$@"; set -- "${args[@]}"
train() { hf_emo_run train "baseline$sfx,stl_aux$sfx" "$@"; }
if [[ " $* " == *" --task "* ]]; then train "$@"; exit; fi
for task in laroseda ag_news; do
  dir="runs/${task}${sfx}"
  if [[ -f "$root/$dir/config.json" ]]; then echo "skip $dir (done)"; continue; fi
  train "$@" --task "$task" --output_dir "$dir"
done
