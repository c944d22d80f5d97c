"""Data layer: task specs, the registry of real data sets, and loaders for a user's own files."""

from .errors import DataError
from .local import load_local
from .paired_collator import PairedDataCollator, tokenize_teacher_side
from .multitask_dataset import MixedTaskCollator, MultiTaskDataset
from .registry import TASKS, default_data_dir, load_task, task_source
from .spec import PROBLEM_TYPES, TaskSpec
from .task_sampler import TASK_SAMPLERS, MultiTaskBatchSampler, mixed_task_slots, task_batch_counts

__all__ = [
    "PairedDataCollator",
    "tokenize_teacher_side",
    "MixedTaskCollator",
    "MultiTaskDataset",
    "MultiTaskBatchSampler",
    "TASK_SAMPLERS",
    "mixed_task_slots",
    "task_batch_counts",
    "DataError",
    "PROBLEM_TYPES",
    "TASKS",
    "TaskSpec",
    "default_data_dir",
    "load_local",
    "load_task",
    "task_source",
]
