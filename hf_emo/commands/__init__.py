"""The commands of ``hf-emo`` besides the training methods, one module each: ``HELP`` (the line in ``hf-emo
--help``), ``add_arguments(parser)`` and ``run(args) -> int``. The training methods come from the registry
(:mod:`hf_emo.jobs.methods`) and run through :mod:`hf_emo.commands.method`."""

from __future__ import annotations

import importlib
from types import ModuleType

# command -> module of this package; listed after the training methods in `hf-emo --help`
NAMES = ("evaluate", "predict", "explain", "table", "push", "export", "data", "zoo")


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f".{name}", __name__)


def positive_int(value: str) -> int:
    """An ``argparse`` type: a whole number >= 1 (a batch size of 0 gave a trace from deep inside the model)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        import argparse

        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value!r}")
    return number
