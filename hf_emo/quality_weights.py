"""Translation-quality weights for consistency distillation (Wang et al. 2024 §2.3, Eq. 2-3).

The multilingual student reads an original text ``x_i`` and its English translation ``x'_i``. Where it disagrees
with itself, the translation is suspected to be poor, and the example's consistency loss is weighted down.

Eq. 2 as printed, ``w_i = sum_j [p^2(y_j|x'_i) - p^2(y_j|x_i)]``, is a difference of squares that can be negative
and is not the "mean squared error" the prose names. We read it as the squared error of the two probability
vectors, ``w_i = sum_j (p(y_j|x'_i) - p(y_j|x_i))^2``, which is what the prose describes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

WEIGHTINGS = ("quality", "threshold", "uniform", "column")
NORMALIZATIONS = ("global", "batch")

__all__ = [
    "WEIGHTINGS",
    "NORMALIZATIONS",
    "translation_disagreement",
    "minmax_quality",
    "quality_weights",
    "add_translation_disagreement",
    "add_quality_weights",
]


def translation_disagreement(p_original: torch.Tensor, p_translated: torch.Tensor) -> torch.Tensor:
    """``w_i = sum_j (p(y_j | x'_i) - p(y_j | x_i))^2`` (Wang et al. 2024 Eq. 2, read as the prose's squared error).

    Both arguments are ``(N, C)`` probabilities of the *same* model; the result is ``(N,)``, >= 0, and 0 exactly
    when the model reads the original and the translation alike.
    """
    p, q = torch.as_tensor(p_original, dtype=torch.float32), torch.as_tensor(p_translated, dtype=torch.float32)
    if p.shape != q.shape or p.dim() != 2:
        raise ValueError(
            f"expected two (N, C) probability arrays of one shape, got {tuple(p.shape)} and {tuple(q.shape)}"
        )
    return ((q - p) ** 2).sum(-1)


def minmax_quality(disagreement: torch.Tensor) -> torch.Tensor:
    """``w_bar_i = 1 - (w_i - min w) / (max w - min w)`` (Wang et al. 2024 Eq. 3): 1 for the most consistent pair, 0 for
    the least. When every ``w_i`` is equal the weights are all 1 (no pair is worse than another)."""
    w = torch.as_tensor(disagreement, dtype=torch.float32)
    if w.numel() == 0:
        return w.clone()
    lo, hi = w.min(), w.max()
    if not bool(torch.isfinite(lo) & torch.isfinite(hi)):
        raise ValueError("disagreement values must be finite")
    if float(hi - lo) <= 0.0:
        return torch.ones_like(w)
    return 1.0 - (w - lo) / (hi - lo)


def quality_weights(disagreement: torch.Tensor, weighting: str = "quality", drop_fraction: float = 0.0) -> torch.Tensor:
    """Per-example weights from the disagreements ``w`` over the whole refinement set.

    * ``quality``: Wang et al. 2024 Eq. 3 (:func:`minmax_quality`);
    * ``threshold``: 0 for the ``floor(drop_fraction * N)`` largest disagreements (the worst translations), else 1;
    * ``uniform``: all 1 (plain consistency KD, the ablation).
    """
    w = torch.as_tensor(disagreement, dtype=torch.float32)
    if weighting == "quality":
        return minmax_quality(w)
    if weighting == "uniform":
        return torch.ones_like(w)
    if weighting == "threshold":
        if not 0.0 <= drop_fraction < 1.0:
            raise ValueError(f"drop_fraction must be in [0, 1), got {drop_fraction}")
        out = torch.ones_like(w)
        k = math.floor(drop_fraction * w.numel())
        if k:
            worst = torch.argsort(w, descending=True, stable=True)[:k]
            out[worst] = 0.0
        return out
    raise ValueError(f"weighting must be one of ('quality', 'threshold', 'uniform'), got {weighting!r}")


def _probs(logits: np.ndarray, problem_type: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(logits), dtype=torch.float32)
    if problem_type == "multi_label":
        return torch.sigmoid(t)
    if problem_type == "single_label":
        return torch.softmax(t, dim=-1)
    raise ValueError(f"translation disagreement needs class probabilities; problem_type {problem_type!r} has none")


def add_translation_disagreement(
    model,
    dataset,
    tokenizer,
    *,
    source_column: str = "text",
    translation_column: str = "en_text",
    problem_type: str | None = None,
    max_length: int | None = None,
    batch_size: int = 64,
    device=None,
    column: str = "disagreement",
):
    """Run ``model`` (the stage-1 multilingual student) over both sides of every pair, batched with a progress bar,
    and add the raw Eq. 2 disagreement as a float ``column``. The model's ``config.text_prefix`` is applied."""
    from .models.factory import task_spec_of
    from .teachers import cache_teacher_logits

    for c in (source_column, translation_column):
        if c not in dataset.column_names:
            raise ValueError(f"dataset has no column {c!r} (columns: {dataset.column_names})")
    if problem_type is None:
        spec = task_spec_of(model)
        if spec is None:
            raise ValueError("pass problem_type= (the model's config does not record its task)")
        problem_type = spec.problem_type
    sides = []
    for c in (source_column, translation_column):
        tmp = cache_teacher_logits(
            model,
            dataset.select_columns([c]),
            tokenizer,
            text_column=c,
            max_length=max_length,
            batch_size=batch_size,
            device=device,
            column="_logits",
            desc=f"disagreement: {c}",
        )
        sides.append(_probs(np.asarray(list(tmp["_logits"]), dtype=np.float32), problem_type))
    w = translation_disagreement(sides[0], sides[1]).numpy()
    if column in dataset.column_names:
        dataset = dataset.remove_columns(column)
    return dataset.add_column(column, w.astype(np.float32).tolist())


def add_quality_weights(
    dataset,
    weighting: str = "quality",
    drop_fraction: float = 0.0,
    *,
    disagreement_column: str = "disagreement",
    column: str = "weight",
):
    """Add the ``weight`` column computed over the whole set from ``disagreement_column``, before refinement (as the
    paper does). ``threshold`` also drops the zero-weight rows, so the worst translations cost no compute."""
    if disagreement_column not in dataset.column_names:
        raise ValueError(
            f"dataset has no {disagreement_column!r} column (columns: {dataset.column_names}); add it "
            "with hf_emo.add_translation_disagreement(stage1_student, dataset, tokenizer, ...)"
        )
    w = quality_weights(torch.tensor(list(dataset[disagreement_column]), dtype=torch.float32), weighting, drop_fraction)
    if column in dataset.column_names:
        dataset = dataset.remove_columns(column)
    dataset = dataset.add_column(column, w.numpy().astype(np.float32).tolist())
    if weighting == "threshold":
        keep = np.flatnonzero(w.numpy() > 0)
        dataset = dataset.select(keep)
    return dataset
