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
