"""Teachers for distillation: label-space checks, batched logit caching, and the forward pass of live teachers."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from datasets import Dataset, DatasetDict, Sequence as HFSequence, Value

from .data.spec import TaskSpec

__all__ = ["teacher_label_names", "check_teacher_label_space", "cache_teacher_logits", "as_teacher_list"]

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def as_teacher_list(teachers) -> list:
    """``None`` -> ``[]``; one model or path -> ``[it]``; a list / tuple -> a list."""
    if teachers is None:
        return []
    return list(teachers) if isinstance(teachers, (list, tuple)) else [teachers]


def teacher_label_names(teacher) -> list[str] | None:
    """The teacher's label names in output order, or ``None`` when its config only has ``LABEL_i`` names."""
    from .models.factory import task_spec_of

    spec = task_spec_of(teacher)
    if spec is not None:
        return list(spec.label_names)
    cfg = teacher.config
    id2label = getattr(cfg, "id2label", None) or {}
    names = [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(cfg.num_labels)]
    return None if all(n.startswith("LABEL_") for n in names) else names


def check_teacher_label_space(teacher, spec: TaskSpec, index: int = 0) -> None:
    """Fail unless the teacher predicts exactly the student's labels, in the same order (checked on names)."""
    names = teacher_label_names(teacher)
    student = list(spec.label_names)
    where = f"teacher {index} ({getattr(teacher.config, '_name_or_path', '') or type(teacher).__name__})"
    if names is None:
        if teacher.config.num_labels != len(student):
            raise ValueError(f"{where} has {teacher.config.num_labels} outputs, the student's task {spec.name!r} has "
                             f"{len(student)} labels {student}")
        raise ValueError(f"{where} has no label names (only LABEL_i) so its label space cannot be checked against "
                         f"task {spec.name!r} {student}; set teacher.config.id2label to the names in output order")
    if names != student:
        raise ValueError(f"{where} label space differs from the student's task {spec.name!r}:\n"
                         f"  teacher: {names}\n  student: {student}")


def _pad(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    n = max(len(r["input_ids"]) for r in rows)
    out = {}
    for key in MODEL_INPUTS:
        if key not in rows[0]:
            continue
        fill = pad_id if key == "input_ids" else 0
        out[key] = torch.tensor([list(r[key]) + [fill] * (n - len(r[key])) for r in rows], dtype=torch.long)
    return out


@torch.inference_mode()
def _logits_of(teacher, batch: dict[str, torch.Tensor], device) -> np.ndarray:
    batch = {k: v.to(device) for k, v in batch.items()}
    return teacher(**batch).logits.float().cpu().numpy()


def cache_teacher_logits(teachers, dataset: Dataset | DatasetDict, tokenizer=None, *, text_column: str = "text",
                         max_length: int | None = None, batch_size: int = 64, device: str | torch.device | None = None,
                         column: str = "teacher_logits", desc: str = "teacher logits") -> Dataset | DatasetDict:
    """Run the teacher(s) once over ``dataset`` and store their logits in a ``column`` of shape ``(C,)``,
    or ``(K, C)`` (stacked) for ``K`` teachers.

    Without ``tokenizer`` the dataset's ``input_ids`` / ``attention_mask`` are used (teacher and student share
    a tokenizer, as in born-again distillation). With ``tokenizer`` (one, or one per teacher) the texts in
    ``text_column`` are tokenised for the teacher, with its ``config.text_prefix`` (cross-lingual teachers read
    another column, e.g. the English side). Teachers run in eval mode under ``torch.inference_mode``.
    """
    from tqdm.auto import tqdm

    if isinstance(dataset, DatasetDict):
        return DatasetDict({k: cache_teacher_logits(teachers, v, tokenizer, text_column=text_column,
                                                    max_length=max_length, batch_size=batch_size, device=device,
                                                    column=column, desc=f"{desc} [{k}]") for k, v in dataset.items()})
    teachers = as_teacher_list(teachers)
    if not teachers:
        raise ValueError("cache_teacher_logits needs at least one teacher model")
    tokenizers: Sequence[Any] = tokenizer if isinstance(tokenizer, (list, tuple)) else [tokenizer] * len(teachers)
    if len(tokenizers) != len(teachers):
        raise ValueError(f"{len(tokenizers)} tokenizers for {len(teachers)} teachers")
    if any(t is None for t in tokenizers) and "input_ids" not in dataset.column_names:
        raise ValueError(f"dataset has no 'input_ids' column (columns: {dataset.column_names}): tokenise it, or "
                         "pass tokenizer= to tokenise its text column for the teacher")
    if any(t is not None for t in tokenizers) and text_column not in dataset.column_names:
        raise ValueError(f"dataset has no text column {text_column!r} (columns: {dataset.column_names})")
    per_teacher = []
    for k, (teacher, tok) in enumerate(zip(teachers, tokenizers)):
        was_training = teacher.training
        teacher.eval()
        tdev = next(teacher.parameters()).device if device is None else torch.device(device)
        teacher.to(tdev)
        prefix = getattr(teacher.config, "text_prefix", "") or ""
        limit = max_length or getattr(teacher.config, "max_seq_length", None) or 512
        pad_id = getattr(teacher.config, "pad_token_id", None) or 0
        chunks = []
        for i in tqdm(range(0, len(dataset), batch_size), desc=f"{desc} (teacher {k + 1}/{len(teachers)})",
                      disable=len(dataset) <= batch_size):
            rows = dataset[i:i + batch_size]
            if tok is None:
                keys = [c for c in MODEL_INPUTS if c in rows]
                batch = _pad([{c: rows[c][j] for c in keys} for j in range(len(rows["input_ids"]))], pad_id)
            else:
                batch = dict(tok([prefix + t for t in rows[text_column]], truncation=True, max_length=limit,
                                 padding=True, return_tensors="pt"))
            chunks.append(_logits_of(teacher, batch, tdev))
        teacher.train(was_training)
        per_teacher.append(np.concatenate(chunks) if chunks else np.zeros((0, teacher.config.num_labels), np.float32))
    values = per_teacher[0] if len(teachers) == 1 else np.stack(per_teacher, axis=1)
    feature = HFSequence(Value("float32")) if values.ndim == 2 else HFSequence(HFSequence(Value("float32")))
    if column in dataset.column_names:
        dataset = dataset.remove_columns(column)
    return dataset.add_column(column, values.astype(np.float32).tolist(), feature=feature)
