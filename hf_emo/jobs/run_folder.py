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
LOCK = ".hf_emo.lock"  # the run writing into a folder (pid, host, start)
PREVIOUS = ".previous_run"  # a replaced run's files, kept until the run replacing it finishes


class JobError(ValueError):
    """A job cannot start or finish as asked; the message says what to change, in one sentence."""


@dataclass
class JobArguments:
    """Settings of the job itself, shared by every method's run arguments."""

    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Replace an earlier run in output_dir: its recorded files and checkpoints are set aside once the "
            "new run has read its inputs, and deleted when it finishes (put back if it fails). Without it (or "
            "--resume_from_checkpoint) a non-empty output_dir is refused."
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


def prepare_output_dir(config, *, overwrite: bool = False) -> tuple[str | None, bool]:
    """Check ``config.output_dir`` before any work; touch nothing. Returns ``(checkpoint to resume from or None,
    whether an earlier run is to be replaced)``.

    ``config.resume_from_checkpoint``: ``true`` / ``last`` = the newest complete checkpoint in ``output_dir``, or a
    checkpoint folder. A non-empty ``output_dir`` is refused unless resuming from one of its own checkpoints or
    ``overwrite`` (the earlier run's recorded files and checkpoints are then set aside once the new run has read its
    inputs, and deleted only when it finishes: :meth:`JobStart.set_aside`)."""
    out = Path(config.output_dir)
    if out.exists() and not out.is_dir():
        raise JobError(f"output_dir {out} is a file, not a folder")
    if (out / PREVIOUS).exists():
        raise JobError(
            f"output_dir {out} holds {PREVIOUS}/, the files of a run that a replacement run set aside and did not "
            f"finish: move them back into {out} to keep that run, or delete {out / PREVIOUS}, then start again"
        )
    request = _resume_request(getattr(config, "resume_from_checkpoint", None))
    if request == "last":
        ckpt = last_complete_checkpoint(out) if out.is_dir() else None
        if ckpt is None:
            raise JobError(
                f"resume_from_checkpoint asks for the last checkpoint, but {out} holds no complete checkpoint-N folder"
            )
        return str(ckpt), False
    holds_files = out.is_dir() and any(p.name != LOCK for p in out.iterdir())
    if request is not None:
        problem = checkpoint_problem(request)
        if problem is not None:
            raise JobError(f"cannot resume from {request}: {problem}")
        inside = out.is_dir() and Path(request).resolve().parent == out.resolve()
        if holds_files and not inside and not overwrite:
            raise JobError(
                f"cannot resume {request} into output_dir {out}: that folder holds another run's files; resume "
                "into an empty output_dir, or pass --overwrite_output_dir true to replace that run"
            )
        return request, holds_files and not inside
    if holds_files and not overwrite:
        raise JobError(
            f"output_dir {out} already holds files: pass --overwrite_output_dir true to replace that "
            "run, --resume_from_checkpoint true to continue it, or choose another output_dir"
        )
    return None, holds_files


def _previous_run_entries(out: Path) -> list[Path]:
    """What replacing the run in ``out`` moves: the files its manifest lists, its checkpoints and the manifest."""
    entries = [out / n for n in read_manifest(out) or [] if (out / n).is_file()]
    return entries + _checkpoints(out) + ([out / MANIFEST] if (out / MANIFEST).is_file() else [])


