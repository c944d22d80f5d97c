# Shared by the recipe scripts: `run_profile DIR PROFILE_NAMES... -- ARGS...`
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
  "$bin" "${HF_EMO_CMD:-train}" "${configs[@]}" "$@"
}
