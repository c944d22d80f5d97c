"""Loss functions: pure functions on tensors, one per formula.

Reduction convention (what makes gradient accumulation exact): every loss is a *sum* of per-item losses
divided by ``num_items_in_batch`` when the Trainer passes it (the count of label items over all
micro-batches of one optimizer step), else by the number of items in this batch. An "item" is one label
cell: one example for single-label CE, one (example, label) cell for multi-label BCE and for regression.
Per-example weights multiply the per-item losses; the divisor is unchanged, so weights of 1 give the
unweighted loss.

Distillation losses (``kd_*``) count *examples*: each returns ``sum_i w_i * l_i / N`` where ``l_i`` is one
example's loss and ``N`` is ``num_items_in_batch`` (the number of examples in the optimizer step) or the batch
size. Their per-example losses are on the scale of the matching gold-label loss (a mean over label cells for
the Bernoulli and MSE forms, a sum over classes for the softmax form), so ``alpha`` mixes like with like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "reduce_items",
    "bce_loss",
    "ce_loss",
    "mse_loss",
    "bce_single_label_loss",
    "label_smoothed_ce_loss",
    "focal_loss",
    "focal_ce_loss",
    "SUPERVISED_LOSSES",
    "SUPERVISED_LOSS_INFO",
    "LossInfo",
    "loss_info",
    "register_loss",
    "get_supervised_loss",
    "supervised_loss",
    "soft_ce_loss",
    "soft_target_loss",
    "causal_lm_loss",
    "check_temperature",
    "check_alpha",
    "kd_kl_loss",
    "kd_bernoulli_loss",
    "kd_mse_loss",
    "cosine_hidden_loss",
    "token_cosine_loss",
    "mix_losses",
    "KD_LOSSES",
    "KD_LOSS_INFO",
    "register_kd_loss",
    "get_kd_loss",
    "default_kd_loss",
    "teacher_logits_from_probs",
    "gradnorm_loss",
]


def reduce_items(
    per_item: torch.Tensor, weight: torch.Tensor | None = None, num_items_in_batch: int | torch.Tensor | None = None
) -> torch.Tensor:
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


def bce_loss(
    logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None, num_items_in_batch=None
) -> torch.Tensor:
    """Multi-label binary cross-entropy with logits (Matei Eq. for L_BCE), one item per label cell."""
    per = F.binary_cross_entropy_with_logits(logits.float(), targets.float(), reduction="none")
    return reduce_items(per, weight, num_items_in_batch)


def ce_loss(
    logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None, num_items_in_batch=None
) -> torch.Tensor:
    """Single-label cross-entropy, one item per example; targets of -100 are ignored."""
    targets = targets.long().view(-1)
    per = F.cross_entropy(logits.float().view(targets.numel(), -1), targets, reduction="none", ignore_index=-100)
    if num_items_in_batch is None:
        num_items_in_batch = targets.ne(-100).sum().clamp(min=1)
    return reduce_items(per, weight, num_items_in_batch)


def mse_loss(
    preds: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None, num_items_in_batch=None
) -> torch.Tensor:
    """Regression mean squared error, one item per (example, dimension)."""
    preds = preds.float().view(targets.shape[0], -1)
    per = (preds - targets.float().view(targets.shape[0], -1)) ** 2
    return reduce_items(per, weight, num_items_in_batch)


def bce_single_label_loss(
    logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None, num_items_in_batch=None
) -> torch.Tensor:
    """Single-label classes trained as independent sigmoids: BCE against the one-hot target, averaged over the
    classes of an example (Matei §3.3 trains the auxiliary sentiment and news tasks this way). One item per
    example, as for CE, so it mixes with the other tasks' losses on one scale; targets of -100 are ignored."""
    targets = targets.long().view(-1)
    keep = targets.ne(-100)
    onehot = F.one_hot(targets.clamp(min=0), logits.shape[-1]).float()
    per = (
        F.binary_cross_entropy_with_logits(logits.float().view(targets.numel(), -1), onehot, reduction="none").mean(-1)
        * keep
    )
    if num_items_in_batch is None:
        num_items_in_batch = keep.sum().clamp(min=1)
    return reduce_items(per, weight, num_items_in_batch)


def label_smoothed_ce_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
    *,
    smoothing: float = 0.1,
) -> torch.Tensor:
    """Cross-entropy against ``(1 - eps) * one_hot + eps / C`` (Szegedy et al. 2016), one item per example."""
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    targets = targets.long().view(-1)
    per = F.cross_entropy(
        logits.float().view(targets.numel(), -1),
        targets,
        reduction="none",
        ignore_index=-100,
        label_smoothing=smoothing,
    )
    if num_items_in_batch is None:
        num_items_in_batch = targets.ne(-100).sum().clamp(min=1)
    return reduce_items(per, weight, num_items_in_batch)


def focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
    *,
    gamma: float = 2.0,
) -> torch.Tensor:
    """Multi-label sigmoid focal loss (Lin et al. 2017, Eq. 4 without the class weight):
    ``-(1 - p_t)^gamma log p_t`` per label cell; ``gamma = 0`` is BCE."""
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    x, y = logits.float(), targets.float()
    bce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = torch.exp(-bce)
    return reduce_items((1 - p_t) ** gamma * bce, weight, num_items_in_batch)


def focal_ce_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
    *,
    gamma: float = 2.0,
) -> torch.Tensor:
    """Single-label softmax focal loss (Lin et al. 2017): ``-(1 - p_y)^gamma log p_y`` per example."""
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    targets = targets.long().view(-1)
    keep = targets.ne(-100)
    log_p = F.log_softmax(logits.float().view(targets.numel(), -1), dim=-1)
    log_p_y = log_p.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    per = -((1 - log_p_y.exp()) ** gamma) * log_p_y * keep
    if num_items_in_batch is None:
        num_items_in_batch = keep.sum().clamp(min=1)
    return reduce_items(per, weight, num_items_in_batch)


# name -> {problem type -> fn(logits, targets, weight=None, num_items_in_batch=None, **options)}
SupervisedLoss = Callable[..., torch.Tensor]
SUPERVISED_LOSSES: dict[str, dict[str, SupervisedLoss]] = {}
_DEFAULT_LOSS = {"multi_label": "bce", "single_label": "ce", "regression": "mse"}
PROBLEM_TYPES = tuple(_DEFAULT_LOSS)


@dataclass(frozen=True)
class LossInfo:
    """What a registered loss says about itself on cards and in reports: ``summary``, the loss in a few words
    ("binary cross-entropy"); ``citation``, a key of :data:`hf_emo.citations.BIBTEX` or a BibTeX entry, or ``None``."""

    summary: str
    citation: str | None = None


SUPERVISED_LOSS_INFO: dict[str, LossInfo] = {"auto": LossInfo("the problem type's loss (BCE, CE or MSE)")}


def register_loss(
    name: str,
    fn: SupervisedLoss | None = None,
    *,
    problem_types: tuple[str, ...] = PROBLEM_TYPES,
    summary: str | None = None,
    citation: str | None = None,
    overwrite: bool = False,
):
    """Register ``fn(logits, labels, weight=None, num_items_in_batch=None, **options)`` as the gold-label loss
    ``name`` for ``problem_types``, with the words (``summary``) and the paper (``citation``) that cards and reports
    give for it. Usable as a decorator; then ``EmotionConfig(loss=name)``.

    Follow :func:`reduce_items`' convention (a sum over items divided by ``num_items_in_batch``) with one item per
    example for single-label and one per label cell otherwise, so that gradient accumulation stays exact."""
    bad = [p for p in problem_types if p not in PROBLEM_TYPES]
    if bad:
        raise ValueError(f"problem_types {bad} not in {PROBLEM_TYPES}")

    def add(f: SupervisedLoss) -> SupervisedLoss:
        entry = SUPERVISED_LOSSES.setdefault(name, {})
        taken = [p for p in problem_types if p in entry and entry[p] is not f]
        if taken and not overwrite:
            raise ValueError(f"a loss named {name!r} is already registered for {taken} (pass overwrite=True)")
        entry.update({p: f for p in problem_types})
        known = SUPERVISED_LOSS_INFO.get(name)
        SUPERVISED_LOSS_INFO[name] = LossInfo(
            summary or (known.summary if known else f"the `{name}` loss"),
            citation or (known.citation if known else None),
        )
        return f

    return add(fn) if fn is not None else add


register_loss("bce", bce_loss, problem_types=("multi_label",), summary="binary cross-entropy")
register_loss("ce", ce_loss, problem_types=("single_label",), summary="cross-entropy")
register_loss("mse", mse_loss, problem_types=("regression",), summary="mean squared error")
register_loss(
    "bce_single_label",
    bce_single_label_loss,
    problem_types=("single_label",),
    summary="binary cross-entropy on one-hot targets (each class its own sigmoid)",
)
register_loss(
    "label_smoothed_ce",
    label_smoothed_ce_loss,
    problem_types=("single_label",),
    summary="label-smoothed cross-entropy",
    citation="szegedy2016",
)
register_loss(
    "focal", focal_loss, problem_types=("multi_label",), summary="the focal loss (Lin et al. 2017)", citation="lin2017"
)
register_loss("focal", focal_ce_loss, problem_types=("single_label",))


