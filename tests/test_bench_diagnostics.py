"""bench/collapse_check.py and bench/first_epoch_probe.sh: the two diagnostics behind the KD-TA stall figures."""

import json
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def test_a_classifier_with_one_output_for_every_text_is_collapsed(load_bench):
    cc = load_bench("collapse_check")
    prior = np.tile(np.array([-1.55, -2.41, -2.26]), (50, 1))  # the head's bias, whatever the text
    dead = cc.spread(prior + 1e-6 * np.random.default_rng(0).standard_normal(prior.shape), 1e-3)
    assert dead["collapsed"] and dead["distinct_rows"] == 1 and max(dead["logit_std_per_label"]) < 1e-3
    alive = prior.copy()
    alive[:, 2] += np.linspace(-3, 3, 50)  # one label still follows the text
    live = cc.spread(alive, 1e-3)
    assert not live["collapsed"] and live["distinct_rows"] == 50
    assert live["logit_std_per_label"][:2] == [0.0, 0.0] and live["logit_std_per_label"][2] > 1


def test_first_epoch_probe_stops_the_run_after_its_first_evaluation(tmp_path):
    out = tmp_path / "probe"
    fake = (
        "echo \"{'loss': '0.68', 'loss_kd': '0.70', 'alpha': '0.1'}\"; "
        "echo \"{'eval_loss': '0.41', 'eval_f1_micro': '0'}\"; sleep 60; touch " + str(tmp_path / "went_on")
    )
    res = subprocess.run(
        ["bash", str(ROOT / "bench/first_epoch_probe.sh"), str(out), "bash", "-c", fake],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert res.returncode == 0, res.stderr
    record = json.loads((out / "first_epoch.json").read_text())
    assert record["first_eval"] == {"eval_loss": 0.41, "eval_f1_micro": 0.0}
    assert record["train_logs"] == [{"loss": 0.68, "loss_kd": 0.70, "alpha": 0.1}]
    assert not (tmp_path / "went_on").exists()  # stopped, not left to finish


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_first_epoch_probe_ends_every_process_under_the_command(tmp_path):
    """The probe ended the command's children, then the command: a grandchild outlived both and went on, and in CI
    (2026-12-04) the command itself ran its next step in between. It now ends the command's process group at once."""
    (tmp_path / "grandchild.sh").write_text(f"echo $$ > {tmp_path}/grandchild.pid; sleep 60\n")
    (tmp_path / "child.sh").write_text(f"bash {tmp_path}/grandchild.sh; true\n")
    # the evaluation line only once the grandchild runs (it printed first, and on a loaded machine the probe could end
    # the group before the grandchild had started: no pid file, a flaky test)
    fake = (
        f"bash {tmp_path}/child.sh & while [ ! -s {tmp_path}/grandchild.pid ]; do sleep 0.05; done; "
        f"echo \"{{'eval_loss': '0.41'}}\"; wait; touch {tmp_path}/went_on"
    )
    res = subprocess.run(
        ["bash", str(ROOT / "bench/first_epoch_probe.sh"), str(tmp_path / "p"), "bash", "-c", fake],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert res.returncode == 0, res.stderr
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    deadline = time.monotonic() + 10
    while _running(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert not _running(grandchild), "the command's grandchild is still running"
    finally:
        subprocess.run(["kill", "-9", str(grandchild)], capture_output=True)
    assert not (tmp_path / "went_on").exists()


def test_first_epoch_probe_says_when_the_run_ends_before_evaluating(tmp_path):
    res = subprocess.run(
        ["bash", str(ROOT / "bench/first_epoch_probe.sh"), str(tmp_path / "p"), "bash", "-c", "echo no eval; exit 3"],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert res.returncode == 1 and "ended before its first evaluation" in res.stderr
    assert not (tmp_path / "p" / "first_epoch.json").exists()


def test_every_bench_script_imports(load_bench, monkeypatch):
    """A refactor below bench/ (machine_description left hf_emo.jobs.train) broke three overhead scripts unseen."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # scripts import their neighbours as the interpreter would
    failures = {}
    for script in sorted((ROOT / "bench").glob("*.py")):
        try:
            module = load_bench(script.stem)
        except Exception as err:  # noqa: BLE001 (each failure is reported by name below)
            failures[script.name] = f"{type(err).__name__}: {err}"
            continue
        assert callable(getattr(module, "main", None)), f"{script.name} has no main()"
    assert not failures, failures
