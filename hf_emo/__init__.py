"""hf_emo: Hugging Face Trainer subclasses for text emotion recognition.

Public API (see README): data (``load_task``, ``load_local``, ``TASKS``, ``TaskSpec``), offline models
(``materialize``), models (``PooledClassifier``, ``build_classifier``), metrics, losses and trainers.
"""

from .data import TASKS, DataError, TaskSpec, load_local, load_task
from .losses import supervised_loss
from .metrics import build_compute_metrics, multi_label_metrics, regression_metrics, single_label_metrics, \
    tune_threshold
from .models import PooledClassifier, PooledClassifierConfig, build_classifier, load_classifier
from .trainers import EmotionConfig, EmotionTrainer
from .zoo import materialize, resolve_model

__version__ = "0.1.0"

__all__ = [
    "TASKS", "DataError", "TaskSpec", "load_local", "load_task",
    "supervised_loss",
    "build_compute_metrics", "multi_label_metrics", "regression_metrics", "single_label_metrics", "tune_threshold",
    "PooledClassifier", "PooledClassifierConfig", "build_classifier", "load_classifier",
    "EmotionConfig", "EmotionTrainer",
    "materialize", "resolve_model",
]
