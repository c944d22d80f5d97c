"""Metrics for the three problem types, computed with scikit-learn and scipy (no hand-written formulas).

Names follow ``<metric>_<average>``. Matei's REDv2 "Ac" is the subset accuracy (``subset_accuracy``); its "F1" lies
below the harmonic mean of the row's P and R, so it is not the micro F1 but a mean of per-label F1s (macro or
weighted; ``bench/f1_averaging.py``).
"""

from __future__ import annotations

import logging

from typing import Any, Callable, Sequence

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.special import expit, softmax
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    hamming_loss,
    jaccard_score,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from .data.spec import TaskSpec

logger = logging.getLogger(__name__)

__all__ = [
    "score_splits",
    "check_threshold",
    "extra_metric_arguments",
    "multi_label_metrics",
    "single_label_metrics",
    "regression_metrics",
    "tune_threshold",
    "tune_label_thresholds",
    "build_compute_metrics",
    "probabilities",
    "detailed_report",
    "label_loyalty",
    "probability_loyalty",
    "regression_loyalty",
    "loyalty_metrics",
]


def probabilities(logits: np.ndarray, problem_type: str) -> np.ndarray:
    """Logits -> probabilities: sigmoid for multi-label, softmax for single-label, identity for regression."""
    logits = np.asarray(logits, dtype=np.float64)
    if problem_type == "multi_label":
        return expit(logits)
    if problem_type == "single_label":
        return softmax(logits, axis=-1)
    return logits


def _prf(y_true, y_pred, average: str) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
    return {f"precision_{average}": float(p), f"recall_{average}": float(r), f"f1_{average}": float(f)}


def multi_label_metrics(
    y_true: np.ndarray, probs: np.ndarray, threshold: float | Sequence[float] = 0.5
) -> dict[str, float]:
    """Subset accuracy, micro / macro / weighted / samples P-R-F1, Hamming loss and Jaccard at ``threshold``, one
    value or one per label (weighted: per-label scores weighted by each label's support)."""
    y_true = np.asarray(y_true).astype(int)
    thr = np.asarray(threshold, dtype=np.float64)
    y_pred = (np.asarray(probs) >= thr).astype(int)
    out = {
        "subset_accuracy": float(accuracy_score(y_true, y_pred)),
        "threshold": float(thr) if thr.ndim == 0 else [round(float(t), 4) for t in thr],
    }
    for avg in ("micro", "macro", "weighted", "samples"):
        out.update(_prf(y_true, y_pred, avg))
        out[f"jaccard_{avg}"] = float(jaccard_score(y_true, y_pred, average=avg, zero_division=0))
    out["hamming_loss"] = float(hamming_loss(y_true, y_pred))
    return out


def single_label_metrics(y_true: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Accuracy, micro / macro / weighted P-R-F1 and weighted one-vs-rest ROC-AUC. (Micro F1 equals the accuracy
    on a single-label task; it is reported under its name for papers that state it, e.g. TBED-MTL's pooled
    ``F1 = TP / (TP + (FP + FN) / 2)``.)"""
    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs)
    y_pred = probs.argmax(-1)
    out = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for avg in ("micro", "macro", "weighted"):
        out.update(_prf(y_true, y_pred, avg))
    labels = np.arange(probs.shape[1])
    present = np.unique(y_true)
    try:
        if probs.shape[1] == 2:
            out["roc_auc_weighted"] = float(roc_auc_score(y_true, probs[:, 1]))
        elif len(present) > 1:
            # restrict to the classes present so that roc_auc_score is defined on small evaluation sets
            p = probs[:, present] / probs[:, present].sum(-1, keepdims=True)
            out["roc_auc_weighted"] = float(
                roc_auc_score(y_true, p, multi_class="ovr", average="weighted", labels=labels[present])
            )
    except ValueError:
        pass  # a single class in y_true: ROC-AUC is undefined, so it is left out rather than faked
    return out


def regression_metrics(y_true: np.ndarray, preds: np.ndarray, label_names: list[str] | tuple[str, ...]) -> dict:
    """Pearson and Spearman per dimension and their means, plus MSE."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    preds = np.asarray(preds, dtype=np.float64).reshape(len(preds), -1)
    out = {"mse": float(np.mean((y_true - preds) ** 2))}
    ps, ss = [], []
    for j, name in enumerate(label_names):
        if np.std(preds[:, j]) == 0 or np.std(y_true[:, j]) == 0:
            p = s = 0.0  # a constant prediction carries no correlation
        else:
            p = float(pearsonr(y_true[:, j], preds[:, j])[0])
            s = float(spearmanr(y_true[:, j], preds[:, j])[0])
        out[f"pearson_{name}"], out[f"spearman_{name}"] = p, s
        ps.append(p)
        ss.append(s)
    out["pearson_mean"], out["spearman_mean"] = float(np.mean(ps)), float(np.mean(ss))
    return out


def tune_threshold(
    y_true: np.ndarray, probs: np.ndarray, metric: str = "f1_micro", grid: np.ndarray | None = None
) -> tuple[float, float]:
    """The global threshold in ``grid`` (default 0.05..0.95 step 0.025) that maximises ``metric`` on these data."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 4) if grid is None else grid
    best_t, best = 0.5, -np.inf
    for t in grid:
        v = multi_label_metrics(y_true, probs, float(t))[metric]
        if v > best + 1e-12:
            best_t, best = float(t), v
    return best_t, float(best)


def tune_label_thresholds(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray | None = None) -> list[float]:
    """One threshold per label, each maximising that label's own F1 on these data (grid as :func:`tune_threshold`;
    ties go to the threshold nearest 0.5). Maximises macro F1, the average of the per-label F1s, label by label."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 4) if grid is None else np.asarray(grid)
    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs)
    order = np.argsort(np.abs(grid - 0.5), kind="stable")  # ties: the threshold closest to 0.5 wins
    out = []
    for j in range(y_true.shape[1]):
        pred = probs[:, j][None, :] >= grid[:, None]  # (thresholds, N)
        tp = (pred & (y_true[:, j] == 1)).sum(1)
        f1 = 2 * tp / np.maximum(pred.sum(1) + y_true[:, j].sum(), 1)
        out.append(float(grid[order[np.argmax(f1[order])]]))
    return out


