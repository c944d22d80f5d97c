"""The export job behind ``hf-emo export``: a run's classifier written for serving (:mod:`hf_emo.export`), checked
against the run on its task's test split, and put in place only when complete.

The folder is written in a hidden sibling (``.<name>.export/``, which also holds the lock of the export in
progress) and renamed into place at the end; an earlier export in the same folder is replaced only with
``overwrite``, and a folder that is not an export is never touched."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..data import TASKS
from ..export import EXPORT_FILE, export_classifier, exportable_model, is_exported, load_exported, usage_note
from ..inference import decision_threshold, model_task_spec, predict
from ..metrics import decisions, task_metrics
from ..models.factory import load_config
from .run_folder import JobError, acquire_lock

logger = logging.getLogger(__name__)

__all__ = ["default_export_dir", "export_run", "agreement"]


def default_export_dir(source: str, format: str, quantize: str) -> Path:
    """``<run>_<format>[_int8]`` beside the run folder (in the current folder for a Hub id)."""
    name = Path(source.rstrip("/")).name + f"_{format}" + ("" if quantize == "none" else f"_{quantize}")
    parent = Path(source).parent if Path(source).is_dir() else Path(".")
    return parent / name


def _check_target(source: str, out: Path, overwrite: bool) -> None:
    """Refuse, before anything is written, a target that is the run itself, inside it, not an export, or an export
    that ``overwrite`` does not allow replacing."""
    if Path(source).is_dir():
        src = Path(source).resolve()
        if out.resolve() == src or src in out.resolve().parents:
            raise JobError(f"output_dir {out} is the run folder {source} or inside it: choose a folder beside it")
    if out.exists() and not out.is_dir():
        raise JobError(f"output_dir {out} is a file: choose a folder")
    if out.is_dir() and any(out.iterdir()):
        if not is_exported(out):
            raise JobError(
                f"output_dir {out} holds files that are not an hf-emo export (no {EXPORT_FILE}): it was left as it is; "
                "choose another folder"
            )
        if not overwrite:
            raise JobError(f"output_dir {out} holds an earlier export: pass --overwrite to replace it")


def agreement(spec, reference_logits: np.ndarray, exported_logits: np.ndarray, labels, threshold) -> dict[str, Any]:
    """How often the exported model's decisions equal the PyTorch model's (every label of a multi-label text;
    regression: outputs within 0.01), the largest probability difference, and the task metric of each."""
    ref, exp = decisions(spec, reference_logits, threshold), decisions(spec, exported_logits, threshold)
    if spec.problem_type == "regression":
        same = np.all(np.abs(ref - exp) <= 0.01, axis=-1)
    elif spec.problem_type == "multi_label":
        same = np.all(ref == exp, axis=-1)
    else:
        same = ref == exp
    from ..metrics import probabilities

    out: dict[str, Any] = {
        "texts": int(len(same)),
        "agreement": round(float(np.mean(same)), 6),
        "disagreements": int(np.sum(~same)),
        "max_probability_difference": float(
            np.max(
                np.abs(
                    probabilities(reference_logits, spec.problem_type)
                    - probabilities(exported_logits, spec.problem_type)
                )
            )
        ),
    }
    if labels is not None:
        before, after = (
            task_metrics(spec, labels, reference_logits, threshold),
            task_metrics(spec, labels, exported_logits, threshold),
        )
        out["metric"] = spec.metric
        out["pytorch"] = {k: before[k] for k in before if isinstance(before[k], float)}
        out["exported"] = {k: after[k] for k in after if isinstance(after[k], float)}
        out["metric_difference"] = after[spec.metric] - before[spec.metric]
    return out


def _check(source: str, folder: Path, task: str | None, split: str, batch_size: int, data_dir: str | None):
    """The exported model against the PyTorch one on ``split`` of the model's task (``None`` when that task's data
    is not at hand: a warning says so)."""
    from ..data import load_task
    from ..models.factory import load_classifier, load_tokenizer

    exported = load_exported(folder)
    spec = model_task_spec(exported)
    if spec.name not in TASKS:
        logger.warning("no agreement check: the model's task %r is not a registered task", spec.name)
        return None
    try:
        dataset = load_task(spec.name, data_dir)[split]
    except (OSError, ValueError, KeyError) as e:
        logger.warning("no agreement check: the %s split of task %s cannot be loaded (%s)", split, spec.name, e)
        return None
    texts, labels = list(dataset["text"]), np.asarray(dataset["labels"])
    if task is not None:  # one head of a multi-task model: the reference is that head, as exported
        reference = exportable_model(source, task)
    else:
        reference = load_classifier(source)
    threshold = decision_threshold(getattr(exported.config, "hf_emo_threshold", None), spec.num_labels)
    ref = predict(reference, load_tokenizer(source), texts, batch_size=batch_size, device="cpu", desc="PyTorch").logits
    exp = exported.logits(texts, batch_size=batch_size, desc="exported")
    return {"task": spec.name, "split": split, **agreement(spec, ref, exp, labels, threshold)}


def export_run(
    source: str,
    output_dir: str | Path | None = None,
    *,
    format: str = "onnx",
    quantize: str = "none",
    task: str | None = None,
    overwrite: bool = False,
    optimize: bool = True,
    check_split: str | None = "test",
    batch_size: int = 32,
    data_dir: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Export ``source`` into ``output_dir`` (default :func:`default_export_dir`); returns the folder and its
    :data:`~hf_emo.export.EXPORT_FILE` record, which holds the test-split check unless ``check_split`` is ``None``."""
    import json

    load_config(source)  # a bad path or Hub id: one sentence before anything else
    out = Path(output_dir) if output_dir else default_export_dir(source, format, quantize)
    _check_target(source, out, overwrite)
    work = out.parent / f".{out.name}.export"
    lock = acquire_lock(work)
    staging, previous = work / "staging", work / "previous"
    if previous.is_dir() and not out.exists():  # an export killed while it swapped folders: put the old one back
        logger.warning("restoring the earlier export of %s, set aside by an export that did not finish", out)
        previous.rename(out)
    try:
        shutil.rmtree(staging, ignore_errors=True)
        manifest = export_classifier(source, staging, format=format, quantize=quantize, task=task, optimize=optimize)
        if check_split:
            check = _check(source, staging, task, check_split, batch_size, data_dir)
            if check is not None:
                manifest["check"] = check
                (staging / EXPORT_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        (staging / "README.md").write_text(usage_note(manifest, out.name), encoding="utf-8")
        _check_target(source, out, overwrite)  # unchanged while this export ran
        shutil.rmtree(previous, ignore_errors=True)
        if out.exists():
            out.rename(previous)
        staging.rename(out)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        lock.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return out, manifest
