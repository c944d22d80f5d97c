"""The record of a finished run: ``RunRecord``, written as ``metrics.json`` (scrubbed of secrets and local paths),
with the command, the machine and the library versions."""

from __future__ import annotations

import json
import os
import resource
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..scrub import public_name, scrub

__all__ = [
    "RunRecord",
    "command_line",
    "machine_description",
    "peak_rss_mb",
    "versions",
    "config_changes",
    "inference_device",
]


# -- the record ------------------------------------------------------------------------------------------
def command_line(prog: str, argv: list[str]) -> str:
    """``prog`` and its arguments as one shell-quoted line (secrets are scrubbed when the record is written)."""
    return " ".join([prog, *(shlex.quote(a) for a in argv)])


def machine_description() -> str:
    """``'2 CPU cores (x86_64), torch ...'`` (with the torch thread count when it is not the core count) or
    ``'1 x NVIDIA H100 80GB HBM3, torch ...'``: where a run ran, for reports and model cards."""
    import platform

    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    threads = torch.get_num_threads()  # CPU results repeat bit for bit only at the same thread count
    using = "" if threads == os.cpu_count() else f", {threads} torch thread{'s' if threads != 1 else ''}"
    return f"{os.cpu_count()} CPU cores ({platform.machine()}){using}, torch {torch.__version__}"


def inference_device():
    """The device the evaluate / predict jobs run models on: accelerate's choice (a GPU when one is visible)."""
    from accelerate import PartialState

    return PartialState().device


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def versions() -> dict[str, str]:
    """Versions of hf_emo and the libraries a result depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("hf_emo", "transformers", "torch", "datasets", "accelerate", "peft", "numpy", "scikit-learn"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def config_changes(config) -> dict[str, Any]:
    """The fields of a ``TrainingArguments`` dataclass that differ from its class defaults (secrets scrubbed)."""
    import dataclasses

    changed = {}
    for f in dataclasses.fields(config):
        if not f.init or f.name.startswith("_"):
            continue
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        )
        value = getattr(config, f.name, None)
        if hasattr(value, "value"):  # enums
            value = value.value
        if hasattr(default, "value"):
            default = default.value
        if value != default:
            changed[f.name] = (
                value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
            )
    return changed


@dataclass
class RunRecord:
    """Everything a finished run reports: the method and its settings, the seed, the data, the metrics, timings,
    versions and the command. ``save`` writes it as ``metrics.json`` (``{split: metrics, "detail": ...,
    "run": {...}}``, the layout the tables and cards read), scrubbed of secrets and local paths."""

    method: dict[str, Any]
    metrics: dict[str, dict]
    info: dict[str, Any]
    command: str
    seed: int
    config: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    machine: str = field(default_factory=machine_description)
    versions: dict[str, str] = field(default_factory=versions)
    peak_rss_mb: float = field(default_factory=lambda: round(peak_rss_mb(), 1))

    @classmethod
    def for_config(
        cls, method, config, *, metrics: dict, info: dict, command: str, detail: dict | None = None
    ) -> "RunRecord":
        """``method``: the trainer's :class:`~hf_emo.method.MethodDescription` (or its dict)."""
        method = method.to_dict() if hasattr(method, "to_dict") else dict(method)
        return cls(
            method=method,
            metrics=metrics,
            info=info,
            command=command,
            seed=config.seed,
            config=config_changes(config),
            detail=detail or {},
        )

    @property
    def run(self) -> dict[str, Any]:
        """The ``run`` entry of ``metrics.json``, scrubbed."""
        run = {
            **self.info,
            "method": self.method,
            "seed": self.seed,
            "machine": self.machine,
            "peak_rss_mb": self.peak_rss_mb,
            "versions": self.versions,
            "command": self.command,
            "config": self.config,
        }
        for key in ("model", "teachers"):
            if key in run:
                run[key] = (
                    [public_name(v) for v in run[key]]
                    if isinstance(run[key], list)
                    else (
                        {k: public_name(v) for k, v in run[key].items()}
                        if isinstance(run[key], dict)
                        else public_name(run[key])
                    )
                )
        return scrub(run)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.metrics)
        if self.detail:
            out["detail"] = self.detail
        out["run"] = self.run
        return out

    def save(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "metrics.json"
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str), encoding="utf-8")
        return path
