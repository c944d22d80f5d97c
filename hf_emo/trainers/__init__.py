"""Trainer subclasses, one config dataclass each."""

from .distillation_config import DistillationConfig
from .distillation_trainer import DistillationTrainer
from .emotion_config import EmotionConfig
from .emotion_trainer import EmotionTrainer

__all__ = ["EmotionConfig", "EmotionTrainer", "DistillationConfig", "DistillationTrainer"]
