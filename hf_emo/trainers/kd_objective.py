"""The distillation objective shared by the KD trainers: ``alpha * L_hard + (1 - alpha) * L_KD`` or BAM's mixed target.

One function, used by :class:`~hf_emo.trainers.DistillationTrainer` (one task) and
:class:`~hf_emo.trainers.MultiTaskTrainer` (MTKD: the same objective per task, Matei §3.2.3-3.2.4).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..losses import mix_losses, soft_target_loss, supervised_loss, teacher_logits_from_probs


def cells_per_example(problem_type: str, num_labels: int) -> int:
    """Label items per example in the gold-label loss: 1 for single-label CE, one per label otherwise."""
    return 1 if problem_type == "single_label" else num_labels


def distillation_objective(
    student: torch.Tensor,
    labels: torch.Tensor | None,
    teacher: torch.Tensor,
    problem_type: str,
    *,
    alpha: float,
    temperature: float,
    kd_fn: Callable,
    annealing: str = "loss_mix",
    teacher_aggregation: str = "loss",
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
    hard_fn: Callable | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """``(loss, hard part or None, KD part)`` for one batch.

    ``teacher`` is ``(B, C)`` or ``(B, K, C)`` for K teachers. ``loss_mix``: ``alpha * L_hard + (1 - alpha) * L_KD``
    with the KD loss averaged over teachers (Avram et al. 2022, Eq. 4) or taken against their mean probabilities;
    ``target_mix``: one loss against ``alpha * gold + (1 - alpha) * mean teacher probabilities`` (BAM). Gold-label
    losses use ``num_items_in_batch`` label items, KD losses the matching number of examples, so gradient
    accumulation stays exact. Without labels only the KD part is used (``alpha`` must then be 0). ``hard_fn(logits,
    labels, weight, num_items_in_batch)`` is the gold-label loss (default: the problem type's BCE, CE or MSE).
    """
    if hard_fn is None:

        def hard_fn(logits, gold, w, n):
            return supervised_loss(logits, gold, problem_type, w, n)

    if labels is None and alpha > 0:
        raise ValueError(
            f"the batch has no labels but alpha = {alpha:g} weighs a gold-label loss; set alpha=0 "
            "(and alpha_schedule=constant) to distil on unlabelled data"
        )
    pt, T = problem_type, temperature
    n_items = num_items_in_batch
    n_examples = None if n_items is None else n_items / cells_per_example(pt, student.shape[-1])
    teachers = [teacher] if teacher.dim() == student.dim() else list(teacher.unbind(1))
    if annealing == "target_mix":
        t_probs = torch.stack([teacher_probs(t, pt, T) for t in teachers]).mean(0)
        target = t_probs if labels is None else alpha * gold_targets(labels, student, pt) + (1 - alpha) * t_probs
        loss = soft_target_loss(student, target, pt, weight, n_items)
        with torch.no_grad():
            kd = soft_target_loss(student, t_probs, pt, weight, n_items)
            hard = hard_fn(student, labels, weight, n_items) if labels is not None else None
        return loss, hard, kd
    if len(teachers) > 1 and teacher_aggregation == "probs":
        mean_p = torch.stack([teacher_probs(t, pt, T) for t in teachers]).mean(0)
        teachers = [teacher_logits_from_probs(mean_p, pt, T)]
    kd = torch.stack([kd_fn(student, t, T, weight, n_examples) for t in teachers]).mean()
    hard = hard_fn(student, labels, weight, n_items) if labels is not None else None
    loss = kd if hard is None else mix_losses(hard, kd, alpha)
    return loss, hard, kd


def teacher_probs(logits: torch.Tensor, problem_type: str, temperature: float) -> torch.Tensor:
    if problem_type == "multi_label":
        return torch.sigmoid(logits / temperature)
    if problem_type == "single_label":
        return F.softmax(logits / temperature, dim=-1)
    return logits


def gold_targets(labels: torch.Tensor, student: torch.Tensor, problem_type: str) -> torch.Tensor:
    if problem_type == "single_label":
        return F.one_hot(labels.long().view(-1), student.shape[-1]).to(student.dtype)
    return labels.to(student.dtype).view_as(student)
