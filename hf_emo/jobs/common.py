"""What every job shares: seeding, the output folder and resume, scoring with threshold tuning, and the
``RunRecord`` that becomes ``metrics.json`` (scrubbed of secrets and local paths when it is written)."""

from __future__ import annotations

import json
import logging
import os
import resource
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.spec import TaskSpec
from ..metrics import task_metrics, tune_label_thresholds, tune_threshold
from ..scrub import public_name, scrub

logger = logging.getLogger(__name__)

__all__ = ["JobError", "JobArguments", "seed_everything", "prepare_output_dir", "last_complete_checkpoint",
           "checkpoint_problem", "score_splits", "RunRecord", "scrub", "public_name", "command_line",
           "write_manifest", "read_manifest", "machine_description", "peak_rss_mb", "MANIFEST", "start_job",
           "finish_job", "JobStart"]

MANIFEST = "run_files.json"


class JobError(ValueError):
    """A job cannot start or finish as asked; the message says what to change, in one sentence."""


@dataclass
class JobArguments:
    """Settings of the job itself, shared by every method's run arguments."""

    overwrite_output_dir: bool = field(default=False, metadata={
        "help": "Replace an earlier run in output_dir (its recorded files and checkpoints are deleted first). "
                "Without it (or --resume_from_checkpoint) a non-empty output_dir is refused."})


# -- seeding ---------------------------------------------------------------------------------------------
def seed_everything(config) -> None:
    """Seed Python, NumPy and torch from ``config.seed`` (``full_determinism`` also asks torch for deterministic
    kernels), and flush subnormal floats when ``config.flush_denormal`` says so. Jobs call it before building the
    model, so a new head starts from the same weights every time."""
    from transformers import enable_full_determinism, set_seed

    from ..trainers.emotion_config import apply_flush_denormal

    apply_flush_denormal(config)  # before any model: torch's worker threads copy the flag when they start
    if getattr(config, "full_determinism", False):
        enable_full_determinism(config.seed)
    else:
        set_seed(config.seed)


# -- the output folder and resume ------------------------------------------------------------------------
def checkpoint_problem(path: str | Path) -> str | None:
    """Why ``path`` is not a checkpoint Trainer can resume from, or ``None`` when it is complete.

    Trainer writes ``trainer_state.json`` last, so a run killed while saving leaves a folder without it (or with
    a truncated one)."""
    p = Path(path)
    if not p.is_dir():
        return "it is not a folder"
    state = p / "trainer_state.json"
    if not state.is_file():
        return "it has no trainer_state.json (the save was interrupted)"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "its trainer_state.json is truncated (the save was interrupted)"
    weights = [f for f in p.iterdir() if f.suffix in (".safetensors", ".bin") and f.name != "training_args.bin"]
    if not weights:
        return "it holds no model weights"
    return None


def _checkpoints(output_dir: Path) -> list[Path]:
    found = []
    for d in output_dir.glob("checkpoint-*"):
        step = d.name.removeprefix("checkpoint-")
        if d.is_dir() and step.isdigit():
            found.append((int(step), d))
    return [d for _, d in sorted(found)]


