"""``MultiTaskBatchSampler``: which task each training batch comes from, chosen by a named strategy.

Under the first four strategies (``TASK_SAMPLERS``) every batch holds one task:

* ``proportional`` -- each task contributes ``ceil(n_t / B)`` batches per epoch, in a shuffled order: every
  example once per epoch, tasks in proportion to their sizes;
* ``temperature`` -- task ``t`` is drawn with probability ``n_t^tau / sum_s n_s^tau`` (``tau = 1`` is
  proportional, ``tau = 0`` uniform); the epoch keeps the proportional number of batches;
* ``round_robin`` -- tasks in turn ``t0, t1, t2, t0, ...``; the epoch keeps the proportional number of batches;
* ``capped`` -- proportional over the sizes capped at ``K`` (``min(n_t, K)``): a large task shows ``K`` of its
  examples per epoch, and other ones in the next epoch.

Under ``mixed`` (TBED-MTL §4: "randomly sampled" batches of the union of the tasks) a batch holds rows of several
tasks: each epoch is a shuffle of ``m_t`` slots per task, cut into batches. With ``tau = 1`` the slots are the task
sizes (``m_t = n_t``: every example once per epoch, each batch a uniform draw from the union); otherwise ``m_t`` is
the largest-remainder rounding of ``N n_t^tau / sum_s n_s^tau`` (``N`` the total size). Pair it with
:class:`MixedTaskCollator`, which collates each task's rows of a batch apart (their label shapes differ).

The counts are exact, not sampled: with ``temperature`` the number of batches per task is the largest-remainder
rounding of the expected count, and only their order is random. Under ``proportional`` a task's examples are
reshuffled each epoch; under the other strategies each task reads an endless stream of reshuffled passes, so small
tasks repeat and large ones continue where the last epoch stopped.

Determinism: the order is a function of ``(seed, epoch)`` only, so resuming from a checkpoint replays it.
DDP: the sampler is rank-aware. It builds global batches of ``batch_size * num_replicas`` examples from one task and
hands each rank its slice, so every rank sees the same task at every step (one head's parameters are used per
step on all ranks alike) and ``B`` per device on ``W`` ranks equals ``B * W`` on one process.
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np

TASK_SAMPLERS = ("proportional", "temperature", "round_robin", "capped", "mixed")


def _largest_remainder(total: int, weights: np.ndarray) -> list[int]:
    """``total`` split in proportion to ``weights`` into integers (largest-remainder rounding)."""
    expected = total * weights / weights.sum()
    counts = np.floor(expected).astype(int)
    for i in np.argsort(-(expected - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def mixed_task_slots(sizes: Sequence[int], temperature: float = 1.0) -> list[int]:
    """Rows of each task in one epoch of the ``mixed`` strategy (see the module docstring)."""
    if any(n <= 0 for n in sizes):
        raise ValueError(f"every task needs at least one training example; sizes are {list(sizes)}")
    if temperature < 0:
        raise ValueError(f"the sampling temperature tau must be >= 0, got {temperature}")
    if temperature == 1.0:
        return [int(n) for n in sizes]
    return _largest_remainder(int(sum(sizes)), np.asarray(sizes, dtype=np.float64) ** temperature)


def task_batch_counts(
    sizes: Sequence[int],
    global_batch: int,
    strategy: str = "proportional",
    temperature: float = 1.0,
    cap: int | None = None,
    drop_last: bool = False,
) -> list[int]:
    """Batches per task in one epoch under ``strategy`` (see the module docstring); ``mixed``: ``[batches]``."""
    if strategy not in TASK_SAMPLERS:
        raise ValueError(f"task sampler must be one of {TASK_SAMPLERS}, got {strategy!r}")
    if any(n <= 0 for n in sizes):
        raise ValueError(f"every task needs at least one training example; sizes are {list(sizes)}")
    rnd = math.floor if drop_last else math.ceil
    if strategy == "mixed":
        return [max(1, rnd(sum(mixed_task_slots(sizes, temperature)) / global_batch))]
    if strategy == "capped":
        if cap is None or cap <= 0:
            raise ValueError(f"the capped sampler needs a positive cap K, got {cap!r}")
        return [max(1, rnd(min(n, cap) / global_batch)) for n in sizes]
    base = [max(1, rnd(n / global_batch)) for n in sizes]
    if strategy == "proportional":
        return base
    total = sum(base)
    if strategy == "round_robin":
        return [total // len(sizes) + (1 if i < total % len(sizes) else 0) for i in range(len(sizes))]
    if temperature < 0:
        raise ValueError(f"the sampling temperature tau must be >= 0, got {temperature}")
    return _largest_remainder(total, np.asarray(sizes, dtype=np.float64) ** temperature)


class MultiTaskBatchSampler:
    """Yields lists of indices into a :class:`~hf_emo.data.multitask_dataset.MultiTaskDataset`, one task per batch.

    ``sizes``: examples per task, in task order (the dataset's order). ``batch_size`` is per device.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        batch_size: int,
        strategy: str = "proportional",
        *,
        temperature: float = 1.0,
        cap: int | None = None,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
        drop_last: bool = False,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} outside 0..{num_replicas - 1}")
        self.sizes = [int(n) for n in sizes]
        self.offsets = np.cumsum([0] + self.sizes[:-1]).tolist()
        self.batch_size = batch_size
        self.strategy = strategy
        self.temperature = temperature
        self.cap = cap
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.drop_last = drop_last
        self.epoch = 0
        self.global_batch = batch_size * num_replicas
        self.counts = task_batch_counts(self.sizes, self.global_batch, strategy, temperature, cap, drop_last)
        self.slots = mixed_task_slots(self.sizes, temperature) if strategy == "mixed" else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return sum(self.counts)

    def task_schedule(self, epoch: int | None = None) -> list[int]:
        """The task index of every batch of ``epoch`` (one-task strategies)."""
        epoch = self.epoch if epoch is None else epoch
        if self.strategy == "mixed":
            raise ValueError("the mixed strategy has no per-batch task; see mixed_rows()")
        if self.strategy == "round_robin":
            return [i % len(self.sizes) for i in range(len(self))]
        rng = np.random.default_rng([self.seed, epoch, 0])
        return rng.permutation(np.repeat(np.arange(len(self.sizes)), self.counts)).tolist()

    def _stream(self, task: int, start: int, count: int) -> np.ndarray:
        """``count`` indices of ``task`` from position ``start`` of its endless stream of reshuffled passes."""
        n = self.sizes[task]
        out, pos = [], start
        while len(out) < count:
            p, off = divmod(pos, n)
            perm = np.random.default_rng([self.seed, task, p, 1]).permutation(n)
            take = perm[off : off + count - len(out)]
            out.extend(take.tolist())
            pos += len(take)
        return np.asarray(out, dtype=np.int64)

    def mixed_rows(self, epoch: int | None = None) -> np.ndarray:
        """The global row indices of one epoch of the ``mixed`` strategy, in order: a seeded shuffle of ``m_t``
        slots per task, each task's slots filled from its stream of reshuffled passes."""
        epoch = self.epoch if epoch is None else epoch
        tasks = np.random.default_rng([self.seed, epoch, 3]).permutation(
            np.repeat(np.arange(len(self.sizes)), self.slots)
        )
        rows = np.empty(len(tasks), dtype=np.int64)
        for t, m in enumerate(self.slots):
            rows[tasks == t] = self._stream(t, epoch * m, m) + self.offsets[t]
        return rows

    def global_batches(self, epoch: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(task, indices)`` of every global batch (all ranks together) of ``epoch``, indices task-local."""
        epoch = self.epoch if epoch is None else epoch
        schedule = self.task_schedule(epoch)
        G = self.global_batch
        if self.strategy == "proportional":
            perms = [np.random.default_rng([self.seed, t, epoch, 2]).permutation(n) for t, n in enumerate(self.sizes)]
            used = [0] * len(self.sizes)
            for t in schedule:
                idx = perms[t][used[t] : used[t] + G]
                used[t] += G
                if len(idx) < G and self.num_replicas > 1:  # pad like DistributedSampler: every rank gets a batch
                    idx = np.concatenate([idx, np.resize(perms[t], G - len(idx))])
                yield t, idx
            return
        per_epoch = [c * G for c in self.counts]
        used = [0] * len(self.sizes)
        for t in schedule:
            yield t, self._stream(t, epoch * per_epoch[t] + used[t], G)
            used[t] += G

    def __iter__(self) -> Iterator[list[int]]:
        b = self.batch_size
        if self.strategy == "mixed":
            rows, G = self.mixed_rows(), self.global_batch
            if len(rows) < len(self) * G:  # the last batch: pad like DistributedSampler so every rank gets one
                rows = (
                    np.concatenate([rows, np.resize(rows, len(self) * G - len(rows))])
                    if self.num_replicas > 1
                    else rows
                )
            for k in range(len(self)):
                idx = rows[k * G : (k + 1) * G]
                yield (idx[self.rank * b : (self.rank + 1) * b] if self.num_replicas > 1 else idx).tolist()
            return
        for t, idx in self.global_batches():
            mine = idx[self.rank * b : (self.rank + 1) * b] if self.num_replicas > 1 else idx
            yield (mine + self.offsets[t]).tolist()
