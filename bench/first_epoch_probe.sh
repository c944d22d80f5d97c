#!/usr/bin/env bash
# Run a training command only up to its first evaluation, then stop it: a cheap look at whether a setting escapes
# the first-epoch collapse that KD-TA with the per-label Bernoulli KL falls into on some seeds (BENCHMARKS.md, "KD
# loss form"). The run is the full command (same schedules, same horizon), cut after the first epoch's evaluation.
#   bash bench/first_epoch_probe.sh OUT_DIR COMMAND...      (COMMAND gets --output_dir OUT_DIR appended)
# Writes OUT_DIR/first_epoch.json: the command, its first evaluation's metrics and every training-loss log line up
# to it (loss, loss_hard, loss_kd, alpha, grad_norm, learning_rate), parsed from the Trainer's log. Exits 1 when
# the command ends or fails before evaluating.
set -uo pipefail
out="${1:?usage: first_epoch_probe.sh OUT_DIR COMMAND...}"; shift
(( $# > 0 )) || { echo "first_epoch_probe.sh: no command" >&2; exit 2; }
mkdir -p "$out"
log="$out/probe.log"
: > "$log"
# its own process group (setsid), so that one signal ends the command and everything under it at once: ending the
# children first let a shell command run its next step before the shell itself was ended
group=(); command -v setsid > /dev/null && group=(setsid)  # without setsid: the command and what names its folder
"${group[@]}" "$@" --output_dir "$out" --overwrite_output_dir true > "$log" 2>&1 &
pid=$!
evaluated() { grep -q "'eval_f1_micro'\|'eval_loss'" "$log"; }  # the Trainer's first evaluation line
while kill -0 "$pid" 2>/dev/null && ! evaluated; do sleep 5; done
if ! evaluated; then
  echo "first_epoch_probe.sh: the command ended before its first evaluation (log: $log)" >&2; exit 1
fi
kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
# the job may sit under a recipe script: end every process whose command line names this output folder
pkill -TERM -f -- "--output_dir $out" 2>/dev/null
wait "$pid" 2>/dev/null
python3 - "$out" "$*" <<'EOF'
import ast, json, re, sys
out, command = sys.argv[1], sys.argv[2]
text = open(f"{out}/probe.log", encoding="utf-8", errors="replace").read()
dicts = [ast.literal_eval(m) for m in re.findall(r"\{'[a-z_]+': [^{}]*\}", text)]
train = [d for d in dicts if "loss" in d and not any(k.startswith("eval_") for k in d)]
evals = [d for d in dicts if any(k.startswith("eval_") for k in d)]
record = {"command": command, "first_eval": {k: float(v) for k, v in evals[0].items()},
          "train_logs": [{k: float(v) for k, v in d.items()} for d in train]}
open(f"{out}/first_epoch.json", "w", encoding="utf-8").write(json.dumps(record, indent=1) + "\n")
print(json.dumps(record["first_eval"]))
EOF
