"""The built-in methods, registered with the run pipeline: importing this module makes each a command of
``hf-emo`` (a method of your own is one :func:`~hf_emo.jobs.pipeline.register_method` call in your code)."""

from __future__ import annotations

from .pipeline import METHODS, Method, get_method, method_for_config, register_method
from .train import DistillationJob, SingleTaskJob  # each job module registers its methods when imported
from .multitask import MultiTaskJob
from .staged import StagedJob
from .consistency import ConsistencyJob
from .generative import GenerativeJob
from .pretraining import PretrainingJob

# the built-in methods in the order `hf-emo --help` and the README list them (registration order depends on which
# job module was imported first)
BUILTIN_METHODS = ("train", "distil", "mtl", "stages", "consistency", "generative", "pretrain")


def ordered_methods() -> list[Method]:
    """The built-in methods in :data:`BUILTIN_METHODS` order, then any other registered method as registered."""
    return [METHODS[n] for n in BUILTIN_METHODS] + [m for n, m in METHODS.items() if n not in BUILTIN_METHODS]


__all__ = [
    "BUILTIN_METHODS",
    "ordered_methods",
    "METHODS",
    "Method",
    "get_method",
    "method_for_config",
    "register_method",
    "SingleTaskJob",
    "DistillationJob",
    "MultiTaskJob",
    "StagedJob",
    "ConsistencyJob",
    "GenerativeJob",
    "PretrainingJob",
]
