"""Teachers for distillation: label-space checks, batched logit caching, and the forward pass of live teachers."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from datasets import Dataset, DatasetDict, Sequence as HFSequence, Value

from .data.spec import TaskSpec

__all__ = [
    "Teachers",
    "teacher_label_names",
    "check_teacher_label_space",
    "check_same_vocabulary",
    "cache_teacher_logits",
    "teacher_logits_from_column",
    "as_teacher_list",
]


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


def teacher_problem_type(teacher) -> str | None:
    """The problem type a model was trained for: its hf_emo task, else transformers' ``config.problem_type``;
    ``None`` when neither says (a plain head whose problem type transformers infers only at the first loss)."""
    spec = getattr(teacher.config, "hf_emo_task", None)
    if spec:
        return spec.get("problem_type") if isinstance(spec, dict) else getattr(spec, "problem_type", None)
    hf = getattr(teacher.config, "problem_type", None)
    return {"multi_label_classification": "multi_label", "single_label_classification": "single_label",
            "regression": "regression"}.get(hf or "")  # fmt: skip


def check_teacher_label_space(teacher, spec: TaskSpec, index: int = 0) -> None:
    """Fail unless the teacher predicts the student's labels in the same order: names must match when the teacher has
    names; a teacher with only ``LABEL_i`` names is taken on the count alone (the terms the student gets)."""
    names = teacher_label_names(teacher)
    student = list(spec.label_names)
    where = f"teacher {index} ({getattr(teacher.config, '_name_or_path', '') or type(teacher).__name__})"
    if teacher.config.num_labels != len(student):
        raise ValueError(
            f"{where} has {teacher.config.num_labels} outputs, the student's task {spec.name!r} has "
            f"{len(student)} labels {student}"
        )
    problem = teacher_problem_type(teacher)
    if problem is not None and problem != spec.problem_type:
        raise ValueError(
            f"{where} was trained for a {problem} task and the student's task {spec.name!r} is {spec.problem_type}: "
            "its outputs mean other things (a softmax over the labels is not one sigmoid per label); distil from a "
            f"{spec.problem_type} teacher"
        )
    generic_student = all(n.startswith("LABEL_") for n in student)
    if names is not None and not generic_student and names != student:
        raise ValueError(
            f"{where} label space differs from the student's task {spec.name!r}:\n"
            f"  teacher: {names}\n  student: {student}"
        )


def check_same_vocabulary(teacher_tokenizers: Sequence[Any], student_tokenizer, names: Sequence[str] = ()) -> None:
    """Live teachers read the student's ``input_ids``: refuse a teacher whose tokenizer maps text differently (cache
    its logits instead: :func:`cache_teacher_logits` tokenises for each teacher)."""
    vocab = student_tokenizer.get_vocab()
    for i, tokenizer in enumerate(teacher_tokenizers):
        t_vocab = tokenizer.get_vocab()
        if t_vocab != vocab:
            name = names[i] if i < len(names) else f"teacher {i}"
            raise ValueError(
                f"{name} has another tokenizer than the student ({len(t_vocab)} vs {len(vocab)} pieces): "
                "live teachers read the student's input ids, so cache the teachers' logits instead "
                "(each teacher then tokenises the text itself)"
            )


class Teachers:
    """The frozen teachers of one task, as a component any Trainer can hold.

    Loads paths / Hub ids, checks each teacher's label space against the task, keeps every teacher in eval mode
    without gradients (optionally cast to ``dtype``), places them with the trainer's Accelerator (never wrapped for
    DDP, never sharded: a frozen model needs no engine), and runs them under ``torch.inference_mode``. Teachers are
    not parameters of the student, so they are neither optimised nor saved with it.
    """

    DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

    def __init__(self, models=None, spec: TaskSpec | None = None, *, dtype: str | None = None) -> None:
        loaded = [self._load(m) for m in as_teacher_list(models)]
        if spec is not None:
            for i, teacher in enumerate(loaded):
                check_teacher_label_space(teacher, spec, i)
        if dtype is not None and dtype not in self.DTYPES:
            raise ValueError(f"teacher dtype must be one of {sorted(self.DTYPES)}, got {dtype!r}")
        for teacher in loaded:
            teacher.eval()
            teacher.requires_grad_(False)
            if dtype:
                teacher.to(self.DTYPES[dtype])
        self.models = loaded

    @staticmethod
    def _load(teacher):
        if isinstance(teacher, str):
            from .models.factory import load_classifier

            return load_classifier(teacher)
        return teacher

    def __len__(self) -> int:
        return len(self.models)

    def __iter__(self):
        return iter(self.models)

    def place(self, accelerator, *, sharded_training: bool = False) -> "Teachers":
        """Move the teachers to the accelerator's device (``sharded_training``: DeepSpeed / FSDP, where a frozen
        teacher is simply moved, not given to the engine)."""
        if sharded_training:
            self.models = [t.to(accelerator.device) for t in self.models]
        else:
            self.models = [accelerator.prepare_model(t, evaluation_mode=True) for t in self.models]
        return self

    def logits(
        self, model_inputs: dict[str, torch.Tensor], output_hidden_states: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The teachers' logits, ``(B, C)`` for one teacher or ``(B, K, C)`` for ``K``, and (when asked) every
        teacher's last hidden states."""
        outs, hidden = [], []
        for teacher in self.models:
            teacher.eval()
            with torch.inference_mode():
                out = teacher(**model_inputs, **({"output_hidden_states": True} if output_hidden_states else {}))
            # clone outside inference mode: inference tensors cannot be saved for backward
            outs.append(out.logits.float().clone())
            if output_hidden_states:
                hidden.append(out.hidden_states[-1].float().clone())
        return (outs[0] if len(outs) == 1 else torch.stack(outs, dim=1)), hidden

    def cache(self, dataset, tokenizer=None, **kwargs):
        """:func:`cache_teacher_logits` with these teachers."""
        return cache_teacher_logits(self.models, dataset, tokenizer, **kwargs)


