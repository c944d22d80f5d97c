"""Data layer: task specs, the registry of real data sets, and loaders for a user's own files."""

from .errors import DataError
from .local import load_local
from .paired_collator import PairedDataCollator, tokenize_teacher_side
from .multitask_dataset import MultiTaskDataset
from .registry import TASKS, default_data_dir, load_task, task_source
from .spec import PROBLEM_TYPES, TaskSpec
from .task_sampler import TASK_SAMPLERS, MultiTaskBatchSampler, task_batch_counts

__all__ = ["PairedDataCollator", "tokenize_teacher_side", "MultiTaskDataset", "MultiTaskBatchSampler", "TASK_SAMPLERS", "task_batch_counts", "DataError",
           "PROBLEM_TYPES", "TASKS", "TaskSpec", "default_data_dir", "load_local", "load_task", "task_source"]
