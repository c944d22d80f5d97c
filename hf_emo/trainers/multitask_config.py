"""``MultiTaskConfig``: ``EmotionConfig`` plus task sampling, task losses and loss weighting (Matei §3.2.2-3.3; the
TBED-MTL paper, *Multi-task learning for Text-based Emotion Detection across disparate label spaces*), and the fields
of multi-task distillation."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.task_sampler import TASK_SAMPLERS
from ..gradient_reversal import ADVERSARIAL_SCHEDULES
from ..losses import KD_LOSSES, SUPERVISED_LOSSES, get_kd_loss
from .distillation_config import DistillationArguments
from .emotion_config import EmotionConfig, json_mapping

LOSS_WEIGHTINGS = ("static", "gradnorm")
ADVERSARIAL_MODES = ("gradient_reversal", "loss_sign_reversal")


@dataclass
class MultiTaskConfig(EmotionConfig, DistillationArguments):
    """Training arguments for :class:`MultiTaskTrainer`.

    The distillation fields (``temperature``, ``alpha``, ``alpha_schedule``, ...) apply to the tasks that have
    teachers (MTKD, Matei §3.2.3-3.2.4); tasks without teachers train on their gold labels. The loss of one optimizer
    step is ``sum_t w_t * L_t`` where ``L_t`` is task ``t``'s mean loss over its examples in the step and ``w_t`` its
    weight: ``task_weights`` (Matei §3.3 divides the auxiliary tasks by 10), or GradNorm's learned weights. ``loss``
    is every task's gold-label loss unless ``task_losses`` names another for a task.
    """

    task_losses: dict | str | None = field(
        default=None,
        metadata={
            "help": 'Gold-label loss per task, as a mapping or JSON, e.g. {"laroseda": "bce_single_label"} (Matei §3.3 '
            "trains the auxiliary single-label tasks with BCE); unlisted tasks use `loss`."
        },
    )

    task_kd_losses: dict | str | None = field(
        default=None,
        metadata={
            "help": 'KD loss per task, as a mapping or JSON, e.g. {"redv2": "kl_softmax"} (Matei §3.2.3\'s form on '
            "REDv2 "
            "alone, the auxiliary tasks keeping theirs); unlisted tasks use `kd_loss` (regression tasks: mse)."
        },
    )

    task_sampler: str = field(
        default="proportional", metadata={"help": f"Which task each batch comes from: one of {TASK_SAMPLERS}."}
    )
    task_sampling_temperature: float = field(
        default=1.0,
        metadata={
            "help": "temperature sampler: draw task t with probability proportional to size_t ** tau (1 = "
            "proportional, 0 = uniform)."
        },
    )
    task_cap: int | None = field(
        default=None, metadata={"help": "capped sampler: a task contributes at most this many examples per epoch."}
    )
    task_weights: dict | str | None = field(
        default=None,
        metadata={
            "help": 'Static loss weight per task, as a mapping or JSON, e.g. {"laroseda": 0.1, "ag_news": 0.1}; '
            "unlisted tasks weigh 1."
        },
    )
    loss_weighting: str = field(
        default="static", metadata={"help": "static (task_weights) or gradnorm (Chen et al. 2018; TBED-MTL §3.4)."}
    )
    gradnorm_alpha: float = field(default=1.0, metadata={"help": "GradNorm's asymmetry alpha (TBED-MTL: 1.0)."})
    gradnorm_lr: float = field(default=1e-3, metadata={"help": "Adam learning rate of the GradNorm weights."})
    adversarial_tasks: list[str] | None = field(
        default=None,
        metadata={
            "help": "Tasks trained adversarially, e.g. a language discriminator (Matei Fig. 2; ADAN, Chen et al. "
            "2018); the others (and these, when left out) train as plain tasks: the 'discriminative' variant."
        },
    )
    adversarial_mode: str = field(
        default="gradient_reversal",
        metadata={
            "help": "gradient_reversal: the head learns to discriminate while the encoder receives -lambda times its "
            "gradient (DANN/ADAN); loss_sign_reversal: the task's loss enters with weight -lambda, so encoder "
            "and head both maximise it (Matei's 'loss sign reversal' variant)."
        },
    )
    adversarial_lambda: float = field(default=1.0, metadata={"help": "Scale of the adversarial coefficient (>= 0)."})
    adversarial_schedule: str = field(
        default="dann",
        metadata={"help": "constant, or dann: lambda * (2 / (1 + exp(-gamma * p)) - 1) over the training progress p."},
    )
    adversarial_gamma: float = field(default=10.0, metadata={"help": "gamma of the dann schedule."})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.check_distillation_fields()
        self.task_losses = json_mapping(self.task_losses, "task_losses")
        for task, name in (self.task_losses or {}).items():
            if name not in SUPERVISED_LOSSES:
                raise ValueError(
                    f"task_losses[{task!r}] = {name!r} is not a registered loss; registered: "
                    f"{sorted(SUPERVISED_LOSSES)}"
                )
        self.task_kd_losses = json_mapping(self.task_kd_losses, "task_kd_losses")
        for task, name in (self.task_kd_losses or {}).items():
            if name != "auto" and name not in KD_LOSSES:
                raise ValueError(
                    f"task_kd_losses[{task!r}] = {name!r} is not a registered KD loss; registered: {sorted(KD_LOSSES)}"
                )
        if self.task_sampler not in TASK_SAMPLERS:
            raise ValueError(f"task_sampler must be one of {TASK_SAMPLERS}, got {self.task_sampler!r}")
        if self.task_sampling_temperature < 0:
            raise ValueError(f"task_sampling_temperature must be >= 0, got {self.task_sampling_temperature}")
        if self.task_sampler == "capped" and (self.task_cap is None or self.task_cap <= 0):
            raise ValueError(f"task_sampler='capped' needs a positive task_cap, got {self.task_cap!r}")
        if self.loss_weighting not in LOSS_WEIGHTINGS:
            raise ValueError(f"loss_weighting must be one of {LOSS_WEIGHTINGS}, got {self.loss_weighting!r}")
        if self.gradnorm_alpha < 0:
            raise ValueError(f"gradnorm_alpha must be >= 0, got {self.gradnorm_alpha}")
        if self.gradnorm_lr <= 0:
            raise ValueError(f"gradnorm_lr must be > 0, got {self.gradnorm_lr}")
        self.task_weights = json_mapping(self.task_weights, "task_weights")
        for name, w in (self.task_weights or {}).items():
            if not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0:
                raise ValueError(f"task_weights[{name!r}] must be a number >= 0, got {w!r}")
        if self.loss_weighting == "gradnorm" and self.task_weights:
            raise ValueError("task_weights and loss_weighting='gradnorm' exclude each other: GradNorm learns them")
        if self.adversarial_mode not in ADVERSARIAL_MODES:
            raise ValueError(f"adversarial_mode must be one of {ADVERSARIAL_MODES}, got {self.adversarial_mode!r}")
        if self.adversarial_schedule not in ADVERSARIAL_SCHEDULES:
            raise ValueError(
                f"adversarial_schedule must be one of {ADVERSARIAL_SCHEDULES}, got {self.adversarial_schedule!r}"
            )
        if self.adversarial_lambda < 0 or self.adversarial_gamma <= 0:
            raise ValueError(
                f"adversarial_lambda must be >= 0 and adversarial_gamma > 0, got "
                f"{self.adversarial_lambda} and {self.adversarial_gamma}"
            )
        if self.adversarial_tasks and self.loss_weighting == "gradnorm":
            raise ValueError("adversarial_tasks and loss_weighting='gradnorm' exclude each other")
        # One-task batches leave the other heads without gradients: DDP must look for unused parameters.
        if self.ddp_find_unused_parameters is None:
            self.ddp_find_unused_parameters = True

    def kd_loss_name(self, task: str, problem_type: str) -> str:
        """The registry name of ``task``'s KD loss: ``task_kd_losses[task]``, else ``kd_loss`` (``auto`` for a
        regression task, whose only form is mse), with ``auto`` resolved from ``problem_type``."""
        name = (self.task_kd_losses or {}).get(task)
        if name is None:
            name = "auto" if problem_type == "regression" else self.kd_loss
        return get_kd_loss(name, problem_type)[0]