def cache_teacher_logits(
    teachers,
    dataset: Dataset | DatasetDict,
    tokenizer=None,
    *,
    text_column: str = "text",
    max_length: int | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    column: str = "teacher_logits",
    desc: str = "teacher logits",
    cache_dir: str | None = None,
    digests: list[str] | None = None,
) -> Dataset | DatasetDict:
    """Run the teacher(s) once over ``dataset`` and store their logits in a ``column`` of shape ``(C,)``,
    or ``(K, C)`` (stacked) for ``K`` teachers.

    Without ``tokenizer`` the dataset's ``input_ids`` / ``attention_mask`` are used (teacher and student share
    a tokenizer, as in born-again distillation). With ``tokenizer`` (one, or one per teacher) the texts in
    ``text_column`` are tokenised for the teacher, with its ``config.text_prefix`` (cross-lingual teachers read
    another column, e.g. the English side). Teachers run in eval mode under ``torch.inference_mode``. With
    ``cache_dir`` each teacher's logits are also kept on disk, keyed by its weights and the dataset's fingerprint,
    and later calls (the other runs of a grid or study, an ensemble that holds the teacher) load them; ``digests``
    (the teachers' weight hashes) is computed once for all splits when not given.
    """
    from .data.cache import disk_cached, weights_digest
    from .models.forward import model_batches

    if cache_dir is not None and digests is None:  # hash the teachers' weights once, not once per split
        digests = [weights_digest(t) for t in as_teacher_list(teachers)]
    how = dict(text_column=text_column, max_length=max_length, batch_size=batch_size, device=device, column=column)
    if isinstance(dataset, DatasetDict):
        return DatasetDict(
            {
                k: cache_teacher_logits(
                    teachers,
                    v,
                    tokenizer,
                    **how,
                    desc=f"{desc} [{k}]",
                    cache_dir=cache_dir,
                    digests=digests,
                )
                for k, v in dataset.items()
            }
        )
    teachers = as_teacher_list(teachers)
    if not teachers:
        raise ValueError("cache_teacher_logits needs at least one teacher model")
    tokenizers: Sequence[Any] = tokenizer if isinstance(tokenizer, (list, tuple)) else [tokenizer] * len(teachers)
    if len(tokenizers) != len(teachers):
        raise ValueError(f"{len(tokenizers)} tokenizers for {len(teachers)} teachers")
    if cache_dir is not None:

        def member(k: int) -> Dataset:  # each teacher is kept on its own: an ensemble reuses its members' logits
            ident = {
                "teachers": [digests[k]],
                "rows": len(dataset),
                "fingerprint": getattr(dataset, "_fingerprint", None),
                "text_column": text_column,
                "tokenizers": [getattr(tokenizers[k], "name_or_path", None) if tokenizers[k] is not None else None],
                "max_length": max_length,
                "column": column,
            }
            return disk_cached(
                cache_dir,
                ident,
                lambda: cache_teacher_logits(
                    [teachers[k]],
                    dataset,
                    tokenizers[k],
                    **how,
                    desc=f"{desc} (teacher {k + 1}/{len(teachers)})" if len(teachers) > 1 else desc,
                ),
            )

        if len(teachers) == 1:
            return member(0)
        values = np.stack([np.asarray(member(k)[column], dtype=np.float32) for k in range(len(teachers))], axis=1)
        return _with_column(dataset, column, values)
    if any(t is None for t in tokenizers) and "input_ids" not in dataset.column_names:
        raise ValueError(
            f"dataset has no 'input_ids' column (columns: {dataset.column_names}): tokenise it, or "
            "pass tokenizer= to tokenise its text column for the teacher"
        )
    if any(t is not None for t in tokenizers) and text_column not in dataset.column_names:
        raise ValueError(f"dataset has no text column {text_column!r} (columns: {dataset.column_names})")
    per_teacher = []
    for k, (teacher, teacher_tokenizer) in enumerate(zip(teachers, tokenizers)):
        pad_id = getattr(teacher.config, "pad_token_id", None) or 0
        with torch.inference_mode():
            chunks = [
                teacher(**batch).logits.float().cpu().numpy()
                for batch in model_batches(
                    teacher,
                    dataset,
                    teacher_tokenizer,
                    text_column=text_column,
                    max_length=max_length,
                    batch_size=batch_size,
                    device=device,
                    pad_id=pad_id,
                    desc=f"{desc} (teacher {k + 1}/{len(teachers)})" if len(teachers) > 1 else desc,
                )
            ]
        per_teacher.append(np.concatenate(chunks) if chunks else np.zeros((0, teacher.config.num_labels), np.float32))
    return _with_column(dataset, column, per_teacher[0] if len(teachers) == 1 else np.stack(per_teacher, axis=1))


