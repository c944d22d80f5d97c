import pytest
import torch
import torch.nn.functional as F

from hf_emo.losses import bce_loss, ce_loss, mse_loss, reduce_items, supervised_loss


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(6, 4, generator=g)
    multi = (torch.rand(6, 4, generator=g) > 0.5).float()
    single = torch.randint(0, 4, (6,), generator=g)
    return logits, multi, single


def test_bce_matches_torch_mean():
    logits, y, _ = _data()
    assert torch.allclose(bce_loss(logits, y), F.binary_cross_entropy_with_logits(logits, y))


def test_ce_matches_torch_mean_and_ignores_minus_100():
    logits, _, y = _data()
    assert torch.allclose(ce_loss(logits, y), F.cross_entropy(logits, y))
    y2 = y.clone()
    y2[0] = -100
    assert torch.allclose(ce_loss(logits, y2), F.cross_entropy(logits, y2, ignore_index=-100))


def test_mse_matches_torch():
    logits, _, _ = _data()
    target = torch.randn(6, 4)
    assert torch.allclose(mse_loss(logits, target), F.mse_loss(logits, target))


@pytest.mark.parametrize("problem", ["multi_label", "single_label", "regression"])
def test_unit_weights_equal_unweighted(problem):
    logits, multi, single = _data(1)
    labels = {"multi_label": multi, "single_label": single, "regression": torch.randn(6, 4)}[problem]
    a = supervised_loss(logits, labels, problem)
    b = supervised_loss(logits, labels, problem, weight=torch.ones(6))
    assert torch.allclose(a, b)


def test_weights_scale_examples():
    logits, multi, _ = _data(2)
    w = torch.tensor([0.0, 1, 1, 1, 1, 1])
    per = F.binary_cross_entropy_with_logits(logits, multi, reduction="none")
    expected = per[1:].sum() / per.numel()
    assert torch.allclose(bce_loss(logits, multi, weight=w), expected)


def test_num_items_in_batch_makes_micro_batches_add_up():
    logits, multi, _ = _data(3)
    full = bce_loss(logits, multi)
    n = multi.numel()
    parts = bce_loss(logits[:2], multi[:2], num_items_in_batch=n) + bce_loss(logits[2:], multi[2:], num_items_in_batch=n)
    assert torch.allclose(full, parts)
    assert torch.allclose(reduce_items(torch.ones(3, 2), num_items_in_batch=torch.tensor(12)), torch.tensor(0.5))


def test_unknown_problem_type():
    logits, multi, _ = _data()
    with pytest.raises(ValueError, match="problem_type"):
        supervised_loss(logits, multi, "ranking")
