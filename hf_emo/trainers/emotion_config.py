"""``EmotionConfig``: ``TrainingArguments`` plus the fields of supervised emotion fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments

from .config_checks import check_ranges, check_types


@dataclass
class EmotionConfig(TrainingArguments):
    """Training arguments for :class:`EmotionTrainer`.

    Every field can be set from YAML through ``HfArgumentParser`` (``hf-emo train --config FILE.yaml``).
    """

    threshold: float = field(default=0.5, metadata={"help": "Multi-label decision threshold on sigmoid outputs."})
    tune_threshold: bool = field(default=True, metadata={
        "help": "After training, pick the multi-label threshold that maximises the task metric on validation."})
    freeze_embeddings: bool = field(default=False, metadata={
        "help": "Freeze the input word-embedding matrix (most of e5-small's parameters; halves CPU step time)."})
    head_learning_rate: float | None = field(default=None, metadata={
        "help": "Learning rate of the classification head (defaults to learning_rate)."})

    def __post_init__(self) -> None:
        check_types(self)
        super().__post_init__()
        check_ranges(self)
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.head_learning_rate is not None and self.head_learning_rate <= 0:
            raise ValueError(f"head_learning_rate must be > 0, got {self.head_learning_rate}")
