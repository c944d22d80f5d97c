# What every recipe script shares. A script starts with its one entry, `recipe "$here" DEFAULT_PROFILE "$@"`, runs
# hf-emo with `hf_emo_run COMMAND CONFIGS ARGS...`, and a seed study adds `study NAME "DEFAULT SEEDS"` and the loop
# helpers below it (study_wants, study_run).

# `recipe DIR DEFAULT_PROFILE ARGS...`: reads an optional leading `--profile embedded|paper` (else DEFAULT_PROFILE;
# another name stops the script with rc 2) and sets `profile`, `sfx` (the profile's config-name suffix: `_embedded`,
# or nothing for paper), `root` (the checkout), `cfg` (DIR/configs), `bin` (hf-emo: $HF_EMO_BIN, else the
# checkout's .venv, else PATH) and `args` (ARGS without the --profile words); then moves to the checkout, where the
# runs/ folders are.
recipe() {
  local dir="$1" default="$2"; shift 2
  profile="$default"
  if [[ "${1:-}" == "--profile" ]]; then profile="${2:-}"; shift; (( $# )) && shift; fi
  sfx="$(profile_suffix "$profile")" || exit 2
  args=("$@")
  root="$(cd "$dir/../.." && pwd)"
  cfg="$dir/configs"
  bin="$(hf_emo_bin "$root")"
  cd "$root"
}

# `hf_emo_run COMMAND CONFIGS ARGS...`: `hf-emo COMMAND --config $cfg/A.yaml --config $cfg/B.yaml ... ARGS` for
# CONFIGS = "A,B,..." (later files override earlier ones; ARGS override them all). With ACCELERATE_CONFIG=NAME set
# (one_gpu, ddp, fsdp_qlora, deepspeed_zero3: recipes/accelerate/NAME.yaml) it runs under `accelerate launch`.
hf_emo_run() {
  local command="$1" names name configs=()
  IFS=',' read -ra names <<< "$2"
  shift 2
  for name in "${names[@]}"; do configs+=(--config "$cfg/${name}.yaml"); done
  if [[ -n "${ACCELERATE_CONFIG:-}" ]]; then
    local launcher; launcher="$(dirname "$bin")/accelerate"; [[ -x "$launcher" ]] || launcher="accelerate"
    "$launcher" launch --config_file "$root/recipes/accelerate/${ACCELERATE_CONFIG}.yaml" -m hf_emo.cli \
      "$command" "${configs[@]}" "$@"
  else
    "$bin" "$command" "${configs[@]}" "$@"
  fi
}

# `launch_paper_with_accelerate`: the paper profile of a decoder recipe runs under `accelerate launch`
# (ACCELERATE_CONFIG, default one_gpu).
launch_paper_with_accelerate() {
  if [[ "$profile" == "paper" ]]; then export ACCELERATE_CONFIG="${ACCELERATE_CONFIG:-one_gpu}"; fi
}

hf_emo_bin() {
  local root="$1"
  local bin="${HF_EMO_BIN:-$root/.venv/bin/hf-emo}"
  [[ -x "$bin" ]] || bin="hf-emo"
  echo "$bin"
}

# `profile_suffix PROFILE`: the config-name suffix of a profile ("_embedded" or ""); exits 2 on an unknown one.
profile_suffix() {
  case "$1" in
    embedded) echo "_embedded" ;;
    paper) echo "" ;;
    *) echo "unknown profile '$1' (one of: embedded paper)" >&2; exit 2 ;;
  esac
}

# `study NAME "DEFAULT SEEDS"`: after `recipe`, a seed study's `out` (OUT, else runs/NAME_<profile>) and `seeds`
# (SEEDS, else the defaults).
study() {
  out="${OUT:-runs/${1}_$profile}"
  # OUT is a common name: say so when it, not the default, places the runs (a GPU tool's OUT once took a study's)
  [[ -z "${OUT:-}" ]] || echo "$1: runs in $out (from OUT; unset OUT for runs/${1}_$profile)" >&2
  seeds=($(study_seeds ${2:-42}))
}

# -- seed studies: one loop shape for every recipe that runs settings over seeds --------------------------------
# `study_seeds DEFAULT...`: the study's seeds, $SEEDS when set, else the defaults.
study_seeds() { if [[ -n "${SEEDS:-}" ]]; then echo "$SEEDS"; else echo "$@"; fi; }

# `study_wants NAME [FULL_NAME]`: true unless $ONLY is set and lists neither NAME (a run's name without its
# _s<seed>: every seed of it) nor FULL_NAME (e.g. mtkd_s1: that seed alone, so parallel lanes can split a study).
study_wants() {
  [[ -z "${ONLY:-}" ]] && return 0
  local w
  for w in "$@"; do [[ " $ONLY " == *" $w "* ]] && return 0; done
  return 1
}

# `study_run DIR COMMAND...`: run COMMAND --output_dir DIR, unless DIR holds a finished run (metrics.json), which is
# skipped. A DIR left by an interrupted run continues from its last checkpoint (--resume_from_checkpoint true) when
# it has one and STUDY_RESUME is not 0 (staged runs cannot resume), else starts afresh (--overwrite_output_dir true,
# which removes only that run's own files and checkpoints).
study_run() {
  local dir="$1"; shift
  if [[ -f "$dir/metrics.json" ]]; then echo "skip $dir (done)"; return 0; fi
  local again=()
  if [[ -d "$dir" && -n "$(ls -A "$dir" 2>/dev/null)" ]]; then
    if [[ "${STUDY_RESUME:-1}" != 0 ]] && compgen -G "$dir/checkpoint-*/trainer_state.json" > /dev/null; then
      again=(--resume_from_checkpoint true)
    else
      again=(--overwrite_output_dir true)
    fi
    echo "continue $dir: ${again[*]}" >&2
  fi
  "$@" "${again[@]}" --output_dir "$dir"
}
