"""Data layer: task specs, the registry of real data sets, and loaders for a user's own files."""

from .errors import DataError
from .local import load_local
from .registry import TASKS, default_data_dir, load_task, task_source
from .spec import PROBLEM_TYPES, TaskSpec

__all__ = ["DataError", "PROBLEM_TYPES", "TASKS", "TaskSpec", "default_data_dir", "load_local", "load_task",
           "task_source"]