def last_complete_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest ``checkpoint-N`` in ``output_dir`` that can be resumed from; incomplete ones are skipped with a
    warning."""
    for d in reversed(_checkpoints(Path(output_dir))):
        problem = checkpoint_problem(d)
        if problem is None:
            return d
        logger.warning("skipping %s: %s", d, problem)
    return None


def _resume_request(value) -> str | None:
    if value is None or value is False:
        return None
    text = str(value).strip()
    if text.lower() in ("", "false", "no", "none", "0"):
        return None
    return "last" if text.lower() in ("true", "yes", "1", "last", "latest") else text


def prepare_output_dir(config, *, overwrite: bool = False) -> str | None:
    """Check ``config.output_dir`` before any work and return the checkpoint to resume from (or ``None``).

    ``config.resume_from_checkpoint``: ``true`` / ``last`` = the newest complete checkpoint in ``output_dir``, or a
    checkpoint folder. A non-empty ``output_dir`` is refused unless resuming or ``overwrite`` (which deletes the
    files the earlier run recorded in its manifest and its checkpoints, nothing else)."""
    out = Path(config.output_dir)
    request = _resume_request(getattr(config, "resume_from_checkpoint", None))
    if request == "last":
        ckpt = last_complete_checkpoint(out) if out.is_dir() else None
        if ckpt is None:
            raise JobError(f"resume_from_checkpoint asks for the last checkpoint, but {out} holds no complete "
                           "checkpoint-N folder")
        return str(ckpt)
    if request is not None:
        problem = checkpoint_problem(request)
        if problem is not None:
            raise JobError(f"cannot resume from {request}: {problem}")
        return request
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise JobError(f"output_dir {out} already holds files: pass --overwrite_output_dir true to replace that "
                           "run, --resume_from_checkpoint true to continue it, or choose another output_dir")
        _clear_previous_run(out)
    elif out.exists() and not out.is_dir():
        raise JobError(f"output_dir {out} is a file, not a folder")
    return None


def _clear_previous_run(out: Path) -> None:
    for name in read_manifest(out) or []:
        p = out / name
        if p.is_file():
            p.unlink()
    for d in _checkpoints(out):
        shutil.rmtree(d)
    (out / MANIFEST).unlink(missing_ok=True)


# -- the files of a run ----------------------------------------------------------------------------------
def snapshot(out_dir: str | Path) -> dict[str, tuple[int, int]]:
    """``{name: (size, mtime_ns)}`` of the files directly in ``out_dir``: what was there before a job wrote."""
    out = Path(out_dir)
    if not out.is_dir():
        return {}
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in out.iterdir() if p.is_file()}


def write_manifest(out_dir: str | Path, before: dict[str, tuple[int, int]]) -> list[str]:
    """Record in ``run_files.json`` the files this run wrote into ``out_dir`` (new or changed since ``before``):
    ``hf-emo push`` uploads from this list only, never a stale file of an earlier run."""
    out = Path(out_dir)
    now = snapshot(out)
    names = sorted(n for n, sig in now.items() if n != MANIFEST and before.get(n) != sig)
    (out / MANIFEST).write_text(json.dumps({"files": names}, indent=1) + "\n", encoding="utf-8")
    return names


def read_manifest(out_dir: str | Path) -> list[str] | None:
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        return list(json.loads(path.read_text(encoding="utf-8"))["files"])
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise JobError(f"{path} is not a valid run manifest ({e})") from None


# -- scoring ---------------------------------------------------------------------------------------------
def _sigmoid(x) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def score_splits(spec: TaskSpec, outputs: dict[str, tuple[np.ndarray, np.ndarray]], *, threshold: float = 0.5,
                 tune: bool = False, tune_split: str = "validation", per_label: bool = False
                 ) -> tuple[dict[str, dict], float | list[float]]:
    """Metrics of every split from ``{split: (logits, labels)}``; with ``tune`` (multi-label), the threshold that
    maximises the task metric on ``tune_split`` (``per_label``: one per label, each maximising that label's F1) and
    a ``<split>_tuned`` entry per split. Returns ``(results, threshold)``, the tuned threshold(s) or the given one."""
    results = {split: task_metrics(spec, y, lg, threshold) for split, (lg, y) in outputs.items()}
    if tune and spec.problem_type == "multi_label" and tune_split in outputs:
        lg, y = outputs[tune_split]
        threshold = tune_label_thresholds(y, _sigmoid(lg)) if per_label else \
            tune_threshold(y, _sigmoid(lg), spec.metric)[0]
        for split, (lg, y) in outputs.items():
            results[f"{split}_tuned"] = task_metrics(spec, y, lg, threshold)
    return results, threshold


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
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        value = getattr(config, f.name, None)
        if hasattr(value, "value"):  # enums
            value = value.value
        if hasattr(default, "value"):
            default = default.value
        if value != default:
            changed[f.name] = value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
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
    def for_config(cls, method, config, *, metrics: dict, info: dict, command: str,
                   detail: dict | None = None) -> "RunRecord":
        """``method``: the trainer's :class:`~hf_emo.method.MethodDescription` (or its dict)."""
        method = method.to_dict() if hasattr(method, "to_dict") else dict(method)
        return cls(method=method, metrics=metrics, info=info, command=command, seed=config.seed,
                   config=config_changes(config), detail=detail or {})

    @property
    def run(self) -> dict[str, Any]:
        """The ``run`` entry of ``metrics.json``, scrubbed."""
        run = {**self.info, "method": self.method, "seed": self.seed, "machine": self.machine,
               "peak_rss_mb": self.peak_rss_mb, "versions": self.versions, "command": self.command,
               "config": self.config}
        for key in ("model", "teachers"):
            if key in run:
                run[key] = [public_name(v) for v in run[key]] if isinstance(run[key], list) else \
                    ({k: public_name(v) for k, v in run[key].items()} if isinstance(run[key], dict)
                     else public_name(run[key]))
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


# -- the steps around every job ------------------------------------------------------------------------
@dataclass
class JobStart:
    """What :func:`start_job` found: the checkpoint to resume from, the folder's files before the run, the clock."""

    resume_from_checkpoint: str | None
    files_before: dict[str, tuple[int, int]]
    started: float

    def elapsed(self) -> float:
        import time

        return round(time.time() - self.started, 1)


def start_job(config, job: JobArguments | None = None) -> JobStart:
    """Before any work: check the output folder (refuse a non-empty one unless overwriting or resuming), take the
    Hub token out of the config (it would be pickled into ``training_args.bin``; ``push_to_hub`` reads it from
    ``HF_TOKEN`` instead), and seed everything, so the model and its head are built from the seed."""
    import time

    resume = prepare_output_dir(config, overwrite=bool(job and job.overwrite_output_dir))
    token = getattr(config, "hub_token", None)
    if token:
        if getattr(config, "push_to_hub", False):
            os.environ["HF_TOKEN"] = token
        config.hub_token = None
    seed_everything(config)
    return JobStart(resume, snapshot(config.output_dir), time.time())


def finish_job(out_dir: str | Path, start: JobStart) -> list[str]:
    """After the last file is written: the manifest of this run's files."""
    return write_manifest(out_dir, start.files_before)
