"""The evaluation job behind ``hf-emo evaluate``: one model, or several and their ensemble, on a registered
task's split or a user's labelled file, with loyalty to teachers; and Matei's Table 6 of per-label
probabilities (``hf-emo table probs``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import TASKS, load_local, load_task
from ..data.spec import TaskSpec, problem_type_name
from ..ensemble import evaluate_ensemble
from ..export import is_exported, load_exported
from ..inference import decision_threshold, mean_threshold, model_task_spec, predict
from ..metrics import detailed_report, loyalty_metrics, task_metrics
from ..models import load_classifier, load_tokenizer
from ..teachers import check_teacher_label_space
from .record import inference_device
from .run_folder import JobError

__all__ = ["load_eval_split", "evaluate_models"]


def load_eval_split(
    spec: TaskSpec | None,
    *,
    task: str | None = None,
    split: str = "test",
    data_dir: str | None = None,
    file: str | None = None,
    text_column: str = "text",
    label_columns: str | list[str] = "label",
    problem_type: str | None = None,
    label_sep: str | None = None,
):
    """``(dataset, spec)`` to score a model whose task is ``spec`` on: ``split`` of a registered ``task`` or a
    labelled ``file``. A file's labels are matched to the model's by name: a label the model does not know, or
    per-label columns that are not the model's labels, is refused listing both."""
    if file:
        return _load_file_for(
            spec,
            file=file,
            text_column=text_column,
            label_columns=label_columns,
            problem_type=problem_type,
            label_sep=label_sep,
        )
    task = task or (spec.name if spec is not None else None)
    if task is None:
        raise JobError("--task or --file is needed for a model without an hf_emo task spec")
    if task not in TASKS:
        raise JobError(f"unknown task {task!r}; registered tasks: {sorted(TASKS)}")
    dd = load_task(task, data_dir)
    if split not in dd:
        raise JobError(f"task {task!r} has no split {split!r}; its splits are {sorted(dd)}")
    return dd[split], TASKS[task]


def _load_file_for(spec: TaskSpec | None, *, file: str, text_column: str, label_columns, problem_type, label_sep):
    if isinstance(label_columns, (list, tuple)) and len(label_columns) == 1:
        label_columns = label_columns[0]
    problem_type = problem_type_name(problem_type) or (spec.problem_type if spec is not None else None)
    if problem_type is None:
        raise JobError("--problem-type is needed to read a labelled file for a model without an hf_emo task spec")
    if spec is not None and problem_type != spec.problem_type:
        raise JobError(f"--problem-type {problem_type} differs from the model's {spec.problem_type}")
    common = dict(text_column=text_column, problem_type=problem_type, label_sep=label_sep)
    if spec is None:
        dd = load_local({"test": file}, label_columns=label_columns, **common)
        return dd["test"], dd.task_spec
    model_names = list(spec.label_names)
    if isinstance(label_columns, (list, tuple)):
        if sorted(label_columns) != sorted(model_names):
            raise JobError(f"{file}: its label columns {list(label_columns)} are not the model's labels {model_names}")
        dd = load_local({"test": file}, label_columns=model_names, label_names=model_names, **common)
    elif problem_type == "regression":
        if len(model_names) != 1:
            raise JobError(
                f"{file}: one target column {label_columns!r} for a model with {len(model_names)} "
                f"dimensions {model_names}; pass one column per dimension"
            )
        dd = load_local({"test": file}, label_columns=label_columns, label_names=model_names, **common)
    else:
        found = list(load_local({"test": file}, label_columns=label_columns, **common).task_spec.label_names)
        unknown = [n for n in found if n not in model_names]
        if unknown:
            raise JobError(
                f"{file}: label(s) {unknown} are not the model's; the file's labels: {found}; the "
                f"model's labels: {model_names}"
            )
        dd = load_local({"test": file}, label_columns=label_columns, label_names=model_names, **common)
    ds = dd["test"]
    return ds, TaskSpec(spec.name, spec.problem_type, spec.label_names, spec.language, metric=spec.metric)


def evaluate_models(
    models: list[str],
    *,
    teachers: list[str] = (),
    threshold: float | None = None,
    split: str = "test",
    batch_size: int = 32,
    **data,
) -> dict:
    """Metrics of ``models`` on a split (``data``: the arguments of :func:`load_eval_split`).

    One model: ``{"split", "threshold", <metrics>, "detail", "loyalty"?, "teachers"?}``. Several: each member's
    metrics and the ensemble's (mean probabilities), the latter also under ``<split>`` so ``hf-emo table seeds``
    reads it like a run."""
    loaded = [load_exported(m) if is_exported(m) else load_classifier(m) for m in models]  # `hf-emo export` folders too
    spec = model_task_spec(loaded[0])
    ds, spec = load_eval_split(spec, split=split, **data)
    for path, m in zip(models, loaded):
        try:
            check_teacher_label_space(m, spec)
        except ValueError as e:
            raise JobError(f"model {path}: {e}") from None
    texts, labels = list(ds["text"]), np.asarray(ds["labels"])
    device = inference_device()
    logits = {
        path: (
            predict(path, texts=texts, batch_size=batch_size, desc=f"predicting {path}")
            if is_exported(path)
            else predict(
                m, load_tokenizer(path), texts, batch_size=batch_size, device=device, desc=f"predicting {path}"
            )
        ).logits
        for path, m in zip(models, loaded)
    }
    if len(models) > 1:
        thr = (
            decision_threshold(threshold, spec.num_labels)
            if threshold is not None
            else mean_threshold([getattr(m.config, "hf_emo_threshold", None) for m in loaded], spec.num_labels)
        )
        res = evaluate_ensemble(spec, labels, logits, thr)
        return {
            "split": split,
            "threshold": thr,
            split: res["ensemble"],
            **res,
            "run": {"task": spec.name, "ensemble_of": list(models)},
        }
    student = logits[models[0]]
    saved = getattr(loaded[0].config, "hf_emo_threshold", None)
    thr = decision_threshold(threshold if threshold is not None else saved, spec.num_labels)
    res = {"split": split, "threshold": thr, **task_metrics(spec, labels, student, thr)}
    if teachers:
        t_logits = []
        for i, path in enumerate(teachers):
            teacher = load_classifier(path)
            check_teacher_label_space(teacher, spec, i)
            t_logits.append(
                predict(
                    teacher, load_tokenizer(path), texts, batch_size=batch_size, device=device, desc=f"teacher {path}"
                ).logits
            )
        stacked = t_logits[0] if len(t_logits) == 1 else np.stack(t_logits, axis=1)
        res["loyalty"] = loyalty_metrics(spec, stacked, student, thr)
        res["teachers"] = {p: task_metrics(spec, labels, lg, thr) for p, lg in zip(teachers, t_logits)}
    res["detail"] = detailed_report(spec, labels, student, thr)
    return res


def write_json(path: str | Path, text: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
