"""``ConsistencyDistillationConfig``: cross-lingual consistency distillation (Wang et al. 2024 §2.2-2.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..quality_weights import NORMALIZATIONS, WEIGHTINGS
from .distillation_config import DistillationConfig


@dataclass
class ConsistencyDistillationConfig(DistillationConfig):
    """Training arguments for :class:`ConsistencyDistillationTrainer`.

    The loss is ``alpha * L_gold + (1 - alpha) * sum_i w_i KL(P_teacher(x'_i) || Q_student(x_i)) / N``. ``alpha``
    defaults to 0: the target-language side needs no gold labels; set it above 0 to mix in a supervised loss.
    """

    alpha: float = field(
        default=0.0,
        metadata={
            "help": "Weight of the gold-label loss, in [0, 1]; 0 (default) distils on unlabelled target-language text."
        },
    )
    quality_weighting: str = field(
        default="quality",
        metadata={
            "help": "quality: Wang et al. 2024 Eq. 3 from the 'disagreement' column; threshold: drop the worst "
            "drop_fraction "
            "of pairs; uniform: every weight 1 (the ablation); column: the dataset's own 'weight' column (e.g. a "
            "quality-estimation score or alignment metadata)."
        },
    )
    weight_normalization: str = field(
        default="global",
        metadata={
            "help": "quality weighting: min-max normalise the disagreements over the whole refinement set before "
            "training (global, as in the paper) or within each batch (batch)."
        },
    )
    drop_fraction: float = field(
        default=0.1,
        metadata={
            "help": "threshold weighting: the fraction of pairs with the largest disagreement to drop, in [0, 1)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.quality_weighting not in WEIGHTINGS:
            raise ValueError(f"quality_weighting must be one of {WEIGHTINGS}, got {self.quality_weighting!r}")
        if self.weight_normalization not in NORMALIZATIONS:
            raise ValueError(f"weight_normalization must be one of {NORMALIZATIONS}, got {self.weight_normalization!r}")
        if self.weight_normalization == "batch" and self.quality_weighting != "quality":
            raise ValueError(
                "weight_normalization='batch' applies to quality_weighting='quality' only, got "
                f"{self.quality_weighting!r}"
            )
        if not 0.0 <= self.drop_fraction < 1.0:
            raise ValueError(f"drop_fraction must be in [0, 1), got {self.drop_fraction}")
