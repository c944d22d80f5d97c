"""bench/collapse_check.py and bench/first_epoch_probe.sh: the two diagnostics behind the KD-TA stall figures."""

import json
import subprocess
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
    fake = ("echo \"{'loss': '0.68', 'loss_kd': '0.70', 'alpha': '0.1'}\"; "
            "echo \"{'eval_loss': '0.41', 'eval_f1_micro': '0'}\"; sleep 60; touch " + str(tmp_path / "went_on"))
    res = subprocess.run(["bash", str(ROOT / "bench/first_epoch_probe.sh"), str(out), "bash", "-c", fake],
                         capture_output=True, text=True, timeout=50)
    assert res.returncode == 0, res.stderr
    record = json.loads((out / "first_epoch.json").read_text())
    assert record["first_eval"] == {"eval_loss": 0.41, "eval_f1_micro": 0.0}
    assert record["train_logs"] == [{"loss": 0.68, "loss_kd": 0.70, "alpha": 0.1}]
    assert not (tmp_path / "went_on").exists()  # stopped, not left to finish


def test_first_epoch_probe_says_when_the_run_ends_before_evaluating(tmp_path):
    res = subprocess.run(["bash", str(ROOT / "bench/first_epoch_probe.sh"), str(tmp_path / "p"), "bash", "-c",
                          "echo no eval; exit 3"], capture_output=True, text=True, timeout=50)
    assert res.returncode == 1 and "ended before its first evaluation" in res.stderr
    assert not (tmp_path / "p" / "first_epoch.json").exists()
