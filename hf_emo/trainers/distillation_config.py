"""``DistillationConfig``: ``EmotionConfig`` plus the knobs of knowledge distillation (Hinton et al. 2015; Matei
§3.2.3-3.2.4). The KD-objective fields live in ``DistillationArguments``, which ``MultiTaskConfig`` shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..losses import KD_LOSSES, check_alpha, check_temperature
from ..schedules import ALPHA_SCHEDULES, alpha_at_step
from ..teachers import Teachers
from .emotion_config import EmotionConfig

ANNEALING_FORMS = ("loss_mix", "target_mix")
TEACHER_AGGREGATIONS = ("loss", "probs")


@dataclass
class DistillationArguments:
    """The fields of the distillation objective ``L = alpha * L_hard + (1 - alpha) * L_KD``: ``alpha`` weighs the
    gold labels. With ``alpha_schedule='linear'`` alpha moves from ``alpha_start`` to ``alpha_end`` over training
    (teacher annealing; Matei's best run: 0.1 -> 0.7 at T = 1.5)."""

    temperature: float = field(default=1.0, metadata={"help": "Softmax / sigmoid temperature T of the KD loss (> 0)."})
    alpha: float = field(
        default=0.5, metadata={"help": "Weight of the gold-label loss, in [0, 1] (constant schedule)."}
    )
    alpha_schedule: str = field(
        default="constant",
        metadata={
            "help": "constant, or linear from alpha_start to alpha_end over the training steps (teacher annealing)."
        },
    )
    alpha_start: float = field(default=0.1, metadata={"help": "Linear schedule: alpha at step 0."})
    alpha_end: float = field(default=0.7, metadata={"help": "Linear schedule: alpha at the last step."})
    annealing: str = field(
        default="loss_mix",
        metadata={
            "help": "loss_mix: alpha*L_hard + (1-alpha)*L_KD (Matei). target_mix: one loss against the target "
            "alpha*gold + (1-alpha)*teacher (BAM, Clark et al. 2019; linear 0 -> 1 is BAM's schedule)."
        },
    )
    kd_loss: str = field(
        default="auto",
        metadata={
            "help": "A name in hf_emo.losses.KD_LOSSES (kl_softmax, kl_bernoulli, mse, or your own), or auto: "
            "kl_bernoulli for multi-label, kl_softmax for single-label, mse for regression."
        },
    )
    teacher_aggregation: str = field(
        default="loss",
        metadata={
            "help": "Several teachers: loss = mean of the per-teacher KD losses (Avram et al. 2022, Eq. 4); probs = KD "
            "against the mean of the teachers' probabilities."
        },
    )
    teacher_dtype: str | None = field(
        default=None,
        metadata={"help": "Run live teachers in this dtype (bfloat16 / float16 on GPU); default: as loaded."},
    )

    def check_distillation_fields(self) -> None:
        check_temperature(self.temperature)
        check_alpha(self.alpha, "alpha")
        check_alpha(self.alpha_start, "alpha_start")
        check_alpha(self.alpha_end, "alpha_end")
        for name, value, allowed in (
            ("alpha_schedule", self.alpha_schedule, ALPHA_SCHEDULES),
            ("annealing", self.annealing, ANNEALING_FORMS),
            ("teacher_aggregation", self.teacher_aggregation, TEACHER_AGGREGATIONS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if self.teacher_dtype is not None and self.teacher_dtype not in Teachers.DTYPES:
            raise ValueError(
                f"teacher_dtype must be one of {sorted(Teachers.DTYPES)} or None, got {self.teacher_dtype!r}"
            )
        if self.kd_loss != "auto" and self.kd_loss not in KD_LOSSES:
            raise ValueError(f"unknown kd_loss {self.kd_loss!r}; registered: {sorted(KD_LOSSES)}")

    def alpha_at(self, step: int, max_steps: int) -> float:
        """alpha at ``step`` of ``max_steps``: a pure function of the step, so a resumed run continues the schedule."""
        return alpha_at_step(step, max_steps, self.alpha_schedule, self.alpha, self.alpha_start, self.alpha_end)

    def describe_alpha(self) -> str:
        if self.alpha_schedule == "linear":
            return (
                f"alpha rising linearly from {self.alpha_start} to {self.alpha_end} over training (teacher annealing)"
            )
        return f"constant alpha = {self.alpha}"


@dataclass
class DistillationConfig(EmotionConfig, DistillationArguments):
    """Training arguments for :class:`DistillationTrainer`: ``EmotionConfig``, the distillation objective's fields
    and DistilBERT's cosine term."""

    cosine_loss_weight: float = field(
        default=0.0,
        metadata={
            "help": "Weight of DistilBERT's cosine loss (Sanh et al. 2019) between the student's and the live "
            "teachers' "
            "last hidden states (averaged over teachers), added to the loss. Needs equal hidden sizes."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.check_distillation_fields()
        if self.cosine_loss_weight < 0:
            raise ValueError(f"cosine_loss_weight must be >= 0, got {self.cosine_loss_weight}")
