"""Trainer subclasses, one config dataclass each."""

from .emotion_config import EmotionConfig
from .emotion_trainer import EmotionTrainer

__all__ = ["EmotionConfig", "EmotionTrainer"]
