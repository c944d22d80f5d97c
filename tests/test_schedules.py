import pytest

from hf_emo.schedules import alpha_at_step


def test_constant_schedule():
    assert [alpha_at_step(s, 10, "constant", 0.3) for s in (0, 5, 10)] == [0.3, 0.3, 0.3]


def test_linear_schedule_is_paper_000_teacher_annealing():
    vals = [alpha_at_step(s, 100, "linear", alpha_start=0.1, alpha_end=0.7) for s in (0, 25, 50, 100, 150)]
    assert vals == pytest.approx([0.1, 0.25, 0.4, 0.7, 0.7])


def test_bad_schedule_and_bad_alphas():
    with pytest.raises(ValueError, match="alpha_schedule"):
        alpha_at_step(0, 10, "cosine")
    with pytest.raises(ValueError, match="alpha_end"):
        alpha_at_step(0, 10, "linear", alpha_start=0.1, alpha_end=1.2)
