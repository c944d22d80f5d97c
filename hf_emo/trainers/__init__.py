"""Trainer subclasses, one config dataclass each."""

from .consistency_config import ConsistencyDistillationConfig
from .consistency_trainer import ConsistencyDistillationTrainer
from .distillation_config import DistillationConfig
from .distillation_trainer import DistillationTrainer
from .emotion_config import EmotionConfig
from .emotion_trainer import EmotionTrainer
from .generative_config import GenerativeConfig
from .generative_trainer import GenerativeTrainer
from .multitask_config import MultiTaskConfig
from .multitask_trainer import MultiTaskTrainer
from .pretraining_distillation_config import PretrainingDistillationConfig
from .pretraining_distillation_trainer import PretrainingDistillationTrainer

__all__ = [
    "EmotionConfig",
    "EmotionTrainer",
    "DistillationConfig",
    "DistillationTrainer",
    "MultiTaskConfig",
    "MultiTaskTrainer",
    "ConsistencyDistillationConfig",
    "ConsistencyDistillationTrainer",
    "GenerativeConfig",
    "GenerativeTrainer",
    "PretrainingDistillationConfig",
    "PretrainingDistillationTrainer",
]
