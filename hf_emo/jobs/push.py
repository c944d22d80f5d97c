"""The push job behind ``hf-emo push``: the files a run recorded in its manifest (never a teacher, a checkpoint,
the pickled training arguments or a stale file of an earlier run) and the model card, checked for secrets
before anything leaves the machine."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from ..cards import public_base_model, render_model_card
from ..models.portable import CODE_FILE, make_portable
from ..scrub import TOKEN_VALUE
from .run_folder import MANIFEST, JobError, read_manifest

__all__ = ["HubError", "upload_files", "stage_upload", "push_run"]

UPLOAD_SUFFIXES = (".json", ".safetensors", ".txt", ".model", ".md", ".png", ".jinja", ".py")
NEVER_UPLOAD = (
    "training_args.bin",
    "optimizer.pt",
    "scheduler.pt",
    "rng_state.pth",
    "trainer_state.json",
    MANIFEST,
    "README.md",
)
TEXT_SUFFIXES = (".json", ".txt", ".md", ".jinja", ".py")


class HubError(RuntimeError):
    """The Hub could not be used (no token, unreachable, refused); no local file was changed."""


def upload_files(run_dir: str | Path) -> list[Path]:
    """The student's files that this run wrote (``run_files.json``): config, weights, tokenizer, report, plots."""
    run_dir = Path(run_dir)
    names = read_manifest(run_dir)
    if names is None:
        raise FileNotFoundError(
            f"{run_dir} has no {MANIFEST} (the list of files a run wrote): it is not a finished "
            "run of this hf_emo version; re-run the job to push it"
        )
    outside = [n for n in names if Path(n).is_absolute() or ".." in Path(n).parts or len(Path(n).parts) != 1]
    if outside:
        raise JobError(
            f"{run_dir / MANIFEST} lists {outside}, outside the run folder: only files directly in it are uploaded "
            "(nothing was staged)"
        )
    files = [
        run_dir / n
        for n in names
        if (run_dir / n).is_file() and Path(n).suffix in UPLOAD_SUFFIXES and n not in NEVER_UPLOAD
    ]
    if not any(p.suffix == ".safetensors" for p in files):
        raise FileNotFoundError(f"no *.safetensors weights among the files of the run in {run_dir}: nothing to upload")
    return files


def _check_no_secrets(files: list[Path], token: str | None) -> None:
    for f in files:
        if f.suffix not in TEXT_SUFFIXES:
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        if (token and token in text) or TOKEN_VALUE.search(text):
            raise HubError(f"refusing to upload: {f.name} contains an access token; nothing was uploaded")


def stage_upload(
    run_dir: str | Path,
    staging_dir: str | Path,
    repo_id: str | None = None,
    token: str | None = None,
    task: str | None = None,
) -> list[Path]:
    """Write exactly what would be uploaded (the card as README.md + the run's files, with the custom code that
    loads them with transformers alone) into ``staging_dir``, which must be empty or new (a dry run never
    overwrites files that are already there). ``task`` exports that task's head of a multi-task run as a
    standalone classifier. A run folder of an earlier hf_emo version is upgraded in the staged copy."""
    staging = Path(staging_dir)
    if staging.exists() and (not staging.is_dir() or any(staging.iterdir())):
        raise JobError(f"--dry-run {staging} already holds files: give an empty or new folder (nothing was written)")
    files = upload_files(run_dir)
    if task is not None:
        _check_task(run_dir, task)
    card = render_model_card(run_dir, repo_id, task=task)
    staging.mkdir(parents=True, exist_ok=True)
    if task is not None:
        out = _stage_task(run_dir, task, files, staging)
    else:
        out = [Path(shutil.copy2(f, staging / f.name)) for f in files if f.name != CODE_FILE]
    out += [p for p in make_portable(staging) if p not in out]
    _public_base_model(staging)
    (staging / "README.md").write_text(card, encoding="utf-8")
    out = sorted(out + [staging / "README.md"])
    try:
        _check_no_secrets(out, token)
    except HubError:  # as the push would: nothing staged, nothing left with the secret in it
        for f in out:
            f.unlink(missing_ok=True)
        raise
    return out


def _task_names(run_dir: str | Path) -> list[str] | None:
    config = json.loads((Path(run_dir) / "config.json").read_text(encoding="utf-8"))
    return [t["name"] for t in config.get("tasks", [])] if config.get("model_type") == "hf_emo_multitask" else None


def _check_task(run_dir: str | Path, task: str) -> None:
    names = _task_names(run_dir) if (Path(run_dir) / "config.json").is_file() else None
    if names is None:
        raise JobError(f"--task {task}: {run_dir} holds a single-task model; --task picks a head of a multi-task model")
    if task not in names:
        raise JobError(f"--task {task}: the multi-task model in {run_dir} has the tasks {names}")


def _stage_task(run_dir: str | Path, task: str, files: list[Path], staging: Path) -> list[Path]:
    """``task``'s head of the multi-task model in ``run_dir`` saved as a standalone classifier in ``staging``,
    with the run's tokenizer and report files."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(run_dir))
    model.task_classifier(task).save_pretrained(staging)
    out = sorted(staging.iterdir())
    model_files = {"config.json", CODE_FILE} | {f.name for f in files if f.suffix == ".safetensors"}
    return out + [Path(shutil.copy2(f, staging / f.name)) for f in files if f.name not in model_files]


# where each uploaded file names its base model: (file, path of keys to the name)
BASE_MODEL_FIELDS = (
    ("adapter_config.json", ("base_model_name_or_path",)),
    ("hf_emo_generative.json", ("base_model",)),
    ("config.json", ("encoder", "_name_or_path")),
)


def _public_base_model(staging: Path) -> None:
    """The uploaded copy names the base model (an adapter's, a wrapped encoder's) by its Hub id or its folder's
    name, not by a path (run folders written before 2026-12-04 kept the encoder's path in config.json)."""
    for name, keys in BASE_MODEL_FIELDS:
        path = staging / name
        if not path.is_file():
            continue
        data = json.loads(path.read_text())
        *parents, key = keys
        holder = data
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and holder.get(key):
            holder[key] = public_base_model(holder[key])
            path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def push_run(
    run_dir: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    commit_message: str = "Upload hf_emo student",
    task: str | None = None,
) -> str:
    """Create ``repo_id`` (if needed) and upload the student with its card. Returns the commit URL.

    Raises :class:`HubError` (one sentence) without a token or when the Hub cannot be reached; the run folder is
    only read."""
    from huggingface_hub import HfApi, get_token

    token = token or get_token()
    if not token:
        raise HubError(
            f"no Hugging Face token: run `hf auth login` or set HF_TOKEN (nothing was uploaded; {run_dir} is unchanged)"
        )
    with tempfile.TemporaryDirectory(prefix="hf_emo_push_") as tmp:
        stage_upload(run_dir, tmp, repo_id, token=token, task=task)
        api = HfApi(token=token)
        try:
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            info = api.upload_folder(folder_path=tmp, repo_id=repo_id, commit_message=commit_message)
        except Exception as e:  # network, auth and HTTP errors all mean the same thing to the user
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise HubError(
                f"could not upload {run_dir} to {repo_id} ({type(e).__name__}: {reason}); nothing was "
                f"changed in {run_dir}"
            ) from None
    return str(getattr(info, "commit_url", info))