# -- one run at a time in a folder --------------------------------------------------------------------------
def acquire_lock(out: Path) -> Path:
    """Create ``out/.hf_emo.lock`` (the holder's pid, host and start), atomically; a lock whose process is gone
    (same host) is taken over with a warning. Another live holder: a :class:`JobError` naming it."""
    import socket
    import time

    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                holder = {}
            if holder.get("host") == me["host"] and not _alive(holder.get("pid")):
                logger.warning("taking over the lock of pid %s in %s: that process is gone", holder.get("pid"), out)
                path.unlink(missing_ok=True)
                continue
            raise JobError(
                f"output_dir {out} is in use by another hf-emo run (pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')} since {holder.get('started', '?')}): wait for it to finish or choose "
                f"another output_dir (a lock left by a run that died on another machine can be deleted: {path})"
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        return path
    raise JobError(f"could not take the lock {path}")


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:  # another user's live process
        return True
    return True


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
    names = sorted(n for n, sig in now.items() if n not in (MANIFEST, LOCK) and before.get(n) != sig)
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
    """What :func:`start_job` found and holds: the checkpoint to resume from, whether an earlier run is to be
    replaced, the folder's files before the run, the clock, and the folder's lock (main process)."""

    resume_from_checkpoint: str | None
    files_before: dict[str, tuple[int, int]]
    started: float
    output_dir: Path | None = None
    replace: bool = False
    lock: Path | None = None
    created_folder: bool = False
    moved: list[str] = field(default_factory=list)

    def elapsed(self) -> float:
        import time

        return round(time.time() - self.started, 1)

    def set_aside(self) -> None:
        """Move the earlier run's files into ``.previous_run/`` (main process), now that the new run has read every
        input and built its model: a run that fails to start never touches the earlier one."""
        if not self.replace or self.lock is None:
            return
        keep = self.output_dir / PREVIOUS
        keep.mkdir()
        for entry in _previous_run_entries(self.output_dir):
            entry.rename(keep / entry.name)
            self.moved.append(entry.name)
        self.files_before = snapshot(self.output_dir)

    def abort(self) -> None:
        """The run failed or was interrupted: put the earlier run's files back (over any of the same name the new
        run wrote), release the lock, and remove the folder if this run created it and left it empty."""
        if self.lock is None:
            return
        keep = self.output_dir / PREVIOUS
        for name in self.moved:
            target = self.output_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            (keep / name).replace(target)
        if keep.is_dir() and not any(keep.iterdir()):
            keep.rmdir()
        self.release()
        if self.created_folder and self.output_dir.is_dir() and not any(self.output_dir.iterdir()):
            self.output_dir.rmdir()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.unlink(missing_ok=True)
            self.lock = None


def start_job(config, job: JobArguments | None = None) -> JobStart:
    """Before any work: take the folder's lock, check the output folder (refuse a non-empty one unless overwriting
    or resuming; nothing is deleted here), take the Hub token out of the config (it would be pickled into
    ``training_args.bin``; ``push_to_hub`` reads it from ``HF_TOKEN`` instead), and seed everything, so the model and
    its head are built from the seed."""
    import time

    out = Path(config.output_dir)
    main = getattr(config, "process_index", 0) == 0
    created = not out.exists()
    if out.exists() and not out.is_dir():
        raise JobError(f"output_dir {out} is a file, not a folder")
    lock = acquire_lock(out) if main else None
    try:
        resume, replace = prepare_output_dir(config, overwrite=bool(job and job.overwrite_output_dir))
    except BaseException:
        if lock is not None:
            lock.unlink(missing_ok=True)
            if created and out.is_dir() and not any(out.iterdir()):
                out.rmdir()
        raise
    token = getattr(config, "hub_token", None)
    if token:
        if getattr(config, "push_to_hub", False):
            os.environ["HF_TOKEN"] = token
        config.hub_token = None
    seed_everything(config)
    return JobStart(resume, snapshot(out), time.time(), output_dir=out, replace=replace, lock=lock,
                    created_folder=created)  # fmt: skip


def finish_job(out_dir: str | Path, start: JobStart) -> list[str]:
    """After the last file is written: the manifest of this run's files; the replaced run's files go; the lock
    is released."""
    names = write_manifest(out_dir, start.files_before)
    if start.moved:
        shutil.rmtree(Path(out_dir) / PREVIOUS, ignore_errors=True)
    start.release()
    return names
