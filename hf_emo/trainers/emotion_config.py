"""``EmotionConfig``: ``TrainingArguments`` plus the fields of supervised emotion fine-tuning."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from transformers import TrainingArguments

from ..metrics import check_threshold
from ..losses import SUPERVISED_LOSSES
from .config_checks import check_ranges, check_types


def json_mapping(value: Any, name: str) -> dict | None:
    """A mapping field given as a dict or as JSON text (from the command line); ``None`` stays ``None``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise ValueError(f"{name} is not valid JSON ({e}): {value!r}") from None
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{name} must be a mapping, got {value!r}")
    return value


THRESHOLD_TUNINGS = ("global", "per_label")
WEIGHT_DECAY_FORMS = ("decoupled", "l2")
L2_OPTIMS = ("adamw_torch", "adamw_torch_fused")  # the Adam family whose class l2 swaps for torch.optim.Adam


@dataclass
class EmotionConfig(TrainingArguments):
    """Training arguments for :class:`EmotionTrainer`.

    Every field can be set from YAML through ``HfArgumentParser`` (``hf-emo train --config FILE.yaml``).
    """

    loss: str = field(
        default="auto",
        metadata={
            "help": "Gold-label loss, a name in hf_emo.losses.SUPERVISED_LOSSES: auto (BCE multi-label, CE "
            "single-label, "
            "MSE regression), bce_single_label, label_smoothed_ce, focal, or your own (hf_emo.register_loss)."
        },
    )
    loss_kwargs: dict | str | None = field(
        default=None,
        metadata={
            "help": 'Keyword options of the loss, as a mapping or JSON, e.g. {"gamma": 2.0} (focal) or '
            '{"smoothing": 0.1} (label_smoothed_ce).'
        },
    )
    threshold: float = field(default=0.5, metadata={"help": "Multi-label decision threshold on sigmoid outputs."})
    tune_threshold: bool = field(
        default=True,
        metadata={
            "help": "After training, pick the multi-label threshold that maximises the task metric on validation."
        },
    )
    threshold_tuning: str = field(
        default="global",
        metadata={
            "help": "global: one threshold for every label (maximising the task metric); per_label: one per label, "
            "each maximising that label's F1 on validation (and so macro F1)."
        },
    )
    freeze_embeddings: bool = field(
        default=False,
        metadata={
            "help": "Freeze the input word-embedding matrix (most of e5-small's parameters; halves CPU step time)."
        },
    )
    head_learning_rate: float | None = field(
        default=None, metadata={"help": "Learning rate of the classification head (defaults to learning_rate)."}
    )
    weight_decay_form: str = field(
        default="decoupled",
        metadata={
            "help": "decoupled: AdamW's weight decay (Loshchilov & Hutter 2019), the Trainer's; l2: the penalty added "
            "to the gradient before Adam's moments, torch.optim.Adam(weight_decay=...), the 'Adam with weight decay' "
            "of papers that name Adam (TBED-MTL). l2 needs optim adamw_torch or adamw_torch_fused."
        },
    )
    flush_denormal: bool | None = field(
        default=None,
        metadata={
            "help": "Flush subnormal floats to zero on CPU (torch.set_flush_denormal). Under weight_decay_form l2 the "
            "decay drives the weights of units that get no data gradient (dead ReLUs) into the subnormal range, "
            "where CPU arithmetic is 100x slower (a frozen-encoder MTL run went from 2 to 10 minutes). Default: on "
            "with weight_decay_form l2, off otherwise (so earlier runs repeat bit for bit)."
        },
    )

    def __post_init__(self) -> None:
        check_types(self)
        super().__post_init__()
        check_ranges(self)
        check_threshold(self.threshold)
        if self.threshold_tuning not in THRESHOLD_TUNINGS:
            raise ValueError(f"threshold_tuning must be one of {THRESHOLD_TUNINGS}, got {self.threshold_tuning!r}")
        if self.head_learning_rate is not None and self.head_learning_rate <= 0:
            raise ValueError(f"head_learning_rate must be > 0, got {self.head_learning_rate}")
        if self.weight_decay_form not in WEIGHT_DECAY_FORMS:
            raise ValueError(f"weight_decay_form must be one of {WEIGHT_DECAY_FORMS}, got {self.weight_decay_form!r}")
        if self.weight_decay_form == "l2" and self.optim not in L2_OPTIMS:
            raise ValueError(
                f"weight_decay_form='l2' swaps AdamW for torch.optim.Adam, so optim must be one of "
                f"{L2_OPTIMS}, got {getattr(self.optim, 'value', self.optim)!r}"
            )
        if self.flush_denormal is None:
            self.flush_denormal = self.weight_decay_form == "l2"
        if self.loss != "auto" and self.loss not in SUPERVISED_LOSSES:
            raise ValueError(
                f"unknown loss {self.loss!r}; registered: {sorted(SUPERVISED_LOSSES)} "
                "(add your own with hf_emo.register_loss)"
            )
        self.loss_kwargs = json_mapping(self.loss_kwargs, "loss_kwargs")
        if self.label_smoothing_factor:
            raise ValueError(
                f"label_smoothing_factor={self.label_smoothing_factor} would be ignored (hf_emo's "
                "trainers compute their own loss): set loss='label_smoothed_ce' and loss_kwargs="
                f'{{"smoothing": {self.label_smoothing_factor}}} instead'
            )

    @classmethod
    def from_training_arguments(cls, args: TrainingArguments, **overrides: Any):
        """This config with every ``TrainingArguments`` field of ``args`` and the method's defaults for the rest."""
        values = {
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(TrainingArguments)
            if f.init and hasattr(args, f.name)
        }
        values.update(
            {
                f.name: getattr(args, f.name)
                for f in dataclasses.fields(cls)
                if f.init and f.name not in values and hasattr(args, f.name)
            }
        )
        return cls(**{**values, **overrides})


def as_config(args: TrainingArguments | None, config_class: type, trainer: str) -> Any:
    """``args`` as ``config_class``: itself when it already is one, the method's defaults filled in for a plain
    ``TrainingArguments`` (or another method's config), ``config_class(output_dir=...)`` defaults for ``None``."""
    if args is None:
        return config_class(output_dir="hf_emo_output")
    if isinstance(args, config_class):
        return args
    if isinstance(args, TrainingArguments):
        return config_class.from_training_arguments(args)
    raise TypeError(
        f"{trainer} takes its settings as a {config_class.__name__} (or a TrainingArguments, completed "
        f"with the method's defaults), got {type(args).__name__}"
    )


def apply_flush_denormal(args) -> None:
    """Turn on ``torch.set_flush_denormal`` when ``args.flush_denormal`` asks for it. The x86 flag belongs to the
    calling thread and is copied into threads created after it, so jobs call this before building the model (before
    torch starts its intra-op thread pool); the Trainer calls it again for code that builds its own model."""
    if getattr(args, "flush_denormal", False):
        import torch

        torch.set_flush_denormal(True)
