"""``DistillationConfig``: ``EmotionConfig`` plus the knobs of knowledge distillation (paper 000 §3.2.3-3.2.4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..losses import KD_LOSSES, check_alpha, check_temperature
from ..schedules import ALPHA_SCHEDULES
from .emotion_config import EmotionConfig

ANNEALING_FORMS = ("loss_mix", "target_mix")
TEACHER_AGGREGATIONS = ("loss", "probs")
TEACHER_DTYPES = ("float32", "bfloat16", "float16")


@dataclass
class DistillationConfig(EmotionConfig):
    """Training arguments for :class:`DistillationTrainer`.

    ``L = alpha * L_hard + (1 - alpha) * L_KD`` (paper 000): ``alpha`` weighs the gold labels. With
    ``alpha_schedule='linear'`` alpha moves from ``alpha_start`` to ``alpha_end`` over training (teacher
    annealing; paper 000's best run: 0.1 -> 0.7 at T = 1.5).
    """

    temperature: float = field(default=1.0, metadata={"help": "Softmax / sigmoid temperature T of the KD loss (> 0)."})
    alpha: float = field(default=0.5, metadata={"help": "Weight of the gold-label loss, in [0, 1] (constant schedule)."})
    alpha_schedule: str = field(default="constant", metadata={
        "help": "constant, or linear from alpha_start to alpha_end over the training steps (teacher annealing)."})
    alpha_start: float = field(default=0.1, metadata={"help": "Linear schedule: alpha at step 0."})
    alpha_end: float = field(default=0.7, metadata={"help": "Linear schedule: alpha at the last step."})
    annealing: str = field(default="loss_mix", metadata={
        "help": "loss_mix: alpha*L_hard + (1-alpha)*L_KD (paper 000). target_mix: one loss against the target "
                "alpha*gold + (1-alpha)*teacher (BAM, Clark et al. 2019; linear 0 -> 1 is BAM's schedule)."})
    kd_loss: str = field(default="auto", metadata={
        "help": "A name in hf_emo.losses.KD_LOSSES (kl_softmax, kl_bernoulli, mse, or your own), or auto: "
                "kl_bernoulli for multi-label, kl_softmax for single-label, mse for regression."})
    teacher_aggregation: str = field(default="loss", metadata={
        "help": "Several teachers: loss = mean of the per-teacher KD losses (paper 003 Eq. 4); probs = KD "
                "against the mean of the teachers' probabilities."})
    teacher_dtype: str | None = field(default=None, metadata={
        "help": "Run live teachers in this dtype (bfloat16 / float16 on GPU); default: as loaded."})
    cosine_loss_weight: float = field(default=0.0, metadata={
        "help": "Weight of DistilBERT's cosine loss between the student's and the (live) teacher's last hidden "
                "states, added to the loss. Needs equal hidden sizes."})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_temperature(self.temperature)
        check_alpha(self.alpha, "alpha")
        check_alpha(self.alpha_start, "alpha_start")
        check_alpha(self.alpha_end, "alpha_end")
        for name, value, allowed in (("alpha_schedule", self.alpha_schedule, ALPHA_SCHEDULES),
                                     ("annealing", self.annealing, ANNEALING_FORMS),
                                     ("teacher_aggregation", self.teacher_aggregation, TEACHER_AGGREGATIONS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if self.teacher_dtype is not None and self.teacher_dtype not in TEACHER_DTYPES:
            raise ValueError(f"teacher_dtype must be one of {TEACHER_DTYPES} or None, got {self.teacher_dtype!r}")
        if self.kd_loss != "auto" and self.kd_loss not in KD_LOSSES:
            raise ValueError(f"unknown kd_loss {self.kd_loss!r}; registered: {sorted(KD_LOSSES)}")
        if self.cosine_loss_weight < 0:
            raise ValueError(f"cosine_loss_weight must be >= 0, got {self.cosine_loss_weight}")
