"""``predict()``: labels and probabilities of a fine-tuned classifier (single- or multi-task) for raw texts.

The CLI (``hf-emo predict`` / ``evaluate`` / ``table probs`` / ``explain``), the evaluation job and loyalty all go
through it, so a text is prefixed, truncated, batched and decoded the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data.spec import TaskSpec
from .export import is_exported, load_exported
from .metrics import check_threshold, probabilities
from .models.factory import load_classifier, load_tokenizer, task_spec_from_config, task_spec_of
from .generative.decoder import GENERATIVE_FILE
from .models.forward import batched_logits

__all__ = ["Predictions", "predict", "predict_multitask", "decode_labels", "model_task_spec", "load_predictor"]


@dataclass
class Predictions:
    """Per text: logits, probabilities (sigmoid / softmax / the values for regression) and decoded labels."""

    texts: list[str]
    logits: np.ndarray
    probabilities: np.ndarray
    labels: list[list[str]]
    label_names: list[str]
    problem_type: str
    threshold: float | list[float]

    def rows(self, digits: int = 4) -> list[dict[str, Any]]:
        """``[{"text", "labels", "scores": {label: probability}}]``, JSON-ready."""
        return [
            {"text": t, "labels": lab, "scores": {n: round(float(v), digits) for n, v in zip(self.label_names, p)}}
            for t, lab, p in zip(self.texts, self.labels, self.probabilities)
        ]


def decode_labels(
    probs: np.ndarray, label_names: list[str], problem_type: str, threshold: float | list[float]
) -> list[list[str]]:
    """Multi-label: every label with probability >= ``threshold`` (one value, or one per label); single-label: the
    arg-max; regression: none."""
    if problem_type == "multi_label":
        thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (len(label_names),))
        return [[n for n, v, t in zip(label_names, p, thr) if v >= t] for p in probs]
    if problem_type == "single_label":
        return [[label_names[int(p.argmax())]] for p in probs]
    return [[] for _ in probs]


def decision_threshold(value, num_labels: int) -> float | list[float]:
    """A multi-label threshold as saved (one number, or one per label from ``threshold_tuning: per_label``), checked;
    ``None`` gives 0.5."""
    if value is None:
        return 0.5
    if isinstance(value, (list, tuple)) and len(value) != num_labels:
        raise ValueError(f"{len(value)} per-label thresholds for {num_labels} labels")
    return check_threshold(value)


def mean_threshold(values, num_labels: int) -> float | list[float]:
    """The mean of several models' thresholds (an ensemble, several teachers): a number when every one is a number,
    else one mean per label."""
    checked = [decision_threshold(v, num_labels) for v in values]
    if all(isinstance(t, float) for t in checked):
        return float(np.mean(checked))
    return [float(x) for x in np.mean([np.broadcast_to(np.asarray(t), (num_labels,)) for t in checked], axis=0)]


def model_task_spec(model) -> TaskSpec:
    """The model's ``TaskSpec``: the one hf_emo saved with it, else one built from ``id2label`` / ``problem_type``."""
    return task_spec_of(model) or task_spec_from_config(model.config)


def _check_texts(texts: list[str]) -> list[str]:
    texts = list(texts)
    if not texts:
        raise ValueError("no texts to predict")
    for i, t in enumerate(texts, start=1):
        if not isinstance(t, str):
            raise ValueError(f"text {i} is {type(t).__name__}, not a string: {t!r}")
        if not t.strip():
            raise ValueError(f"text {i} is empty: a prediction needs some words")
    return texts


def load_predictor(model_or_path, tokenizer=None):
    """``(model, tokenizer)`` from a path / Hub id / zoo name, or the given objects."""
    if isinstance(model_or_path, str):
        return load_classifier(model_or_path), tokenizer or load_tokenizer(model_or_path)
    if tokenizer is None:
        raise ValueError("pass the tokenizer with a model object")
    return model_or_path, tokenizer


