import numpy as np
import pytest

from hf_emo.data import TaskSpec
from hf_emo.metrics import (build_compute_metrics, detailed_report, multi_label_metrics, regression_metrics,
                            single_label_metrics, tune_threshold)


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
