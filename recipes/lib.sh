# Shared by the recipe scripts: `run_profile DIR PROFILE_NAMES... -- ARGS...`
# With ACCELERATE_CONFIG=NAME set, the job runs under `accelerate launch --config_file recipes/accelerate/NAME.yaml`
# (one GPU, DDP, FSDP + QLoRA or DeepSpeed ZeRO-3) instead of as one plain process.
# reads an optional `--profile NAME` from ARGS (default: the first profile name), then runs
# `hf-emo $HF_EMO_CMD --config DIR/configs/<config>.yaml ...` (HF_EMO_CMD defaults to train) with the remaining
# ARGS as overrides. A profile maps to configs/<name>.yaml unless PROFILE_CONFIG_<name> names other files
# (comma-separated: several --config files, later ones override earlier ones).
hf_emo_bin() {
  local root="$1"
  local bin="${HF_EMO_BIN:-$root/.venv/bin/hf-emo}"
  [[ -x "$bin" ]] || bin="hf-emo"
  echo "$bin"
}

# `parse_profile DEFAULT ARGS...`: prints the profile (from a leading --profile NAME) or DEFAULT
parse_profile() {
  local default="$1"; shift
  if [[ "${1:-}" == "--profile" ]]; then echo "$2"; else echo "$default"; fi
}

run_profile() {
  local dir="$1"; shift
  local profiles=()
  while [[ "$1" != "--" ]]; do profiles+=("$1"); shift; done
  shift
  local profile="${profiles[0]}"
  if [[ "${1:-}" == "--profile" ]]; then profile="$2"; shift 2; fi
  local known=" ${profiles[*]} "
  if [[ "$known" != *" $profile "* ]]; then
    echo "unknown profile '$profile' (one of:${known% })" >&2; return 2
  fi
  local var="PROFILE_CONFIG_${profile}"
  local configs=() name names
  IFS=',' read -ra names <<< "${!var:-$profile}"
  for name in "${names[@]}"; do configs+=(--config "$dir/configs/${name}.yaml"); done
  local root; root="$(cd "$dir/../.." && pwd)"
  local bin; bin="$(hf_emo_bin "$root")"
  cd "$root"
  if [[ -n "${ACCELERATE_CONFIG:-}" ]]; then  # e.g. one_gpu, ddp, fsdp_qlora, deepspeed_zero3 (recipes/accelerate)
    local launcher="$(dirname "$bin")/accelerate"; [[ -x "$launcher" ]] || launcher="accelerate"
    "$launcher" launch --config_file "$root/recipes/accelerate/${ACCELERATE_CONFIG}.yaml" -m hf_emo.cli \
      "${HF_EMO_CMD:-train}" "${configs[@]}" "$@"
  else
    "$bin" "${HF_EMO_CMD:-train}" "${configs[@]}" "$@"
  fi
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

# `run_generative DIR PAPER_CONFIG EMBEDDED_CONFIG ARGS...`: a generative-baseline recipe: `hf-emo generative` with
# the profile's config (embedded by default); the paper profile runs under `accelerate launch`
# (ACCELERATE_CONFIG, default one_gpu).
run_generative() {
  local dir="$1" paper="$2" embedded="$3"; shift 3
  local profile; profile="$(parse_profile embedded "$@")"
  if [[ "$profile" == "paper" ]]; then export ACCELERATE_CONFIG="${ACCELERATE_CONFIG:-one_gpu}"; fi
  PROFILE_CONFIG_paper="$paper" PROFILE_CONFIG_embedded="$embedded" HF_EMO_CMD=generative \
    run_profile "$dir" embedded paper -- "$@"
}

# `recipe_context DIR DEFAULT_PROFILE ARGS...`: sets `profile` (from a leading --profile NAME, else the default),
# `root` (the checkout), `bin` (hf-emo) and `args` (ARGS without --profile NAME), and moves to the checkout.
recipe_context() {
  local dir="$1"; shift
  profile="$(parse_profile "$1" "${@:2}")"; shift
  args=("$@")
  if [[ "${args[0]:-}" == "--profile" ]]; then args=("${args[@]:2}"); fi
  root="$(cd "$dir/../.." && pwd)"
  bin="$(hf_emo_bin "$root")"
  cd "$root"
}

# `study_context DIR DEFAULT_PROFILE NAME "DEFAULT SEEDS" ARGS...`: recipe_context, plus `out` (OUT, default
# runs/NAME_<profile>) and `seeds` (SEEDS, default DEFAULT SEEDS). Follow it with `set -- "${args[@]}"` to drop
# the --profile words from the script's own arguments.
study_context() {
  local dir="$1" default="$2" name="$3" default_seeds="$4"; shift 4
  recipe_context "$dir" "$default" "$@"
  out="${OUT:-runs/${name}_$profile}"
  # OUT is a common name: say so when it, not the default, places the runs (a GPU tool's OUT once took a study's)
  [[ -z "${OUT:-}" ]] || echo "$name: runs in $out (from OUT; unset OUT for runs/${name}_$profile)" >&2
  seeds=($(study_seeds $default_seeds))
}

# `profile_suffix PROFILE`: the config-name suffix of a profile ("_embedded" or ""); exits 2 on an unknown one.
profile_suffix() {
  case "$1" in
    embedded) echo "_embedded" ;;
    paper) echo "" ;;
    *) echo "unknown profile '$1' (one of: embedded paper)" >&2; exit 2 ;;
  esac
}

# `runs_dir PATTERN ARGS...`: the folder a tables script reads: RUNS_DIR as given, or, with `--profile NAME`, the
# study's own folder (PATTERN with {profile} replaced by NAME; OUT overrides it, as in the study script).
runs_dir() {
  local pattern="$1"; shift
  if [[ "${1:-}" == "--profile" ]]; then
    profile_suffix "${2:-}" > /dev/null || return 2
    echo "${OUT:-${pattern//\{profile\}/$2}}"
  elif [[ -n "${1:-}" ]]; then
    echo "$1"
  else
    echo "usage: $(basename "$0") RUNS_DIR | --profile embedded|paper" >&2; return 2
  fi
}