def task_metrics(
    spec: TaskSpec, labels: np.ndarray, logits: np.ndarray, threshold: float | Sequence[float] = 0.5
) -> dict[str, float]:
    """Scalar metrics for one task from raw logits."""
    probs = probabilities(logits, spec.problem_type)
    if spec.problem_type == "multi_label":
        return multi_label_metrics(labels, probs, threshold)
    if spec.problem_type == "single_label":
        return single_label_metrics(labels, probs)
    return regression_metrics(labels, probs, spec.label_names)


def decisions(spec: TaskSpec, logits: np.ndarray, threshold: float | Sequence[float] = 0.5) -> np.ndarray:
    """The predicted labels: 0/1 per label (multi-label, at ``threshold``, one value or one per label), a class id,
    or the regression outputs."""
    probs = probabilities(logits, spec.problem_type)
    if spec.problem_type == "multi_label":
        return (probs >= np.asarray(threshold, dtype=np.float64)).astype(int)
    if spec.problem_type == "single_label":
        return probs.argmax(-1)
    return probs


def build_compute_metrics(spec: TaskSpec, threshold: float = 0.5, extra_metrics: Sequence[Any] = ()) -> Callable:
    """A ``compute_metrics`` for ``transformers.Trainer`` driven by the task spec.

    ``extra_metrics``: ``evaluate`` modules (``evaluate.load("f1")``, ``evaluate.load("f1", "multilabel")``,
    ``evaluate.combine([...])``, or your own ``evaluate.Metric``), or ``(module, kwargs)`` pairs, each called as
    ``compute(predictions=decisions, references=labels, **kwargs)``; a module that takes ``average`` gets the task's
    (:func:`extra_metric_arguments`) unless the pair gives one. Their results join hf_emo's, prefixed with the
    module's name where a key would collide."""
    modules = [m if isinstance(m, tuple) else (m, None) for m in extra_metrics]
    modules = [(m, extra_metric_arguments(m, spec) if kw is None else dict(kw)) for m, kw in modules]

    def compute_metrics(eval_pred) -> dict[str, float]:
        logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
        out = task_metrics(spec, eval_pred.label_ids, logits, threshold)
        if extra_metrics:
            preds = decisions(spec, logits, threshold)
            refs = np.asarray(eval_pred.label_ids)
            refs = refs.astype(int) if spec.problem_type != "regression" else refs
            for module, kwargs in modules:
                result = module.compute(predictions=preds.tolist(), references=refs.tolist(), **kwargs)
                for key, value in (result or {}).items():
                    name = key if key not in out else f"{getattr(module, 'name', 'evaluate')}_{key}"
                    out[name] = float(value) if np.isscalar(value) else value
        return out

    return compute_metrics


