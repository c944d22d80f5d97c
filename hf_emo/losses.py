"""Loss functions: pure functions on tensors, one per formula.

Reduction convention (what makes gradient accumulation exact): every loss is a *sum* of per-item losses
divided by ``num_items_in_batch`` when the Trainer passes it (the count of label items over all
micro-batches of one optimizer step), else by the number of items in this batch. An "item" is one label
cell: one example for single-label CE, one (example, label) cell for multi-label BCE and for regression.
Per-example weights multiply the per-item losses; the divisor is unchanged, so weights of 1 give the
unweighted loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["reduce_items", "bce_loss", "ce_loss", "mse_loss", "supervised_loss", "SUPERVISED_LOSSES"]


def reduce_items(per_item: torch.Tensor, weight: torch.Tensor | None = None,
                 num_items_in_batch: int | torch.Tensor | None = None) -> torch.Tensor:
    """``sum_i w_i * l_i / N`` with ``N = num_items_in_batch`` or ``per_item.numel()``.

    ``weight`` has one value per example (shape ``(B,)``) and broadcasts over the label axis.
    """
    if weight is not None:
        weight = weight.to(per_item.dtype).reshape(-1, *([1] * (per_item.dim() - 1)))
        per_item = per_item * weight
    denom = per_item.numel() if num_items_in_batch is None else num_items_in_batch
    if torch.is_tensor(denom):
        denom = denom.to(per_item.device)
    return per_item.sum() / denom


def bce_loss(logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None,
             num_items_in_batch=None) -> torch.Tensor:
    """Multi-label binary cross-entropy with logits (paper 000 Eq. for L_BCE), one item per label cell."""
    per = F.binary_cross_entropy_with_logits(logits.float(), targets.float(), reduction="none")
    return reduce_items(per, weight, num_items_in_batch)


def ce_loss(logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None,
            num_items_in_batch=None) -> torch.Tensor:
    """Single-label cross-entropy, one item per example; targets of -100 are ignored."""
    targets = targets.long().view(-1)
    per = F.cross_entropy(logits.float().view(targets.numel(), -1), targets, reduction="none", ignore_index=-100)
    if num_items_in_batch is None:
        num_items_in_batch = targets.ne(-100).sum().clamp(min=1)
    return reduce_items(per, weight, num_items_in_batch)


def mse_loss(preds: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None,
             num_items_in_batch=None) -> torch.Tensor:
    """Regression mean squared error, one item per (example, dimension)."""
    preds = preds.float().view(targets.shape[0], -1)
    per = (preds - targets.float().view(targets.shape[0], -1)) ** 2
    return reduce_items(per, weight, num_items_in_batch)


SUPERVISED_LOSSES = {"multi_label": bce_loss, "single_label": ce_loss, "regression": mse_loss}


def supervised_loss(logits: torch.Tensor, labels: torch.Tensor, problem_type: str,
                    weight: torch.Tensor | None = None, num_items_in_batch=None) -> torch.Tensor:
    """The gold-label loss for ``problem_type``: BCE with logits, CE or MSE."""
    try:
        fn = SUPERVISED_LOSSES[problem_type]
    except KeyError:
        raise ValueError(f"problem_type {problem_type!r} not in {sorted(SUPERVISED_LOSSES)}") from None
    return fn(logits, labels, weight, num_items_in_batch)
