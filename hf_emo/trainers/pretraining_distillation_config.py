"""``PretrainingDistillationConfig``: task-agnostic distillation of a language model (Sanh et al. 2019; Avram et al.
2022, Eq. 1-5) as a ``TrainingArguments``."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments

from ..losses import check_temperature
from .config_checks import check_ranges, check_types

OBJECTIVES = ("auto", "mlm", "clm")


@dataclass
class PretrainingDistillationConfig(TrainingArguments):
    """Training arguments for :class:`PretrainingDistillationTrainer`:
    ``L = kd_weight * L_KD + lm_weight * L_LM + cosine_weight * L_cos`` (Avram et al. 2022: 0.625, 0.25, 0.125 at
    T = 2)."""

    objective: str = field(
        default="auto",
        metadata={
            "help": "mlm (masked LM, BERT-style teachers), clm (causal LM, decoders), or auto: from the teacher."
        },
    )
    temperature: float = field(default=2.0, metadata={"help": "T of the KD term (times T^2)."})
    kd_weight: float = field(default=0.625, metadata={"help": "Weight of the KD term (Avram et al. 2022: 0.625)."})
    lm_weight: float = field(default=0.25, metadata={"help": "Weight of the student's own LM loss (0.25)."})
    cosine_weight: float = field(default=0.125, metadata={"help": "Weight of the hidden-state cosine term (0.125)."})
    mlm_probability: float = field(default=0.15, metadata={"help": "MLM: share of tokens masked (80/10/10)."})
    teacher_dtype: str | None = field(
        default=None,
        metadata={"help": "Run the teachers in this dtype (bfloat16 / float16 on GPU); default: as loaded."},
    )

    def __post_init__(self) -> None:
        check_types(self)
        super().__post_init__()
        check_ranges(self)
        check_temperature(self.temperature)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        for name in ("kd_weight", "lm_weight", "cosine_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.kd_weight + self.lm_weight + self.cosine_weight <= 0:
            raise ValueError("kd_weight, lm_weight and cosine_weight are all 0: nothing to train")
        if not 0.0 < self.mlm_probability < 1.0:
            raise ValueError(f"mlm_probability must be in (0, 1), got {self.mlm_probability!r}")