def extra_metric_arguments(module: Any, spec: TaskSpec) -> dict[str, Any]:
    """The keyword arguments an ``evaluate`` module needs for ``spec``'s decisions: ``average`` for a module whose
    ``compute`` takes one (evaluate's ``f1``, ``precision`` and ``recall`` default to ``binary``, which refuses
    multi-class and multi-label data) when the task is multi-label or has more than two classes: the averaging of
    the task's own metric (``f1_macro`` -> ``macro``), else ``macro`` (single-label) or ``micro`` (multi-label)."""
    import inspect

    compute = getattr(module, "_compute", None)
    try:
        takes_average = compute is not None and "average" in inspect.signature(compute).parameters
    except (TypeError, ValueError):
        takes_average = False
    if not takes_average or spec.problem_type == "regression":
        return {}
    if spec.problem_type == "single_label" and spec.num_labels <= 2:
        return {}
    suffix = spec.metric.rsplit("_", 1)[-1]
    average = (
        suffix
        if suffix in ("micro", "macro", "weighted", "samples")
        else ("micro" if spec.problem_type == "multi_label" else "macro")
    )
    return {"average": average}


def detailed_report(
    spec: TaskSpec, labels: np.ndarray, logits: np.ndarray, threshold: float | Sequence[float] = 0.5
) -> dict:
    """Per-class report and confusion matrix (one 2x2 matrix per label for multi-label)."""
    probs = probabilities(logits, spec.problem_type)
    names = list(spec.label_names)
    if spec.problem_type == "single_label":
        y_pred = probs.argmax(-1)
        return {
            "classification_report": classification_report(
                labels,
                y_pred,
                labels=list(range(len(names))),
                target_names=names,
                output_dict=True,
                zero_division=0,
                digits=4,
            ),
            "confusion_matrix": confusion_matrix(labels, y_pred, labels=list(range(len(names)))).tolist(),
        }
    if spec.problem_type == "multi_label":
        y_true = np.asarray(labels).astype(int)
        y_pred = (probs >= np.asarray(threshold, dtype=np.float64)).astype(int)
        return {
            "classification_report": classification_report(
                y_true, y_pred, target_names=names, output_dict=True, zero_division=0
            ),
            "confusion_matrix": {n: m.tolist() for n, m in zip(names, multilabel_confusion_matrix(y_true, y_pred))},
        }
    return {}


# -- loyalty: how faithfully a student reproduces its teacher (Avram et al. 2022 §5) ----------------------------------


def label_loyalty(teacher_labels: np.ndarray, student_labels: np.ndarray) -> float:
    """Accuracy of the student's labels against the teacher's, ``mean(student == teacher)``.

    ``(N,)`` class ids, or ``(N, C)`` 0/1 multi-label decisions (then the mean over all label cells).
    """
    t, s = np.asarray(teacher_labels), np.asarray(student_labels)
    if t.shape != s.shape:
        raise ValueError(f"teacher labels {t.shape} and student labels {s.shape} differ in shape")
    return float(np.mean(t == s)) if t.size else float("nan")


LOYALTY_FORMS = ("js", "symmetric_kl")


def probability_loyalty(
    teacher_probs: np.ndarray, student_probs: np.ndarray, multi_label: bool = False, form: str = "js"
) -> float:
    """``mean_i 1 - sqrt(D(P_t,i, P_s,i))`` (Avram et al. 2022, Eq. 7).

    ``form='js'`` (default): ``D`` is the Jensen-Shannon divergence in base 2, so the loyalty is in ``[0, 1]``.
    ``form='symmetric_kl'``: ``D = (KL(P_t || P_s) + KL(P_s || P_t)) / 2`` in nats, as the paper's Eq. 8 writes it
    (its "JS" is this symmetrised KL); unbounded, so the loyalty can fall below 0. Rows of ``(N, C)`` are
    distributions; with ``multi_label=True`` each cell is a Bernoulli ``(p, 1-p)`` and the loyalty is averaged over
    labels.
    """
    if form not in LOYALTY_FORMS:
        raise ValueError(f"form must be one of {LOYALTY_FORMS}, got {form!r}")
    t = np.asarray(teacher_probs, dtype=np.float64)
    s = np.asarray(student_probs, dtype=np.float64)
    if t.shape != s.shape:
        raise ValueError(f"teacher probabilities {t.shape} and student probabilities {s.shape} differ in shape")
    if multi_label:
        t = np.stack([t, 1 - t], axis=-1).reshape(-1, 2)
        s = np.stack([s, 1 - s], axis=-1).reshape(-1, 2)
    if form == "symmetric_kl":
        eps = 1e-12
        tc, sc = np.clip(t, eps, 1.0), np.clip(s, eps, 1.0)
        d = 0.5 * ((tc * np.log(tc / sc)).sum(-1) + (sc * np.log(sc / tc)).sum(-1))
        return float(np.mean(1.0 - np.sqrt(np.maximum(d, 0.0))))
    d = jensenshannon(t, s, base=2, axis=-1)
    d = np.nan_to_num(d, nan=0.0)  # two identical all-zero rows give 0/0
    return float(np.mean(1.0 - np.clip(d, 0.0, 1.0)))


