"""``MultiTaskDataset``: several tasks' (tokenised) datasets behind one index space, each row tagged with its task.

Row ``i`` of the concatenation maps to one task's row; every example gets a ``task`` field (the task's index in the
model's task order). The tasks keep their own columns (their label shapes differ), which is why batches hold one
task (:class:`~hf_emo.data.task_sampler.MultiTaskBatchSampler`).
"""

from __future__ import annotations

import bisect
from typing import Any, Mapping, Sequence

import torch


class MultiTaskDataset(torch.utils.data.Dataset):
    """``datasets``: ``{task_name: Dataset}``; ``task_ids``: ``{task_name: int}`` (default: their order)."""

    def __init__(self, datasets: Mapping[str, Any], task_ids: Mapping[str, int] | None = None) -> None:
        if not datasets:
            raise ValueError("MultiTaskDataset needs at least one task")
        self.names = list(datasets)
        self.datasets = [datasets[n] for n in self.names]
        self.task_ids = [int((task_ids or {n: i for i, n in enumerate(self.names)})[n]) for n in self.names]
        self.sizes = [len(d) for d in self.datasets]
        for n, size in zip(self.names, self.sizes):
            if size == 0:
                raise ValueError(f"task {n!r} has an empty dataset")
        self.offsets = [0]
        for s in self.sizes[:-1]:
            self.offsets.append(self.offsets[-1] + s)

    def __len__(self) -> int:
        return sum(self.sizes)

    def locate(self, index: int) -> tuple[int, int]:
        """``(position of the task in this dataset, row within that task)`` of a global index."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} rows")
        k = bisect.bisect_right(self.offsets, index) - 1
        return k, index - self.offsets[k]

    def __getitem__(self, index: int) -> dict:
        k, j = self.locate(int(index))
        row = dict(self.datasets[k][j])
        row["task"] = self.task_ids[k]
        return row

    def __getitems__(self, indices: Sequence[int]) -> list[dict]:
        """A batch in one read per task (the batch sampler's batches hold one task)."""
        located = [self.locate(int(i)) for i in indices]
        rows: list[dict | None] = [None] * len(indices)
        for k in sorted({k for k, _ in located}):
            pos = [p for p, (kk, _) in enumerate(located) if kk == k]
            part = self.datasets[k][[located[p][1] for p in pos]]
            cols = list(part)
            for n, p in enumerate(pos):
                rows[p] = {c: part[c][n] for c in cols}
                rows[p]["task"] = self.task_ids[k]
        return rows  # type: ignore[return-value]


class MixedTaskCollator:
    """Collates a batch that holds several tasks (the ``mixed`` task sampler): each task's rows apart with
    ``collator`` (their label shapes differ), as ``{"task_batches": [batch of task a, batch of task b, ...]}`` in
    task-id order. :class:`~hf_emo.trainers.MultiTaskTrainer` sums the tasks' losses in proportion to their rows
    (TBED-MTL §4)."""

    def __init__(self, collator) -> None:
        self.collator = collator

    def __call__(self, rows: Sequence[dict]) -> dict[str, list]:
        by_task: dict[int, list[dict]] = {}
        for row in rows:
            by_task.setdefault(int(row["task"]), []).append(row)
        return {"task_batches": [self.collator(by_task[t]) for t in sorted(by_task)]}


# -- the {task: dataset} mappings a multi-task trainer takes --------------------------------------------------
def task_splits(train_dataset, eval_dataset) -> tuple[dict, dict]:
    """``{task: Dataset}`` for training and evaluation, from ``{task: Dataset}`` or ``{task: DatasetDict}``."""
    import datasets

    if train_dataset is not None and not isinstance(train_dataset, Mapping):
        raise TypeError(
            "MultiTaskTrainer's train_dataset is a {task_name: Dataset or DatasetDict} mapping, got "
            f"{type(train_dataset).__name__}"
        )
    train, evals = {}, {}
    train_dataset = {t: labels_column(d) for t, d in (train_dataset or {}).items()}
    if eval_dataset is not None and isinstance(eval_dataset, Mapping):
        eval_dataset = {t: labels_column(d) for t, d in eval_dataset.items()}
    for t, d in train_dataset.items():
        if isinstance(d, datasets.DatasetDict):
            if "train" not in d:
                raise ValueError(f"task {t!r}: its DatasetDict has no 'train' split ({list(d)})")
            train[t] = d["train"]
            if eval_dataset is None and "validation" in d:
                evals[t] = d["validation"]
        else:
            train[t] = d
    if eval_dataset is not None:
        if not isinstance(eval_dataset, Mapping):
            raise TypeError("MultiTaskTrainer's eval_dataset is a {task_name: Dataset} mapping")
        evals = {t: (d["validation"] if isinstance(d, datasets.DatasetDict) else d) for t, d in eval_dataset.items()}
    return train, evals


def check_task_columns(task: str, ds) -> None:
    """Refuse a task's training set that has no inputs (``input_ids`` or cached ``features``) or no targets
    (``labels`` or ``teacher_logits``), naming its columns."""
    cols = getattr(ds, "column_names", None)
    if cols is None:
        return
    if "input_ids" not in cols and "features" not in cols:
        raise ValueError(
            f"task {task!r}: the training set has neither 'input_ids' (tokenise it) nor 'features' "
            f"(cached encoder outputs); its columns are {cols}"
        )
    if "labels" not in cols and "teacher_logits" not in cols:
        raise ValueError(
            f"task {task!r}: the training set has no 'labels' column and no 'teacher_logits'; its columns are {cols}"
        )


def labels_column(dataset):
    """The HF ``label`` column as ``labels`` (what the loss reads), in a ``Dataset`` or every split of a
    ``DatasetDict``."""
    import datasets

    if isinstance(dataset, datasets.DatasetDict):
        return datasets.DatasetDict({k: labels_column(v) for k, v in dataset.items()})
    cols = getattr(dataset, "column_names", None) or []
    if "label" in cols and "labels" not in cols:
        return dataset.rename_column("label", "labels")
    return dataset
