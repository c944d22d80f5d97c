# Shared by the recipe scripts: `run_profile DIR PROFILE_NAMES... -- ARGS...`
# reads an optional `--profile NAME` from ARGS (default: the first profile name), then runs
# `hf-emo train --config DIR/configs/<config of that profile>.yaml` with the remaining ARGS as overrides.
# A profile maps to configs/<name>.yaml unless PROFILE_CONFIG_<name> names another file.
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
  local config="$dir/configs/${!var:-$profile}.yaml"
  local root; root="$(cd "$dir/../.." && pwd)"
  local hf_emo="${HF_EMO_BIN:-$root/.venv/bin/hf-emo}"
  [[ -x "$hf_emo" ]] || hf_emo="hf-emo"
  cd "$root"
  "$hf_emo" train --config "$config" "$@"
}
