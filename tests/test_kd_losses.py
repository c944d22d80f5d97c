import pytest
import torch
from hypothesis import given, settings, strategies as st

from hf_emo.losses import (
    KD_LOSSES,
    check_alpha,
    check_temperature,
    cosine_hidden_loss,
    get_kd_loss,
    kd_bernoulli_loss,
    kd_kl_loss,
    kd_mse_loss,
    mix_losses,
    register_kd_loss,
    teacher_logits_from_probs,
)

SETTINGS = settings(max_examples=40, deadline=None)
temps = st.floats(min_value=0.25, max_value=8.0)
seeds = st.integers(0, 10_000)
KD = [kd_kl_loss, kd_bernoulli_loss, kd_mse_loss]


def _logits(seed, b=5, c=4, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, generator=g) * scale, torch.randn(b, c, generator=g) * scale


@SETTINGS
@given(seed=seeds, t=temps)
def test_kl_is_non_negative_and_zero_for_identical_logits(seed, t):
    s, te = _logits(seed)
    for fn in KD:
        assert fn(s, te, t).item() >= -1e-6
        assert fn(s, s.clone(), t).item() == pytest.approx(0.0, abs=1e-6)


@SETTINGS
@given(seed=seeds, t=temps, shift_s=st.floats(-50, 50), shift_t=st.floats(-50, 50))
def test_softmax_kd_is_invariant_to_a_constant_added_to_the_logits(seed, t, shift_s, shift_t):
    s, te = _logits(seed)
    a = kd_kl_loss(s, te, t)
    b = kd_kl_loss(s + shift_s, te + shift_t, t)
    assert torch.allclose(a, b, atol=1e-4)


@SETTINGS
@given(seed=seeds, t=temps)
def test_unit_weights_equal_unweighted(seed, t):
    s, te = _logits(seed)
    for fn in KD:
        assert torch.allclose(fn(s, te, t, weight=torch.ones(5)), fn(s, te, t), atol=1e-6)
    h_s, h_t = torch.randn(5, 3, 8), torch.randn(5, 3, 8)
    assert torch.allclose(cosine_hidden_loss(h_s, h_t, weight=torch.ones(5)), cosine_hidden_loss(h_s, h_t))


def test_weights_scale_each_examples_contribution():
    s, te = _logits(3)
    w = torch.tensor([0.0, 1.0, 2.0, 1.0, 0.5])
    for fn in KD:
        per = torch.stack([fn(s[i : i + 1], te[i : i + 1], 2.0) for i in range(5)])
        assert torch.allclose(fn(s, te, 2.0, weight=w), (w * per).sum() / 5, atol=1e-6)


@SETTINGS
@given(seed=seeds, t=temps)
def test_softmax_gradient_is_T_times_prob_difference(seed, t):
    """d/ds [T^2 KL(p_T || q_T)] = T (q_T - p_T) / B: the T^2 factor undoes the 1/T^2 of the soft targets."""
    s, te = _logits(seed)
    s.requires_grad_(True)
    kd_kl_loss(s, te, t).backward()
    expected = t * (torch.softmax(s.detach() / t, -1) - torch.softmax(te / t, -1)) / s.shape[0]
    assert torch.allclose(s.grad, expected, atol=1e-5)


@SETTINGS
@given(seed=seeds, t=temps)
def test_bernoulli_gradient_is_T_times_prob_difference(seed, t):
    s, te = _logits(seed)
    s.requires_grad_(True)
    kd_bernoulli_loss(s, te, t).backward()
    expected = t * (torch.sigmoid(s.detach() / t) - torch.sigmoid(te / t)) / s.numel()
    assert torch.allclose(s.grad, expected, atol=1e-5)


