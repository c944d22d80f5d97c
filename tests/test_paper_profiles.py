"""Every recipe's paper profile runs as written (issue 39): each script runs with ``--profile paper`` in a copy of
the checkout, every command it issues runs end to end, on tiny stand-ins of the papers' own architectures
(``tests/standins.py``, through ``HF_EMO_HUB_MAP``), on a few rows of the real data for two steps
(``tests/scripts/paper_profile_cli.py``: the caps are the only change to a command), one seed per study. The
commands a recipe launches through accelerate run under the shipped ``recipes/accelerate/ddp.yaml`` on 2 CPU
processes.

The commands run in one Python process that imports torch and transformers once (a bash client in place of the
``hf-emo`` executable spools each command to it), so the ~120 commands take minutes, not a quarter of an hour.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "scripts" / "paper_profile_cli.py"

CLIENT = r"""#!/usr/bin/env bash
# hf-emo for the paper-profile test: the command goes to the test's server (one Python process for all commands)
spool="$PAPER_PROFILE_SPOOL"
id="$(date +%s%N)_$$"
printf '%s\0' "$PWD" "$@" > "$spool/$id.tmp" && mv "$spool/$id.tmp" "$spool/$id.req"
while [[ ! -f "$spool/$id.rc" ]]; do sleep 0.05; done
cat "$spool/$id.out"; cat "$spool/$id.err" >&2
exit "$(cat "$spool/$id.rc")"
"""
ACCELERATE = r"""#!/usr/bin/env bash
# accelerate for the paper-profile test: the recipe's launch, under the shipped ddp.yaml on 2 CPU processes
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config_file)
      args+=(--config_file "$PAPER_PROFILE_ROOT/recipes/accelerate/ddp.yaml")
      args+=(--main_process_port "$PAPER_PROFILE_PORT"); shift 2 ;;
    -m) args+=("$PAPER_PROFILE_RUNNER"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
exec "$PAPER_PROFILE_ACCELERATE" "${args[@]}"
"""
# every recipe script, in the order a user runs them (later scripts read earlier scripts' runs); NAME=VALUE words
# before a script set its environment (commas in a value stand for spaces), words after it are its arguments
SCRIPTS = [
    "distil_romanian_berts/00_distil.sh",
    "distil_romanian_berts/01_finetune.sh",
    "distil_romanian_berts/02_loyalty_speed.sh",
    "distilbert_emotion/train.sh",
    "distilbert_emotion/kd.sh",
    "distilbert_emotion/lora.sh",
    "distilbert_emotion/deploy.sh",
    "mtl_disparate_labels/run.sh",
    "ONLY=stlsel_S100,mhsel_S100,mhprop_S100 mtl_disparate_labels/run.sh",  # the three diagnostic settings
    "mtl_disparate_labels/tables.sh",
    "romanian_mtkd/00_baseline.sh",
    "romanian_mtkd/01_kd.sh",
    "romanian_mtkd/02_kd_sweep.sh",
    "romanian_mtkd/03_kd_seeds.sh",
    "romanian_mtkd/04_single_task.sh",
    "romanian_mtkd/05_mtl.sh",
    "romanian_mtkd/06_mtkd.sh",
    "GRID=full romanian_mtkd/07_mtl_study.sh",  # with every cell of Table 4's T x alpha grid
    "romanian_mtkd/08_mtl_tables.sh",
    "romanian_mtkd/09_cross_lingual.sh --variant multistage",  # one run; 10_cross_lingual_study.sh runs them all
    "romanian_mtkd/10_cross_lingual_study.sh",
    "romanian_mtkd/11_generative.sh",
    "romanian_mtkd/12_kd_loss_form.sh",
    "romanian_mtkd/13_annotator_kd.sh",
    "wang2024_consistency_kd/run.sh",
    "wang2024_consistency_kd/quality_study.sh",
    "wang2024_consistency_kd/tables.sh",
    "wang2024_consistency_kd/generative.sh",
]


def test_the_list_holds_every_recipe_script():
    found = sorted(str(p.relative_to(ROOT / "recipes")) for p in ROOT.glob("recipes/*/*.sh"))
    assert sorted(set(_parse(s)[1] for s in SCRIPTS)) == found


def _parse(entry: str) -> tuple[dict[str, str], str, list[str]]:
    """``(environment, script, arguments)`` of an entry of :data:`SCRIPTS`."""
    words = entry.split()
    env = {}
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value.replace(",", " ")
    return env, words[0], words[1:]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the checkout's recipes (runs/ goes there), the stand-ins, and the command server."""
    from hf_emo.data import default_data_dir
    from tests.standins import build_all

    if default_data_dir() is None or not default_data_dir().is_dir():
        pytest.skip("no local data directory (set HF_EMO_DATA_DIR or put shared/data beside the checkout)")
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or shutil.which("accelerate")
    if accelerate is None:
        pytest.skip("accelerate's launcher is not installed")
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "recipes", root / "recipes")
    (root / "bench").symlink_to(ROOT / "bench")
    model_map = build_all(tmp_path_factory.mktemp("standins"))
    spool, bin_dir = root / ".spool", root / ".bin"
    spool.mkdir()
    bin_dir.mkdir()
    for name, text in (("hf-emo", CLIENT), ("accelerate", ACCELERATE)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "python").write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" "$@"\n')  # the venv's python
    (bin_dir / "python").chmod(0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "HF_EMO_HUB_MAP": str(model_map),
        "HF_EMO_DATA_DIR": str(default_data_dir()),
        "HF_EMO_BIN": str(bin_dir / "hf-emo"),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PAPER_PROFILE_SPOOL": str(spool),
        "PAPER_PROFILE_ROOT": str(root),
        "PAPER_PROFILE_RUNNER": str(RUNNER),
        "PAPER_PROFILE_ACCELERATE": accelerate,
        "PAPER_PROFILE_PORT": str(port),
        "PYTHONPATH": str(ROOT),
        "SEEDS": "42",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1",
    }
    for var in ("OUT", "ONLY", "ACCELERATE_CONFIG"):
        env.pop(var, None)
    server = subprocess.Popen(
        [sys.executable, str(RUNNER), "--serve", str(spool)],
        env=env,
        cwd=root,
        stdout=open(spool / "server.stdout", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    yield root, env
    (spool / "stop").touch()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.mark.parametrize("script", SCRIPTS)
def test_paper_profile_runs(checkout, script):
    root, env = checkout
    script_env, path, extra = _parse(script)
    proc = subprocess.run(
        ["bash", str(root / "recipes" / path), "--profile", "paper", *extra],
        env={**env, **script_env},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = (root / ".spool" / "server.log").read_text() if (root / ".spool" / "server.log").exists() else ""
    assert proc.returncode == 0, (
        f"{script} --profile paper ended with rc {proc.returncode}\n--- stderr (end) ---\n{proc.stderr[-4000:]}\n"
        f"--- commands run so far (rc, time, command) ---\n{log[-3000:]}"
    )