def regression_loyalty(teacher_outputs: np.ndarray, student_outputs: np.ndarray) -> float:
    """Pearson correlation between teacher and student outputs; ``(N, D)`` gives the mean over dimensions."""
    t = np.asarray(teacher_outputs, dtype=np.float64).reshape(len(teacher_outputs), -1)
    s = np.asarray(student_outputs, dtype=np.float64).reshape(len(student_outputs), -1)
    if t.shape != s.shape:
        raise ValueError(f"teacher outputs {t.shape} and student outputs {s.shape} differ in shape")
    rs = [
        0.0 if np.std(t[:, j]) == 0 or np.std(s[:, j]) == 0 else float(pearsonr(t[:, j], s[:, j])[0])
        for j in range(t.shape[1])
    ]
    return float(np.mean(rs))


def loyalty_metrics(
    spec: TaskSpec, teacher_logits: np.ndarray, student_logits: np.ndarray, threshold: float | Sequence[float] = 0.5
) -> dict[str, float]:
    """Loyalty of a student to one teacher ``(N, C)`` or to several ``(N, K, C)`` (averaged over teachers)."""
    t = np.asarray(teacher_logits, dtype=np.float64)
    s = np.asarray(student_logits, dtype=np.float64)
    teachers = [t] if t.ndim == s.ndim else [t[:, k] for k in range(t.shape[1])]
    out: dict[str, list[float]] = {}
    ps = probabilities(s, spec.problem_type)
    for tk in teachers:
        pt = probabilities(tk, spec.problem_type)
        if spec.problem_type == "regression":
            out.setdefault("regression_loyalty", []).append(regression_loyalty(pt, ps))
            continue
        if spec.problem_type == "multi_label":
            thr = np.asarray(threshold, dtype=np.float64)
            lt, ls = pt >= thr, ps >= thr
        else:
            lt, ls = pt.argmax(-1), ps.argmax(-1)
        out.setdefault("label_loyalty", []).append(label_loyalty(lt, ls))
        multi = spec.problem_type == "multi_label"
        out.setdefault("probability_loyalty", []).append(probability_loyalty(pt, ps, multi_label=multi))
        out.setdefault("probability_loyalty_symmetric_kl", []).append(
            probability_loyalty(pt, ps, multi_label=multi, form="symmetric_kl")
        )
    return {k: float(np.mean(v)) for k, v in out.items()}


def check_threshold(value: float | Sequence[float], name: str = "threshold") -> float | list[float]:
    """A multi-label decision threshold (one, or one per label) in (0, 1): the one check every job and command
    that takes a threshold shares (a threshold of 1.5 gave all-zero metrics with rc 0 in ``evaluate``)."""
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not 0.0 < float(v) < 1.0:
            raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return [float(v) for v in values] if isinstance(value, (list, tuple, np.ndarray)) else float(value)


# -- scoring the splits of a run ------------------------------------------------------------------------
def _sigmoid64(x) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def score_splits(
    spec: TaskSpec,
    outputs: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    threshold: float = 0.5,
    tune: bool = False,
    tune_split: str = "validation",
    per_label: bool = False,
) -> tuple[dict[str, dict], float | list[float]]:
    """Metrics of every split from ``{split: (logits, labels)}``; with ``tune`` (multi-label), the threshold that
    maximises the task metric on ``tune_split`` (``per_label``: one per label, each maximising that label's F1) and
    a ``<split>_tuned`` entry per split. Returns ``(results, threshold)``, the tuned threshold(s) or the given one."""
    results = {split: task_metrics(spec, y, lg, threshold) for split, (lg, y) in outputs.items()}
    if tune and spec.problem_type == "multi_label" and tune_split not in outputs:
        logger.warning("tune_threshold: there is no %s split to tune on; the threshold stays %s", tune_split, threshold)
    if tune and spec.problem_type == "multi_label" and tune_split in outputs:
        lg, y = outputs[tune_split]
        threshold = (
            tune_label_thresholds(y, _sigmoid64(lg)) if per_label else tune_threshold(y, _sigmoid64(lg), spec.metric)[0]
        )
        for split, (lg, y) in outputs.items():
            results[f"{split}_tuned"] = task_metrics(spec, y, lg, threshold)
    return results, threshold
