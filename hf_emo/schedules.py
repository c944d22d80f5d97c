"""Teacher-annealing schedules: the gold-label weight ``alpha`` as a pure function of the optimizer step.

Because the value depends only on ``(global_step, max_steps)``, which ``Trainer`` restores from a checkpoint,
a resumed run continues the schedule exactly where it stopped.
"""

from __future__ import annotations

from .losses import check_alpha

__all__ = ["ALPHA_SCHEDULES", "alpha_at_step"]

ALPHA_SCHEDULES = ("constant", "linear")


def alpha_at_step(
    step: int,
    max_steps: int,
    schedule: str = "constant",
    alpha: float = 0.5,
    alpha_start: float = 0.1,
    alpha_end: float = 0.7,
) -> float:
    """``alpha`` at optimizer step ``step`` (0-based) of ``max_steps``.

    ``constant``: ``alpha``. ``linear``: teacher annealing (Matei §2.3/§3.2.4; Clark et al. 2019),
    ``alpha_start + (alpha_end - alpha_start) * step / max_steps``, clipped at ``alpha_end``.
    """
    if schedule == "constant":
        return check_alpha(alpha)
    if schedule != "linear":
        raise ValueError(f"alpha_schedule must be one of {ALPHA_SCHEDULES}, got {schedule!r}")
    a0, a1 = check_alpha(alpha_start, "alpha_start"), check_alpha(alpha_end, "alpha_end")
    frac = 1.0 if max_steps <= 0 else min(max(step, 0) / max_steps, 1.0)
    return a0 + (a1 - a0) * frac
