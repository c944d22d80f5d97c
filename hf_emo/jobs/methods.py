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

__all__ = ["METHODS", "Method", "get_method", "method_for_config", "register_method", "SingleTaskJob", "DistillationJob",
           "MultiTaskJob", "StagedJob", "ConsistencyJob", "GenerativeJob", "PretrainingJob"]