def loss_info(name: str, kind: str = "supervised") -> LossInfo:
    """The registered summary and citation of the ``kind`` (``supervised`` or ``kd``) loss ``name``; a name that is
    not registered reads as itself."""
    table = SUPERVISED_LOSS_INFO if kind == "supervised" else KD_LOSS_INFO
    return table.get(name) or LossInfo(f"the `{name}` loss")


def get_supervised_loss(name: str, problem_type: str) -> tuple[str, SupervisedLoss]:
    """Resolve a registry name (``'auto'``: BCE, CE or MSE by problem type) to ``(name, function)``."""
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem_type {problem_type!r} not in {sorted(PROBLEM_TYPES)}")
    name = _DEFAULT_LOSS[problem_type] if name == "auto" else name
    if name not in SUPERVISED_LOSSES:
        raise ValueError(
            f"unknown loss {name!r}; registered: {sorted(SUPERVISED_LOSSES)} "
            "(add your own with hf_emo.losses.register_loss)"
        )
    if problem_type not in SUPERVISED_LOSSES[name]:
        raise ValueError(f"loss {name!r} is for {sorted(SUPERVISED_LOSSES[name])} tasks, not {problem_type}")
    return name, SUPERVISED_LOSSES[name][problem_type]


def supervised_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    problem_type: str,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
    *,
    loss: str = "auto",
    **options,
) -> torch.Tensor:
    """The gold-label loss ``loss`` (default: BCE with logits, CE or MSE by ``problem_type``)."""
    return get_supervised_loss(loss, problem_type)[1](logits, labels, weight, num_items_in_batch, **options)


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch=None) -> torch.Tensor:
    """Next-token cross-entropy of a decoder over the positions whose label is not -100 (a completion and its EOS;
    the prompt is masked), summed and divided by ``num_items_in_batch`` (the optimizer step's completion tokens) or
    by this batch's count, so gradient accumulation equals one large batch."""
    shifted = labels[:, 1:].reshape(-1)
    total = F.cross_entropy(
        logits[:, :-1].float().reshape(shifted.numel(), -1), shifted, ignore_index=-100, reduction="sum"
    )
    denom = shifted.ne(-100).sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    if torch.is_tensor(denom):
        denom = denom.to(total.device)
    return total / denom


def soft_ce_loss(
    logits: torch.Tensor, target_probs: torch.Tensor, weight: torch.Tensor | None = None, num_items_in_batch=None
) -> torch.Tensor:
    """Cross-entropy against a probability vector per example, ``-sum_c q_c log p_c`` (one item per example)."""
    per = -(target_probs.float() * F.log_softmax(logits.float(), dim=-1)).sum(-1)
    return reduce_items(per, weight, num_items_in_batch)


def soft_target_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    problem_type: str,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
) -> torch.Tensor:
    """Gold-label loss against soft targets (BAM's mixed targets): BCE on probabilities, soft CE, or MSE."""
    if problem_type == "single_label":
        return soft_ce_loss(logits, targets, weight, num_items_in_batch)
    return supervised_loss(logits, targets, problem_type, weight, num_items_in_batch)


# -- knowledge distillation -------------------------------------------------------------------------------


def check_temperature(temperature: float) -> float:
    """Raise ``ValueError`` unless ``temperature > 0`` (and finite)."""
    t = float(temperature)
    if not (t > 0 and t != float("inf")):
        raise ValueError(f"temperature must be > 0 and finite, got {temperature!r}")
    return t


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """Raise ``ValueError`` unless ``0 <= alpha <= 1``."""
    a = float(alpha)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {alpha!r}")
    return a


def _check_pair(student: torch.Tensor, teacher: torch.Tensor) -> None:
    if student.shape != teacher.shape:
        raise ValueError(
            f"student logits {tuple(student.shape)} and teacher logits {tuple(teacher.shape)} differ in "
            "shape: do the teacher and the student share one label space?"
        )


def kd_kl_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
) -> torch.Tensor:
    """Hinton KD: ``T^2 * KL(softmax(t/T) || softmax(s/T))`` per example (Matei §3.2.3; Avram et al. 2022 Eq. 1-2).

    The ``T^2`` factor keeps the gradient magnitude independent of ``T`` (the soft-target gradients scale as
    ``1/T^2``). One item per row: an example here, a token position in language-model distillation (rows ``(N, V)``
    of the scored positions, ``num_items_in_batch`` = the optimizer step's positions).
    """
    t = check_temperature(temperature)
    _check_pair(student_logits, teacher_logits)
    log_q = F.log_softmax(student_logits.float() / t, dim=-1)
    log_p = F.log_softmax(teacher_logits.float() / t, dim=-1)
    per = (log_p.exp() * (log_p - log_q)).sum(-1) * (t * t)
    return reduce_items(per, weight, num_items_in_batch)


