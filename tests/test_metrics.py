import numpy as np
import pytest

from hf_emo.data import TaskSpec
from hf_emo.metrics import (
    build_compute_metrics,
    detailed_report,
    multi_label_metrics,
    regression_metrics,
    single_label_metrics,
    tune_threshold,
)


def test_multi_label_values_by_hand():
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    p = np.array([[0.9, 0.2, 0.6], [0.1, 0.4, 0.3], [0.8, 0.7, 0.9]])
    m = multi_label_metrics(y, p)  # predictions: [1,0,1] [0,0,0] [1,1,1]
    tp, fp, fn = 4, 1, 1
    assert m["precision_micro"] == pytest.approx(tp / (tp + fp))
    assert m["recall_micro"] == pytest.approx(tp / (tp + fn))
    P, R = m["precision_micro"], m["recall_micro"]
    assert m["f1_micro"] == pytest.approx(2 * P * R / (P + R))  # micro F1 is the harmonic mean of micro P and R
    # weighted: per-label F1 (1, 2/3, 2/3) weighted by support (2, 2, 1); macro: their plain mean
    assert m["f1_weighted"] == pytest.approx((2 * 1 + 2 * 2 / 3 + 1 * 2 / 3) / 5)
    assert m["f1_macro"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert m["subset_accuracy"] == pytest.approx(1 / 3)
    assert m["hamming_loss"] == pytest.approx(2 / 9)
    assert m["jaccard_samples"] == pytest.approx((1 + 0 + 2 / 3) / 3)


def test_threshold_tuning_finds_a_better_threshold():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(200, 5))
    p = np.clip(0.3 * y + rng.normal(0.1, 0.05, size=y.shape), 0, 1)  # positives around 0.4: below 0.5
    t, best = tune_threshold(y, p)
    assert t < 0.5
    assert best > multi_label_metrics(y, p, 0.5)["f1_micro"] + 0.3


def test_single_label_metrics_and_report():
    y = np.array([0, 1, 2, 2, 1, 0])
    probs = np.eye(3)[[0, 1, 2, 1, 1, 0]] * 0.8 + 0.2 / 3
    m = single_label_metrics(y, probs)
    assert m["accuracy"] == pytest.approx(5 / 6)
    # TBED-MTL's F1 = TP / (TP + (FP + FN) / 2) pooled over classes: 5 / (5 + (1 + 1) / 2) = the accuracy
    assert m["f1_micro"] == pytest.approx(5 / (5 + 0.5 * (1 + 1)))
    assert 0.0 <= m["roc_auc_weighted"] <= 1.0
    spec = TaskSpec("t", "single_label", ("a", "b", "c"), "en")
    rep = detailed_report(spec, y, np.log(probs))
    assert rep["confusion_matrix"] == [[2, 0, 0], [0, 2, 0], [0, 1, 1]]
    assert rep["classification_report"]["c"]["recall"] == pytest.approx(0.5)


def test_regression_metrics():
    y = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0]])
    pred = np.array([[1.1, 2.0], [2.2, 1.5], [2.9, 4.0], [4.2, 3.3]])
    m = regression_metrics(y, pred, ["V", "A"])
    assert m["pearson_V"] == pytest.approx(np.corrcoef(y[:, 0], pred[:, 0])[0, 1])
    assert m["pearson_mean"] == pytest.approx((m["pearson_V"] + m["pearson_A"]) / 2)
    assert m["spearman_V"] == pytest.approx(1.0)


def test_compute_metrics_from_spec():
    from transformers import EvalPrediction

    spec = TaskSpec("t", "multi_label", ("a", "b"), "en")
    fn = build_compute_metrics(spec)
    out = fn(EvalPrediction(predictions=np.array([[3.0, -3.0], [-3.0, 3.0]]), label_ids=np.array([[1, 0], [0, 1]])))
    assert out["f1_micro"] == 1.0 and out["subset_accuracy"] == 1.0


def test_per_label_thresholds_maximise_each_labels_f1():
    from hf_emo.metrics import tune_label_thresholds

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=(300, 2))
    p = np.stack(
        [
            np.clip(0.25 * y[:, 0] + rng.normal(0.15, 0.04, 300), 0, 1),  # label 0 separates near 0.3
            np.clip(0.25 * y[:, 1] + rng.normal(0.55, 0.04, 300), 0, 1),
        ],
        1,
    )  # label 1 near 0.7
    thr = tune_label_thresholds(y, p)
    assert 0.2 < thr[0] < 0.4 and 0.6 < thr[1] < 0.8
    grid = np.round(np.arange(0.05, 0.951, 0.025), 4)
    from sklearn.metrics import f1_score

    for j in range(2):  # no threshold of the grid does better on that label
        best = max(f1_score(y[:, j], p[:, j] >= t) for t in grid)
        assert f1_score(y[:, j], p[:, j] >= thr[j]) == pytest.approx(best)
    per_label = multi_label_metrics(y, p, thr)
    assert per_label["threshold"] == thr
    assert per_label["f1_macro"] >= multi_label_metrics(y, p, tune_threshold(y, p, "f1_macro")[0])["f1_macro"]
    manual = (p >= np.array(thr)).astype(int)
    assert per_label["subset_accuracy"] == pytest.approx(np.mean((manual == y).all(1)))


def test_score_splits_tunes_per_label_on_validation_only():
    from hf_emo.metrics import score_splits

    spec = TaskSpec("t", "multi_label", ("a", "b"), "en")
    rng = np.random.default_rng(2)
    outputs = {s: (rng.normal(size=(50, 2)), rng.integers(0, 2, size=(50, 2))) for s in ("validation", "test")}
    results, thr = score_splits(spec, outputs, tune=True, per_label=True)
    assert isinstance(thr, list) and len(thr) == 2
    lg, y = outputs["test"]
    assert results["test_tuned"]["f1_macro"] == pytest.approx(
        multi_label_metrics(y, 1 / (1 + np.exp(-lg)), thr)["f1_macro"]
    )
    assert results["test"]["threshold"] == 0.5


def test_predict_decodes_with_per_label_thresholds():
    import torch

    from hf_emo.inference import decode_labels, decision_threshold

    probs = np.array([[0.4, 0.4], [0.8, 0.2]])
    assert decode_labels(probs, ["a", "b"], "multi_label", [0.3, 0.5]) == [["a"], ["a"]]
    assert decode_labels(probs, ["a", "b"], "multi_label", 0.3) == [["a", "b"], ["a"]]
    with pytest.raises(ValueError, match="3 per-label thresholds for 2 labels"):
        decision_threshold([0.1, 0.2, 0.3], 2)
    from tests.test_emotion_trainer import tiny_model

    spec = TaskSpec("t", "multi_label", ("joy", "sad", "fear"), "en")
    model = tiny_model(spec)
    model.config.hf_emo_threshold = [0.0001, 0.9999, 0.0001]  # saved by threshold_tuning: per_label
    from tests.conftest import tiny_tokenizer

    from hf_emo import predict

    with torch.no_grad():
        pred = predict(model, tiny_tokenizer(), ["i am happy", "sad news"])
    assert pred.labels == [["joy", "fear"], ["joy", "fear"]] and pred.threshold == [0.0001, 0.9999, 0.0001]
