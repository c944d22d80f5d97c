"""The acceptance checks of ``bench/`` as tests behind the ``slow`` marker (``pytest -m slow``; ``make test``
leaves them out): every job repeats its weights, a killed run resumes to the straight run's weights, and no bad
input ends silently or with a trace. BENCHMARKS.md records their full runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _bench(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_every_job_gives_the_same_weights_twice(data_dir, tmp_path):
    env = {"HF_EMO_BENCH_RESULTS": str(tmp_path), "HF_EMO_DATA_DIR": str(data_dir)}
    for label in ("a", "b"):
        proc = _bench("same_result.py", "run", "--label", label, "--models", str(tmp_path / "models"), env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
    proc = _bench("same_result.py", "compare", "a", "b", env=env)
    report = json.loads(proc.stdout)
    assert {"train", "distil", "mtl", "mtl_gradnorm", "stages", "consistency", "generative", "pretrain"} <= set(report)
    for job, verdict in report.items():
        assert verdict["weights_identical"] and verdict["max_metric_difference"] == 0, (job, verdict)


def test_a_killed_run_resumes_to_the_straight_runs_weights(tmp_path):
    proc = _bench("kill_resume.py", "--repeats", "2", "--out", str(tmp_path / "kill.json"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "kill.json").read_text())
    assert record["all_resumed"] and record["max_abs_weight_diff"] == 0.0


def test_no_bad_input_is_silent_or_unclear(tmp_path):
    proc = _bench("bad_inputs.py", "--out", str(tmp_path / "bad.json"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "bad.json").read_text())
    assert record["cases"] >= 42
    assert record["silent"] == 0 and record["unclear"] == 0, [r for r in record["results"] if r["verdict"] != "clear"]