def kd_bernoulli_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
) -> torch.Tensor:
    """Multi-label KD: ``T^2 * mean_c KL(Bern(sigmoid(t_c/T)) || Bern(sigmoid(s_c/T)))`` per example.

    The per-label form of Hinton's loss for sigmoid outputs: each label is its own two-class distribution.
    Averaged over labels, as BCE is, so ``alpha`` mixes it with BCE on one scale. One item per example.
    """
    t = check_temperature(temperature)
    _check_pair(student_logits, teacher_logits)
    s, z = student_logits.float() / t, teacher_logits.float() / t
    p = torch.sigmoid(z)
    # KL(p||q) = p (log p - log q) + (1-p) (log(1-p) - log(1-q)), with log-sigmoid for stability
    kl = p * (F.logsigmoid(z) - F.logsigmoid(s)) + (1 - p) * (F.logsigmoid(-z) - F.logsigmoid(-s))
    per = kl.mean(-1) * (t * t)
    return reduce_items(per, weight, num_items_in_batch)


def kd_mse_loss(
    student_outputs: torch.Tensor,
    teacher_outputs: torch.Tensor,
    temperature: float = 1.0,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
) -> torch.Tensor:
    """Regression KD: mean squared error to the teacher's outputs, averaged over dimensions per example.

    ``temperature`` is accepted for a uniform signature (and validated) but has no effect on real outputs.
    """
    check_temperature(temperature)
    _check_pair(student_outputs, teacher_outputs)
    per = ((student_outputs.float() - teacher_outputs.float()) ** 2).reshape(student_outputs.shape[0], -1).mean(-1)
    return reduce_items(per, weight, num_items_in_batch)


def _check_hidden(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor) -> None:
    if student_hidden.shape != teacher_hidden.shape:
        raise ValueError(
            f"student hidden states {tuple(student_hidden.shape)} and teacher hidden states "
            f"{tuple(teacher_hidden.shape)} differ: the cosine loss needs equal hidden sizes"
        )


def cosine_hidden_loss(
    student_hidden: torch.Tensor,
    teacher_hidden: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    num_items_in_batch=None,
) -> torch.Tensor:
    """DistilBERT's cosine loss: ``1 - cos(h_s, h_t)`` per token, averaged over the unmasked tokens of an example.

    Hidden states are ``(B, L, H)`` (token states) or ``(B, H)`` (pooled). One item per example.
    """
    _check_hidden(student_hidden, teacher_hidden)
    cos = F.cosine_similarity(student_hidden.float(), teacher_hidden.float(), dim=-1)
    per_tok = 1.0 - cos
    if per_tok.dim() == 2:
        mask = torch.ones_like(per_tok) if attention_mask is None else attention_mask.to(per_tok.dtype)
        per = (per_tok * mask).sum(-1) / mask.sum(-1).clamp(min=1)
    else:
        per = per_tok
    return reduce_items(per, weight, num_items_in_batch)


def token_cosine_loss(
    student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, attention_mask: torch.Tensor, num_items_in_batch=None
) -> torch.Tensor:
    """DistilBERT's cosine term per token: ``1 - cos(h_s, h_t)`` summed over the non-padding tokens of ``(B, L, H)``
    states, divided by ``num_items_in_batch`` (the optimizer step's tokens) or this batch's token count."""
    _check_hidden(student_hidden, teacher_hidden)
    per = (1.0 - F.cosine_similarity(student_hidden.float(), teacher_hidden.float(), dim=-1)) * attention_mask
    denom = attention_mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return per.sum() / (denom.to(per.device) if torch.is_tensor(denom) else denom)


def mix_losses(hard: torch.Tensor, kd: torch.Tensor, alpha: float) -> torch.Tensor:
    """``L = alpha * L_hard + (1 - alpha) * L_KD`` (Matei §3.2.4: alpha weighs the gold labels)."""
    a = check_alpha(alpha)
    return a * hard + (1.0 - a) * kd


def teacher_logits_from_probs(
    probs: torch.Tensor, problem_type: str, temperature: float = 1.0, eps: float = 1e-7
) -> torch.Tensor:
    """Logits that a KD loss at ``temperature`` turns back into ``probs`` (to distil from averaged teachers).

    Softmax: ``T log p`` (``softmax(log p) = p``); sigmoid: ``T logit(p)``; regression: the outputs themselves.
    """
    t = check_temperature(temperature)
    if problem_type == "regression":
        return probs
    p = probs.float().clamp(eps, 1 - eps)
    if problem_type == "multi_label":
        return t * (torch.log(p) - torch.log1p(-p))
    return t * torch.log(p)


