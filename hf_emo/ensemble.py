"""Ensembles of fine-tuned students: the mean of their probabilities (Wang et al. 2024 Table 1, "Ensemble")."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .data.spec import TaskSpec
from .metrics import probabilities, task_metrics

__all__ = ["ensemble_probabilities", "probabilities_to_logits", "evaluate_ensemble"]


def ensemble_probabilities(member_logits: Sequence[np.ndarray], problem_type: str) -> np.ndarray:
    """Mean of the members' probabilities (sigmoid per label for multi-label, softmax for single-label; the mean
    output for regression). Every member scores the same rows and labels."""
    if not member_logits:
        raise ValueError("an ensemble needs at least one member")
    shapes = {np.shape(x) for x in member_logits}
    if len(shapes) != 1:
        raise ValueError(f"ensemble members disagree on the output shape: {sorted(shapes)}")
    return np.mean([probabilities(x, problem_type) for x in member_logits], axis=0)


def probabilities_to_logits(probs: np.ndarray, problem_type: str, eps: float = 1e-7) -> np.ndarray:
    """The logits whose probabilities are ``probs`` (log-odds, or log-probabilities for softmax)."""
    p = np.asarray(probs, dtype=np.float64)
    if problem_type == "regression":
        return p
    p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p)) if problem_type == "multi_label" else np.log(p)


def evaluate_ensemble(
    spec: TaskSpec, labels: np.ndarray, member_logits: Mapping[str, np.ndarray], threshold: float = 0.5
) -> dict:
    """``{"members": {name: metrics}, "ensemble": metrics}``: each member's metrics next to the ensemble's."""
    members = {name: task_metrics(spec, labels, lg, threshold) for name, lg in member_logits.items()}
    mean = ensemble_probabilities(list(member_logits.values()), spec.problem_type)
    ens = task_metrics(spec, labels, probabilities_to_logits(mean, spec.problem_type), threshold)
    return {"members": members, "ensemble": ens}
