"""The run folder: checks before a job touches it, resume from checkpoints, the manifest of the files a run
wrote, seeding, and the steps at the start and the end of every job."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = [
    "JobError",
    "JobArguments",
    "seed_everything",
    "prepare_output_dir",
    "last_complete_checkpoint",
    "checkpoint_problem",
    "write_manifest",
    "read_manifest",
    "MANIFEST",
    "start_job",
    "finish_job",
    "JobStart",
    "snapshot",
]

MANIFEST = "run_files.json"


class JobError(ValueError):
    """A job cannot start or finish as asked; the message says what to change, in one sentence."""


@dataclass
class JobArguments:
    """Settings of the job itself, shared by every method's run arguments."""

    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Replace an earlier run in output_dir (its recorded files and checkpoints are deleted first). "
            "Without it (or --resume_from_checkpoint) a non-empty output_dir is refused."
        },
    )


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
            raise JobError(
                f"resume_from_checkpoint asks for the last checkpoint, but {out} holds no complete checkpoint-N folder"
            )
        return str(ckpt)
    if request is not None:
        problem = checkpoint_problem(request)
        if problem is not None:
            raise JobError(f"cannot resume from {request}: {problem}")
        return request
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise JobError(
                f"output_dir {out} already holds files: pass --overwrite_output_dir true to replace that "
                "run, --resume_from_checkpoint true to continue it, or choose another output_dir"
            )
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
