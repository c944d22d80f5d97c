"""Models: the pooled classifier and the factory that builds a classifier for a task."""

from .factory import build_classifier, is_classifier, load_classifier, load_tokenizer, task_spec_of
from .multitask_model import MultiTaskModel, MultiTaskModelConfig, MultiTaskOutput, build_multitask_model
from .pooled_classifier import PooledClassifier, PooledClassifierConfig, pool
from .student import init_student_from_teacher
from .vocab import prune_vocabulary

__all__ = [
    "MultiTaskModel",
    "MultiTaskModelConfig",
    "MultiTaskOutput",
    "build_multitask_model",
    "PooledClassifier",
    "PooledClassifierConfig",
    "build_classifier",
    "is_classifier",
    "load_classifier",
    "load_tokenizer",
    "pool",
    "task_spec_of",
    "init_student_from_teacher",
    "prune_vocabulary",
]
