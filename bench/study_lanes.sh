#!/usr/bin/env bash
# Run the runs of a study in parallel lanes on one machine (one GPU beside many CPU cores: each run of the embedded
# profile leaves the GPU mostly idle, so several at once finish sooner). Each non-blank, non-# line of JOBS_FILE is
# one shell command, usually one run of a study script selected by its full name, e.g.
#   SEEDS="42 1 2" ONLY=mtkd_ta_s1 TABLES=0 bash recipes/romanian_mtkd/07_mtl_study.sh --profile embedded
# Lines run LANES at a time in file order (put teachers in an earlier file), each logged to LOG_DIR/job<N>.log;
# the next line is read from the file as it is when a lane frees, so lines not yet started may be edited and new
# ones appended while it runs (a file read once, or by byte offset, ran a half-edited line);
# LOG_DIR/summary.txt gets one line per job (ok / FAIL, seconds, command). Exits 1 if any job failed.
#   bash bench/study_lanes.sh JOBS_FILE [LANES (4)] [LOG_DIR (logs/lanes)]
set -uo pipefail
jobs_file="${1:?usage: study_lanes.sh JOBS_FILE [LANES] [LOG_DIR]}"
lanes="${2:-4}" logs="${3:-logs/lanes}"
[[ -f "$jobs_file" ]] || { echo "study_lanes.sh: no jobs file $jobs_file" >&2; exit 2; }
mkdir -p "$logs"
run_job() {
  local n="$1" cmd="$2" start rc
  start=$(date +%s)
  bash -c "$cmd" > "$logs/job$n.log" 2>&1
  rc=$?
  if (( rc == 0 )); then status="ok  "; else status="FAIL"; fi
  echo "$rc" > "$logs/job$n.rc"
  echo "$status job$n rc=$rc $(( $(date +%s) - start ))s $cmd" | tee -a "$logs/summary.txt"
}
rm -f "$logs"/job*.rc
job_line() {  # job_line K: the K-th job line (not blank, not a # comment) of the jobs file as it is now, or nothing
  awk -v k="$1" '/^[[:space:]]*(#|$)/ { next } ++n == k { print; exit }' "$jobs_file"
}
n=0
while :; do
  while (( $(jobs -rp | wc -l) >= lanes )); do wait -n; done
  line="$(job_line $((n + 1)))"
  [[ -n "$line" ]] || break
  n=$((n + 1))
  run_job "$n" "$line" &
done
wait
failed=$(cat "$logs"/job*.rc 2>/dev/null | grep -cv '^0$')
(( failed == 0 )) || { echo "study_lanes.sh: $failed of $n jobs failed (see $logs/summary.txt)" >&2; exit 1; }
