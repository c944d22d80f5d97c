"""Gradient reversal (Ganin & Lempitsky 2015, DANN) for adversarial language discriminators (ADAN, Chen et al.
2018; Matei Fig. 2): identity forward, ``-lambda * grad`` backward, so the encoder learns features the
discriminator cannot tell apart while the discriminator itself still learns to tell them apart."""

from __future__ import annotations

import math

import torch

__all__ = ["grad_reverse", "GradientReversal", "dann_lambda", "ADVERSARIAL_SCHEDULES", "adversarial_lambda_at"]

ADVERSARIAL_SCHEDULES = ("constant", "dann")


class GradientReversal(torch.autograd.Function):
    """``y = x``; ``dL/dx = -lambda * dL/dy``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambda_: float) -> torch.Tensor:
        ctx.lambda_ = float(lambda_)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return -ctx.lambda_ * grad_output, None


def grad_reverse(x: torch.Tensor, lambda_: float = 1.0) -> torch.Tensor:
    """Reverse (and scale by ``lambda_`` >= 0) the gradient flowing back through ``x``."""
    if lambda_ < 0:
        raise ValueError(f"the gradient-reversal coefficient must be >= 0, got {lambda_}")
    return GradientReversal.apply(x, lambda_)


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """DANN's schedule ``2 / (1 + exp(-gamma * p)) - 1``: 0 at the start of training, -> 1 at the end
    (``p`` = fraction of training done), so the noisy early discriminator does not disturb the encoder."""
    p = min(max(float(progress), 0.0), 1.0)
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


def adversarial_lambda_at(
    step: int, max_steps: int, schedule: str = "dann", scale: float = 1.0, gamma: float = 10.0
) -> float:
    """The coefficient at a global step: a pure function of the step, so resuming continues it exactly."""
    if schedule == "constant":
        return float(scale)
    if schedule == "dann":
        return float(scale) * dann_lambda(step / max(max_steps, 1), gamma)
    raise ValueError(f"adversarial_schedule must be one of {ADVERSARIAL_SCHEDULES}, got {schedule!r}")