def _with_column(dataset: Dataset, column: str, values: np.ndarray) -> Dataset:
    """``dataset`` with ``column`` holding ``values`` (``(N, C)``, or ``(N, K, C)`` for K teachers), replaced if
    present."""
    feature = HFSequence(Value("float32")) if values.ndim == 2 else HFSequence(HFSequence(Value("float32")))
    if column in dataset.column_names:
        dataset = dataset.remove_columns(column)
    return dataset.add_column(column, values.astype(np.float32).tolist(), feature=feature)


def teacher_logits_from_column(
    dataset: Dataset | DatasetDict,
    source: str,
    spec: TaskSpec,
    *,
    temperature: float = 1.0,
    column: str = "teacher_logits",
) -> Dataset | DatasetDict:
    """A ``column`` of teacher logits built from ``source``, a column of per-label teacher *probabilities*, e.g.
    REDv2's ``soft_labels`` (each label's share of the annotators' votes): KD then distils the annotators'
    disagreement, the soft-label training of Peterson et al. 2019 and Uma et al. 2021. The logits are those that the
    KD loss at ``temperature`` turns back into the probabilities (:func:`hf_emo.losses.teacher_logits_from_probs`).

    Each row must hold ``spec.num_labels`` numbers in [0, 1] (summing to 1 for a single-label task); a bad one is
    refused with its split, row and value."""
    if isinstance(dataset, DatasetDict):
        return DatasetDict(
            {k: _teacher_logits_from_column(v, source, spec, temperature, column, k) for k, v in dataset.items()}
        )
    return _teacher_logits_from_column(dataset, source, spec, temperature, column, "dataset")


def _teacher_logits_from_column(
    dataset: Dataset, source: str, spec: TaskSpec, temperature: float, column: str, split: str
) -> Dataset:
    from .losses import teacher_logits_from_probs

    if source not in dataset.column_names:
        raise ValueError(f"{split}: no teacher-probability column {source!r}; its columns are {dataset.column_names}")
    rows = dataset[source]
    for i, row in enumerate(rows):
        bad = (
            not isinstance(row, (list, tuple))
            or len(row) != spec.num_labels
            or any(
                isinstance(v, bool)
                or not isinstance(v, (int, float))
                or not np.isfinite(v)
                or (spec.problem_type != "regression" and not 0.0 <= v <= 1.0)
                for v in row
            )
        )
        if not bad and spec.problem_type == "single_label" and abs(sum(row) - 1.0) > 1e-3:
            bad = True
        if bad:
            want = (
                "numbers in [0, 1] summing to 1"
                if spec.problem_type == "single_label"
                else "numbers"
                if spec.problem_type == "regression"
                else "numbers in [0, 1]"
            )
            raise ValueError(
                f"{split}, row {i}, column {source!r}: {row!r} is not {spec.num_labels} {want} "
                f"(one per label of {spec.name!r}: {list(spec.label_names)})"
            )
    probs = torch.tensor(rows, dtype=torch.float32).reshape(len(rows), spec.num_labels)
    logits = teacher_logits_from_probs(probs, spec.problem_type, temperature).numpy()
    if column in dataset.column_names:
        dataset = dataset.remove_columns(column)
    return dataset.add_column(column, logits.astype(np.float32).tolist(), feature=HFSequence(Value("float32")))
