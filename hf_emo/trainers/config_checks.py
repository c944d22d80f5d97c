"""Checks every method's config runs in ``__post_init__``: a wrong type or an impossible number fails at once,
naming the field and the value, instead of late (or never) inside training."""

from __future__ import annotations

import dataclasses
import typing
from functools import lru_cache

NUMBER_TYPES = (int, float)


@lru_cache(maxsize=None)
def _number_fields(cls) -> tuple[tuple[str, type], ...]:
    """``(name, int | float)`` of the dataclass fields annotated as a number (or an optional number)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001  (an unresolvable annotation elsewhere must not block the check)
        hints = {}
    out = []
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name)
        args = set(typing.get_args(hint)) - {type(None)} if typing.get_args(hint) else {hint}
        if args and args <= {int, float}:
            out.append((f.name, float if float in args else int))
    return tuple(out)


def check_types(config) -> None:
    """A number field holding a string (``temperature: "2"`` from Python) or a bool is an error naming it."""
    for name, kind in _number_fields(type(config)):
        value = getattr(config, name, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, NUMBER_TYPES):
            raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{name} must be a whole number, got {value!r}")


def check_ranges(config) -> None:
    """The ``TrainingArguments`` numbers every method relies on, checked before any data or model is loaded."""

    def need(ok: bool, name: str, rule: str) -> None:
        if not ok:
            raise ValueError(f"{name} must be {rule}, got {getattr(config, name)!r}")

    need(config.learning_rate >= 0, "learning_rate", ">= 0")
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        need(getattr(config, name) >= 1, name, ">= 1")
    if config.max_steps is None or config.max_steps <= 0:
        need(config.num_train_epochs > 0, "num_train_epochs", "> 0 (or set max_steps > 0)")
    need(config.weight_decay >= 0, "weight_decay", ">= 0")
    need(config.max_grad_norm is None or config.max_grad_norm >= 0, "max_grad_norm", ">= 0")
    need(config.seed >= 0, "seed", ">= 0")
    warmup = getattr(config, "warmup_ratio", None)
    if warmup is not None:
        need(0 <= warmup <= 1, "warmup_ratio", "in [0, 1]")
    need(getattr(config, "warmup_steps", 0) is None or getattr(config, "warmup_steps", 0) >= 0, "warmup_steps", ">= 0")