KDLoss = Callable[..., torch.Tensor]
KD_LOSSES: dict[str, KDLoss] = {}
KD_LOSS_INFO: dict[str, LossInfo] = {}
_DEFAULT_KD = {"multi_label": "kl_bernoulli", "single_label": "kl_softmax", "regression": "mse"}


def register_kd_loss(
    name: str,
    fn: KDLoss | None = None,
    *,
    summary: str | None = None,
    citation: str | None = None,
    overwrite: bool = False,
):
    """Register ``fn(student_logits, teacher_logits, temperature, weight=None, num_items_in_batch=None)`` as the KD
    loss ``name``, with the words (``summary``: "the KD term is ...") and the paper (``citation``) that cards give.

    Usable as a decorator: ``@register_kd_loss("my_kd")``. Then ``DistillationConfig(kd_loss="my_kd")``.
    """

    def add(f: KDLoss) -> KDLoss:
        if name in KD_LOSSES and not overwrite and KD_LOSSES[name] is not f:
            raise ValueError(f"a KD loss named {name!r} is already registered (pass overwrite=True)")
        KD_LOSSES[name] = f
        KD_LOSS_INFO[name] = LossInfo(summary or f"`{name}`", citation)
        return f

    return add(fn) if fn is not None else add


register_kd_loss(
    "kl_softmax", kd_kl_loss, summary="Hinton's softmax KL, T^2 KL(softmax(t/T) || softmax(s/T))", citation="hinton2015"
)
register_kd_loss("kl_bernoulli", kd_bernoulli_loss, summary="a per-label Bernoulli KL on sigmoid(logits/T)")
register_kd_loss("mse", kd_mse_loss, summary="the mean squared error to the teacher's outputs")


def default_kd_loss(problem_type: str) -> str:
    """The KD loss used for ``kd_loss='auto'``: Bernoulli KL (multi-label), softmax KL (single-label), MSE."""
    try:
        return _DEFAULT_KD[problem_type]
    except KeyError:
        raise ValueError(f"problem_type {problem_type!r} not in {sorted(_DEFAULT_KD)}") from None


def get_kd_loss(name: str, problem_type: str | None = None) -> tuple[str, KDLoss]:
    """Resolve a registry name (or ``'auto'`` with ``problem_type``) to ``(name, function)``."""
    if name == "auto":
        if problem_type is None:
            raise ValueError("kd_loss='auto' needs the task's problem_type")
        name = default_kd_loss(problem_type)
    try:
        return name, KD_LOSSES[name]
    except KeyError:
        raise ValueError(
            f"unknown kd_loss {name!r}; registered: {sorted(KD_LOSSES)} "
            "(add your own with hf_emo.losses.register_kd_loss)"
        ) from None


# -- multi-task loss balancing ------------------------------------------------------------------------------


def gradnorm_loss(
    grad_norms: torch.Tensor, losses: torch.Tensor, initial_losses: torch.Tensor, alpha: float = 1.0
) -> torch.Tensor:
    """GradNorm (Chen et al. 2018; TBED-MTL §3.4): ``L_GN = sum_i |G_i - mean(G) * r_i^alpha|``.

    ``grad_norms`` are ``G_i = ||grad_W (lambda_i L_i)||`` (differentiable in ``lambda_i``), ``losses`` the current
    task losses ``L_i(t)``, ``initial_losses`` ``L_i(0)``. ``r_i = (L_i(t)/L_i(0)) / mean_j(L_j(t)/L_j(0))`` is
    the relative inverse training rate; the target ``mean(G) * r_i^alpha`` is a constant (no gradient).
    """
    if alpha < 0:
        raise ValueError(f"GradNorm alpha must be >= 0, got {alpha}")
    if grad_norms.shape != losses.shape or losses.shape != initial_losses.shape:
        raise ValueError(
            f"grad_norms {tuple(grad_norms.shape)}, losses {tuple(losses.shape)} and initial_losses "
            f"{tuple(initial_losses.shape)} must have one value per task"
        )
    with torch.no_grad():
        ratio = losses.float() / initial_losses.float().clamp(min=1e-12)
        r = ratio / ratio.mean().clamp(min=1e-12)
        target = grad_norms.detach().float().mean() * r.pow(alpha)
    return (grad_norms.float() - target).abs().sum()
