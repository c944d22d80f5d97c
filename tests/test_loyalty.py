import numpy as np
import pytest
from scipy.stats import entropy

from hf_emo.data import TaskSpec
from hf_emo.metrics import label_loyalty, loyalty_metrics, probability_loyalty, regression_loyalty


def test_label_loyalty_is_agreement_rate():
    assert label_loyalty(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="shape"):
        label_loyalty(np.zeros(3), np.zeros(4))


def _js(p, q):
    m = (p + q) / 2
    return 0.5 * entropy(p, m, base=2) + 0.5 * entropy(q, m, base=2)


def test_probability_loyalty_bounds_and_value():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=20)
    q = rng.dirichlet(np.ones(4), size=20)
    assert probability_loyalty(p, p) == pytest.approx(1.0)
    onehot_a, onehot_b = np.eye(4)[[0, 1]], np.eye(4)[[2, 3]]
    assert probability_loyalty(onehot_a, onehot_b) == pytest.approx(0.0, abs=1e-12)  # disjoint supports: JS = 1 bit
    expected = np.mean([1 - np.sqrt(_js(a, b)) for a, b in zip(p, q)])
    assert probability_loyalty(p, q) == pytest.approx(expected, abs=1e-9)
    assert 0.0 <= probability_loyalty(p, q) <= 1.0


def test_multi_label_probability_loyalty_uses_bernoulli_cells():
    p, q = np.array([[0.9, 0.2]]), np.array([[0.6, 0.2]])
    expected = np.mean([1 - np.sqrt(_js(np.array([0.9, 0.1]), np.array([0.6, 0.4]))), 1.0])
    assert probability_loyalty(p, q, multi_label=True) == pytest.approx(expected)


def test_regression_loyalty_is_pearson_mean_over_dimensions():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(50, 3))
    assert regression_loyalty(t, 2 * t + 1) == pytest.approx(1.0)
    assert regression_loyalty(t[:, 0], -t[:, 0]) == pytest.approx(-1.0)
    s = t.copy()
    s[:, 2] = -t[:, 2]
    assert regression_loyalty(t, s) == pytest.approx(1 / 3)


def test_loyalty_metrics_average_over_several_teachers():
    spec = TaskSpec(name="t", problem_type="single_label", label_names=("a", "b", "c"), language="en")
    rng = np.random.default_rng(2)
    s = rng.normal(size=(30, 3))
    t1, t2 = s.copy(), rng.normal(size=(30, 3))
    one = loyalty_metrics(spec, t1, s)
    assert one["label_loyalty"] == 1.0 and one["probability_loyalty"] == pytest.approx(1.0)
    two = loyalty_metrics(spec, np.stack([t1, t2], axis=1), s)
    other = loyalty_metrics(spec, t2, s)
    for k in one:
        assert two[k] == pytest.approx((one[k] + other[k]) / 2)


def test_probability_loyalty_in_avram_2022_eq8_form_by_hand():
    t = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    s = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    kl = lambda p, q: float((p * np.log(p / q)).sum())  # noqa: E731
    d0 = 0.5 * (kl(t[0], s[0]) + kl(s[0], t[0]))
    expected = ((1 - np.sqrt(d0)) + 1.0) / 2  # the second row is identical: loyalty 1
    assert probability_loyalty(t, s, form="symmetric_kl") == pytest.approx(expected, rel=1e-6)
    assert probability_loyalty(t, t, form="symmetric_kl") == pytest.approx(1.0)
    assert probability_loyalty(t, s) != pytest.approx(expected)  # the default JS form is another number
    with pytest.raises(ValueError, match="form must be one of"):
        probability_loyalty(t, s, form="hellinger")
    spec = TaskSpec("t", "single_label", ("a", "b", "c"), "en")
    m = loyalty_metrics(spec, np.log(t), np.log(s))
    assert m["probability_loyalty_symmetric_kl"] == pytest.approx(expected, rel=1e-6)