def test_gradient_magnitude_is_independent_of_T_at_high_temperature():
    """Hinton's argument: with the T^2 factor the gradient tends to (s - t) / (C B) as T grows."""
    s, te = _logits(7, scale=1.0)
    s, te = s - s.mean(-1, keepdim=True), te - te.mean(-1, keepdim=True)
    grads = []
    for t in (20.0, 40.0, 80.0):
        x = s.clone().requires_grad_(True)
        kd_kl_loss(x, te, t).backward()
        grads.append(x.grad)
    limit = (s - te) / (s.shape[1] * s.shape[0])
    for g in grads:
        assert torch.allclose(g, limit, atol=2e-3 * limit.abs().max().item() * 10)
    assert torch.allclose(grads[1], grads[2], rtol=0.05, atol=1e-4)


def test_num_items_in_batch_makes_split_batches_sum_to_the_whole():
    s, te = _logits(11, b=8)
    for fn in KD:
        whole = fn(s, te, 1.5)
        halves = fn(s[:3], te[:3], 1.5, num_items_in_batch=8) + fn(s[3:], te[3:], 1.5, num_items_in_batch=8)
        assert torch.allclose(whole, halves, atol=1e-6)


def test_bernoulli_matches_the_explicit_two_class_kl():
    s, te = _logits(5)
    t = 2.0
    p, q = torch.sigmoid(te / t), torch.sigmoid(s / t)
    kl = p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))
    assert torch.allclose(kd_bernoulli_loss(s, te, t), t * t * kl.mean(), atol=1e-5)


def test_mse_kd_is_the_mean_squared_difference():
    s, te = _logits(2)
    assert torch.allclose(kd_mse_loss(s, te), ((s - te) ** 2).mean(), atol=1e-6)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_temperature_raises(bad):
    s, te = _logits(0)
    with pytest.raises(ValueError, match="temperature"):
        kd_kl_loss(s, te, bad)
    with pytest.raises(ValueError, match="temperature"):
        check_temperature(bad)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_bad_alpha_raises(bad):
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        mix_losses(torch.tensor(1.0), torch.tensor(2.0), bad)
    with pytest.raises(ValueError):
        check_alpha(bad)


def test_mix_losses_weights_gold_by_alpha():
    assert mix_losses(torch.tensor(1.0), torch.tensor(3.0), 0.25).item() == pytest.approx(0.25 + 0.75 * 3)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(5, 4\).*\(5, 3\)"):
        kd_kl_loss(torch.zeros(5, 4), torch.zeros(5, 3))


@pytest.mark.parametrize("problem", ["multi_label", "single_label"])
def test_teacher_logits_from_probs_round_trip(problem):
    _, te = _logits(4)
    t = 1.7
    p = torch.sigmoid(te / t) if problem == "multi_label" else torch.softmax(te / t, -1)
    z = teacher_logits_from_probs(p, problem, t)
    back = torch.sigmoid(z / t) if problem == "multi_label" else torch.softmax(z / t, -1)
    assert torch.allclose(back, p, atol=1e-5)


def test_cosine_hidden_loss_values_and_mask():
    h = torch.randn(2, 4, 8)
    assert cosine_hidden_loss(h, h.clone()).item() == pytest.approx(0.0, abs=1e-6)
    assert cosine_hidden_loss(h, -h).item() == pytest.approx(2.0, abs=1e-5)
    other = h.clone()
    other[:, 2:] = -h[:, 2:]  # differs only on padded positions
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0]])
    assert cosine_hidden_loss(h, other, mask).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="hidden"):
        cosine_hidden_loss(torch.zeros(2, 8), torch.zeros(2, 6))


def test_registry_resolves_auto_and_accepts_user_losses():
    assert get_kd_loss("auto", "multi_label")[0] == "kl_bernoulli"
    assert get_kd_loss("auto", "single_label")[0] == "kl_softmax"
    assert get_kd_loss("auto", "regression")[0] == "mse"
    with pytest.raises(ValueError, match="unknown kd_loss 'nope'"):
        get_kd_loss("nope")

    @register_kd_loss("test_l1")
    def l1(s, t, temperature=1.0, weight=None, num_items_in_batch=None):
        return (s - t).abs().mean()

    try:
        assert get_kd_loss("test_l1")[1] is l1
        with pytest.raises(ValueError, match="already registered"):
            register_kd_loss("test_l1", lambda *a, **k: 0)
    finally:
        KD_LOSSES.pop("test_l1")