def predict(
    model,
    tokenizer=None,
    texts: list[str] = (),
    *,
    threshold: float | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    device=None,
    desc: str = "predicting",
) -> Predictions:
    """Labels and probabilities of a fine-tuned single-task classifier (a model object with its tokenizer, or a
    path / Hub id; also an adapter folder of ``hf-emo generative``). ``threshold`` defaults to the one tuned at
    training (``config.hf_emo_threshold``) or 0.5."""
    if isinstance(model, str) and (Path(model) / GENERATIVE_FILE).is_file():
        return _predict_generative(model, texts, threshold=threshold, batch_size=batch_size)
    if isinstance(model, str) and is_exported(model):
        return _predict_exported(model, texts, threshold=threshold, batch_size=batch_size, desc=desc)
    model, tokenizer = load_predictor(model, tokenizer)
    texts = _check_texts(texts)
    spec = model_task_spec(model)
    thr = decision_threshold(
        threshold if threshold is not None else getattr(model.config, "hf_emo_threshold", None), len(spec.label_names)
    )
    logits = batched_logits(
        model, tokenizer, texts, batch_size=batch_size, max_length=max_length, device=device, desc=desc
    )
    if isinstance(logits, dict):
        raise ValueError("this is a multi-task model: use predict_multitask")
    return _decoded(texts, logits, spec, thr)


def _decoded(texts, logits, spec: TaskSpec, threshold) -> Predictions:
    probs = probabilities(logits, spec.problem_type)
    return Predictions(
        texts,
        logits,
        probs,
        decode_labels(probs, list(spec.label_names), spec.problem_type, threshold),
        list(spec.label_names),
        spec.problem_type,
        threshold,
    )


def _predict_exported(path: str, texts: list[str], *, threshold: float | None, batch_size: int, desc: str):
    """An export folder of ``hf-emo export`` (ONNX Runtime, or PyTorch int8), decoded as its source model is."""
    exported = load_exported(path)
    texts = _check_texts(texts)
    spec = task_spec_of(exported) or task_spec_from_config(exported.config)
    thr = decision_threshold(
        threshold if threshold is not None else getattr(exported.config, "hf_emo_threshold", None),
        len(spec.label_names),
    )
    return _decoded(texts, exported.logits(texts, batch_size=batch_size, desc=desc), spec, thr)


def _predict_generative(path: str, texts: list[str], *, threshold: float | None, batch_size: int) -> Predictions:
    """An adapter saved by ``GenerativeTrainer``: its labels scored by likelihood (completion mode) or its score head
    (sequence classification), decoded like an encoder's."""
    import json

    from .generative import label_scores, load_generative

    meta = json.loads((Path(path) / GENERATIVE_FILE).read_text())
    model, tokenizer, fmt = load_generative(path)
    texts = _check_texts(texts)
    spec = fmt.spec
    if meta["label_mode"] == "completion":
        logits = label_scores(
            model, tokenizer, fmt, texts, batch_size=batch_size, max_text_tokens=meta.get("max_text_tokens")
        )
    else:
        logits = batched_logits(model, tokenizer, texts, batch_size=batch_size)
    thr = decision_threshold(threshold if threshold is not None else meta.get("threshold"), len(spec.label_names))
    return _decoded(texts, logits, spec, thr)


def predict_multitask(
    model, tokenizer, texts: list[str], *, threshold: float | None = None, batch_size: int = 32, device=None
) -> dict[str, Predictions]:
    """``{task: Predictions}`` of a :class:`~hf_emo.models.MultiTaskModel` (every task's head on the same texts);
    multi-label thresholds default to the ones tuned per task at training (``config.thresholds``)."""
    texts = _check_texts(texts)
    logits = batched_logits(model, tokenizer, texts, batch_size=batch_size, device=device)
    out = {}
    for task in model.task_names:
        spec = model.task_spec(task)
        thr = decision_threshold(
            threshold if threshold is not None else (model.config.thresholds or {}).get(task), len(spec.label_names)
        )
        out[task] = _decoded(texts, logits[task], spec, thr)
    return out
