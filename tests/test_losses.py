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
    parts = bce_loss(logits[:2], multi[:2], num_items_in_batch=n) + bce_loss(
        logits[2:], multi[2:], num_items_in_batch=n
    )
    assert torch.allclose(full, parts)
    assert torch.allclose(reduce_items(torch.ones(3, 2), num_items_in_batch=torch.tensor(12)), torch.tensor(0.5))


def test_unknown_problem_type():
    logits, multi, _ = _data()
    with pytest.raises(ValueError, match="problem_type"):
        supervised_loss(logits, multi, "ranking")


# -- the supervised-loss registry -------------------------------------------------------------------------
from hf_emo.losses import (  # noqa: E402
    SUPERVISED_LOSSES,
    bce_single_label_loss,
    focal_ce_loss,
    focal_loss,
    get_supervised_loss,
    label_smoothed_ce_loss,
    register_loss,
)


def test_auto_resolves_by_problem_type():
    assert get_supervised_loss("auto", "multi_label") == ("bce", bce_loss)
    assert get_supervised_loss("auto", "single_label") == ("ce", ce_loss)
    assert get_supervised_loss("auto", "regression") == ("mse", mse_loss)


def test_bce_single_label_is_bce_on_one_hot_averaged_over_classes():
    logits, _, y = _data(4)
    onehot = F.one_hot(y, 4).float()
    expected = F.binary_cross_entropy_with_logits(logits, onehot)  # mean over 6 x 4 cells = mean over examples
    assert torch.allclose(bce_single_label_loss(logits, y), expected)
    y2 = y.clone()
    y2[0] = -100
    assert torch.allclose(bce_single_label_loss(logits, y2), F.binary_cross_entropy_with_logits(logits[1:], onehot[1:]))
    # one item per example: micro-batches add up with num_items_in_batch = examples
    parts = sum(bce_single_label_loss(logits[i : i + 3], y[i : i + 3], num_items_in_batch=6) for i in (0, 3))
    assert torch.allclose(parts, expected)


def test_label_smoothed_ce_matches_torch_and_zero_is_ce():
    logits, _, y = _data(5)
    assert torch.allclose(
        label_smoothed_ce_loss(logits, y, smoothing=0.2), F.cross_entropy(logits, y, label_smoothing=0.2)
    )
    assert torch.allclose(label_smoothed_ce_loss(logits, y, smoothing=0.0), ce_loss(logits, y))
    with pytest.raises(ValueError, match="smoothing"):
        label_smoothed_ce_loss(logits, y, smoothing=1.0)


def test_focal_losses_reduce_to_bce_and_ce_at_gamma_zero_and_down_weight_easy_items():
    logits, multi, single = _data(6)
    assert torch.allclose(focal_loss(logits, multi, gamma=0.0), bce_loss(logits, multi))
    assert torch.allclose(focal_ce_loss(logits, single, gamma=0.0), ce_loss(logits, single))
    # by hand for one cell: p_t = sigmoid(x) for y = 1
    x = torch.tensor([[2.0]])
    p = torch.sigmoid(x)
    assert torch.allclose(focal_loss(x, torch.ones(1, 1), gamma=2.0), -((1 - p) ** 2) * torch.log(p))
    assert focal_loss(logits, multi, gamma=2.0) < bce_loss(logits, multi)
    with pytest.raises(ValueError, match="gamma"):
        focal_ce_loss(logits, single, gamma=-1.0)


def test_registry_refuses_wrong_problem_type_and_unknown_names():
    logits, multi, _ = _data()
    with pytest.raises(ValueError, match="single_label"):
        get_supervised_loss("bce_single_label", "multi_label")
    with pytest.raises(ValueError, match="register_loss"):
        get_supervised_loss("hinge", "multi_label")
    assert supervised_loss(logits, multi, "multi_label", loss="focal", gamma=0.0) == bce_loss(logits, multi)


def test_register_loss_adds_one_name_and_refuses_silent_overwrite():
    def squared_hinge(logits, targets, weight=None, num_items_in_batch=None):
        per = torch.clamp(1 - (2 * targets.float() - 1) * logits.float(), min=0) ** 2
        return reduce_items(per, weight, num_items_in_batch)

    try:
        register_loss("squared_hinge", squared_hinge, problem_types=("multi_label",))
        logits, multi, _ = _data()
        assert get_supervised_loss("squared_hinge", "multi_label")[1] is squared_hinge
        with pytest.raises(ValueError, match="already registered"):
            register_loss("squared_hinge", lambda *a, **k: None, problem_types=("multi_label",))
        with pytest.raises(ValueError, match="problem_types"):
            register_loss("other", squared_hinge, problem_types=("ranking",))
    finally:
        SUPERVISED_LOSSES.pop("squared_hinge", None)
