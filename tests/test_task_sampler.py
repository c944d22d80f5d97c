"""MultiTaskBatchSampler: exact task proportions, determinism under a seed, one task per batch, DDP slices."""

from collections import Counter

import numpy as np
import pytest

from hf_emo.data import MultiTaskBatchSampler, task_batch_counts

SIZES = [100, 30, 10]
OFFSETS = [0, 100, 130]


def task_of(i: int) -> int:
    return 0 if i < 100 else (1 if i < 130 else 2)


def test_batch_counts_per_strategy():
    assert task_batch_counts(SIZES, 10, "proportional") == [10, 3, 1]
    assert task_batch_counts(SIZES, 10, "round_robin") == [5, 5, 4]
    assert task_batch_counts(SIZES, 10, "capped", cap=40) == [4, 3, 1]
    assert task_batch_counts(SIZES, 10, "temperature", temperature=1.0) == [10, 3, 1]
    assert task_batch_counts(SIZES, 10, "temperature", temperature=0.0) == [5, 5, 4]
    # tau = 0.5: 14 batches split as 14 * sqrt(n) / sum(sqrt(n)) = 7.51, 4.11, 2.38 -> 7, 4, 2 plus the one left
    # over to the largest remainder (0.51): 8, 4, 2
    w = np.sqrt(SIZES)
    expected = 14 * w / w.sum()
    got = task_batch_counts(SIZES, 10, "temperature", temperature=0.5)
    assert sum(got) == 14 and got == [8, 4, 2]
    assert np.all(np.abs(np.array(got) - expected) < 1)


@pytest.mark.parametrize(
    "strategy,kw",
    [("proportional", {}), ("temperature", {"temperature": 0.5}), ("round_robin", {}), ("capped", {"cap": 40})],
)
def test_exact_task_proportions_and_one_task_per_batch(strategy, kw):
    s = MultiTaskBatchSampler(SIZES, 10, strategy, seed=3, **kw)
    batches = list(s)
    tasks = [task_of(b[0]) for b in batches]
    assert all(len({task_of(i) for i in b}) == 1 for b in batches)
    assert Counter(tasks) == dict(enumerate(s.counts))
    assert len(batches) == len(s)


def test_deterministic_under_seed_and_epoch():
    a = list(MultiTaskBatchSampler(SIZES, 10, "proportional", seed=7))
    b = list(MultiTaskBatchSampler(SIZES, 10, "proportional", seed=7))
    c = list(MultiTaskBatchSampler(SIZES, 10, "proportional", seed=8))
    assert a == b and a != c
    s = MultiTaskBatchSampler(SIZES, 10, "proportional", seed=7)
    s.set_epoch(1)
    assert list(s) != a


def test_round_robin_order():
    tasks = [task_of(b[0]) for b in MultiTaskBatchSampler(SIZES, 10, "round_robin")]
    assert tasks[:6] == [0, 1, 2, 0, 1, 2]


def test_proportional_epoch_sees_every_example_once():
    idx = [i for b in MultiTaskBatchSampler(SIZES, 8, "proportional", seed=1) for i in b]
    assert sorted(idx) == list(range(140))


def test_capped_epochs_continue_through_a_large_task():
    s = MultiTaskBatchSampler(SIZES, 10, "capped", cap=40, seed=0)
    e0 = {i for b in s for i in b if task_of(i) == 0}
    s.set_epoch(1)
    e1 = {i for b in s for i in b if task_of(i) == 0}
    assert len(e0) == len(e1) == 40
    assert not e0 & e1  # the second epoch reads the next 40 of the 100 examples


def test_ddp_ranks_share_the_task_and_split_the_global_batch():
    single = list(MultiTaskBatchSampler(SIZES, 8, "proportional", seed=5))
    r0 = list(MultiTaskBatchSampler(SIZES, 4, "proportional", seed=5, num_replicas=2, rank=0))
    r1 = list(MultiTaskBatchSampler(SIZES, 4, "proportional", seed=5, num_replicas=2, rank=1))
    assert len(r0) == len(r1) == len(single)
    for a, b, full in zip(r0, r1, single):
        assert len(a) == len(b) == 4
        assert {task_of(i) for i in a} == {task_of(i) for i in b}  # same task at every step
        if len(full) == 8:
            assert a + b == full  # rank slices of the same global batch
        else:  # the last partial batch is padded so that both ranks get one
            assert set(full) <= set(a + b)


def test_bad_arguments():
    with pytest.raises(ValueError, match="task sampler must be one of"):
        MultiTaskBatchSampler(SIZES, 10, "random")
    with pytest.raises(ValueError, match="positive cap"):
        MultiTaskBatchSampler(SIZES, 10, "capped")
    with pytest.raises(ValueError, match="at least one training example"):
        MultiTaskBatchSampler([5, 0], 10)


def test_mixed_epoch_is_a_shuffle_of_the_union():
    """tau = 1: every example once per epoch, batches drawn from the union (tasks mixed inside batches)."""
    s = MultiTaskBatchSampler(SIZES, 8, "mixed", seed=1)
    batches = list(s)
    assert len(batches) == len(s) == 18  # ceil(140 / 8)
    assert sorted(i for b in batches for i in b) == list(range(140))
    assert any(len({task_of(i) for i in b}) > 1 for b in batches)
    s.set_epoch(1)
    assert list(s) != batches
    assert list(MultiTaskBatchSampler(SIZES, 8, "mixed", seed=1)) == batches  # a function of (seed, epoch)


def test_mixed_temperature_sets_the_task_slots():
    from hf_emo.data import mixed_task_slots

    assert mixed_task_slots(SIZES, 1.0) == SIZES
    assert mixed_task_slots(SIZES, 0.0) == [47, 47, 46]  # uniform: 140 rows split three ways
    rows = [i for b in MultiTaskBatchSampler(SIZES, 10, "mixed", temperature=0.0, seed=2) for i in b]
    assert Counter(task_of(i) for i in rows) == {0: 47, 1: 47, 2: 46}


def test_mixed_ddp_ranks_split_the_global_batch():
    single = list(MultiTaskBatchSampler(SIZES, 8, "mixed", seed=5))
    r0 = list(MultiTaskBatchSampler(SIZES, 4, "mixed", seed=5, num_replicas=2, rank=0))
    r1 = list(MultiTaskBatchSampler(SIZES, 4, "mixed", seed=5, num_replicas=2, rank=1))
    assert len(r0) == len(r1) == len(single)
    for a, b, full in zip(r0[:-1], r1[:-1], single[:-1]):
        assert a + b == full
    assert len(r0[-1]) == len(r1[-1]) == 4  # the last, short batch is padded so both ranks step
