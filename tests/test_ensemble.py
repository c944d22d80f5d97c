"""Ensembles (paper 001 Table 1): mean probabilities, members next to the ensemble, the CLI."""

import json

import numpy as np
import pytest

from hf_emo.data import TaskSpec
from hf_emo.ensemble import ensemble_probabilities, evaluate_ensemble, probabilities_to_logits
from hf_emo.metrics import probabilities, task_metrics

ML = TaskSpec("ml", "multi_label", ("a", "b", "c"), "en")
SL = TaskSpec("sl", "single_label", ("a", "b", "c"), "en")


@pytest.mark.parametrize("problem", ["multi_label", "single_label"])
def test_ensemble_is_the_mean_probability(problem):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    mean = ensemble_probabilities([a, b], problem)
    assert np.allclose(mean, (probabilities(a, problem) + probabilities(b, problem)) / 2)
    assert np.allclose(probabilities(probabilities_to_logits(mean, problem), problem), mean, atol=1e-9)
    with pytest.raises(ValueError, match="output shape"):
        ensemble_probabilities([a, b[:, :2]], problem)


def test_members_reported_next_to_the_ensemble():
    y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], float)
    good = np.where(y > 0, 3.0, -3.0)
    noisy = good.copy()
    noisy[0] = [-3, 3, 3]  # one member wrong on row 0
    res = evaluate_ensemble(ML, y, {"good": good, "noisy": noisy})
    assert res["members"]["good"]["f1_micro"] == 1.0 and res["members"]["noisy"]["f1_micro"] < 1.0
    # row 0: mean probabilities 0.5 / 0.5 / 0.5 at threshold 0.5 -> every label predicted
    mean = (probabilities(good, "multi_label") + probabilities(noisy, "multi_label")) / 2
    assert res["ensemble"] == pytest.approx(task_metrics(ML, y, probabilities_to_logits(mean, "multi_label")))
    same = evaluate_ensemble(SL, np.array([0, 1, 2]), {"x": np.eye(3), "y": np.eye(3)})
    assert same["ensemble"]["accuracy"] == same["members"]["x"]["accuracy"] == 1.0


def test_evaluate_cli_with_several_models(tmp_path, capsys):
    from hf_emo.cli import main
    from tests.conftest import tiny_tokenizer
    from tests.test_emotion_trainer import tiny_model

    spec = TaskSpec("emo", "single_label", ("fear", "joy", "sadness"), "en")
    dirs = []
    for seed in (1, 2):
        m = tiny_model(spec, seed=seed)
        m.config.hf_emo_task = spec.to_dict()
        d = tmp_path / f"m{seed}"
        m.save_pretrained(d)
        tiny_tokenizer().save_pretrained(d)
        dirs.append(str(d))
    f = tmp_path / "test.csv"
    f.write_text("text,emotion\ni am happy,joy\ni am sad,sadness\ni am afraid,fear\nawful day,sadness\n")
    out = tmp_path / "ens" / "metrics.json"
    assert (
        main(
            [
                "evaluate",
                "--model",
                dirs[0],
                "--model",
                dirs[1],
                "--file",
                str(f),
                "--label-columns",
                "emotion",
                "--problem-type",
                "single_label",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    assert set(res["members"]) == set(dirs) and res["test"] == res["ensemble"]
    assert 0 <= res["ensemble"]["accuracy"] <= 1 and res["run"]["ensemble_of"] == dirs
