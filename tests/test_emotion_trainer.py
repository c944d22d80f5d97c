"""EmotionTrainer on tiny models: gradient accumulation, columns, label spaces, config parsing."""

import numpy as np
import pytest
import torch
from datasets import Dataset

from hf_emo.data import TaskSpec
from hf_emo.models import PooledClassifier, PooledClassifierConfig
from hf_emo.trainers import EmotionConfig, EmotionTrainer
from tests.conftest import tiny_bert_config

SPECS = {
    "multi_label": TaskSpec("ml", "multi_label", ("a", "b", "c"), "en"),
    "single_label": TaskSpec("sl", "single_label", ("a", "b", "c"), "en"),
    "regression": TaskSpec("rg", "regression", ("V", "A", "D"), "en"),
}


def tiny_model(spec: TaskSpec, seed: int = 0) -> PooledClassifier:
    torch.manual_seed(seed)
    cfg = PooledClassifierConfig(
        encoder=tiny_bert_config().to_dict(),
        num_labels=spec.num_labels,
        problem_type=spec.hf_problem_type,
        classifier_dropout=0.0,
        id2label=spec.id2label,
        label2id=spec.label2id,
    )
    return PooledClassifier(cfg)


def toy_dataset(spec: TaskSpec, n: int = 16, seed: int = 0, with_weight: bool = False) -> Dataset:
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 40, size=(n, 6)).tolist()
    if spec.problem_type == "multi_label":
        labels = rng.integers(0, 2, size=(n, 3)).astype(float).tolist()
    elif spec.problem_type == "single_label":
        labels = rng.integers(0, 3, size=n).tolist()
    else:
        labels = rng.normal(3, 1, size=(n, 3)).tolist()
    d = {"input_ids": ids, "attention_mask": [[1] * 6] * n, "labels": labels, "text": ["x"] * n}
    if with_weight:
        d["weight"] = rng.uniform(0.1, 1, size=n).tolist()
    return Dataset.from_dict(d)


def _args(tmp_path, **kw):
    base = dict(
        output_dir=str(tmp_path),
        max_steps=1,
        learning_rate=1e-2,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        train_sampling_strategy="sequential",
        seed=0,
        dataloader_pin_memory=False,
        use_cpu=True,
    )
    base.update(kw)
    return EmotionConfig(**base)


def _one_step(spec, tmp_path, bs, acc, with_weight=False):
    model = tiny_model(spec)
    # SGD: Adam's first step is sign(g)-like and amplifies float noise in near-zero gradients
    tr = EmotionTrainer(
        model=model,
        args=_args(
            tmp_path / f"{bs}x{acc}", per_device_train_batch_size=bs, optim="sgd", gradient_accumulation_steps=acc
        ),
        task_spec=spec,
        train_dataset=toy_dataset(spec, with_weight=with_weight),
    )
    out = tr.train()
    grad_norm = [h["grad_norm"] for h in tr.state.log_history if "grad_norm" in h][0]
    return out.training_loss, float(grad_norm), [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("problem", ["multi_label", "single_label", "regression"])
def test_gradient_accumulation_equals_full_batch(problem, tmp_path):
    spec = SPECS[problem]
    loss_a, gn_a, params_a = _one_step(spec, tmp_path, 16, 1)
    loss_b, gn_b, params_b = _one_step(spec, tmp_path, 4, 4)
    assert loss_a == pytest.approx(loss_b, rel=1e-5)
    assert gn_a == pytest.approx(gn_b, rel=1e-4)
    for a, b in zip(params_a, params_b):
        assert torch.allclose(a, b, atol=1e-6)


def test_gradient_accumulation_with_example_weights(tmp_path):
    spec = SPECS["multi_label"]
    loss_a, gn_a, _ = _one_step(spec, tmp_path, 16, 1, with_weight=True)
    loss_b, gn_b, _ = _one_step(spec, tmp_path, 4, 4, with_weight=True)
    assert loss_a == pytest.approx(loss_b, rel=1e-5) and gn_a == pytest.approx(gn_b, rel=1e-4)


def test_loss_matches_full_batch_bce(tmp_path):
    spec = SPECS["multi_label"]
    ds = toy_dataset(spec)
    model = tiny_model(spec)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor(ds["input_ids"])).logits
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(ds["labels"]))
    loss, _, _ = _one_step(spec, tmp_path, 16, 1)
    assert loss == pytest.approx(float(expected), rel=1e-5)


def test_weight_column_survives_remove_unused_columns(tmp_path):
    spec = SPECS["multi_label"]
    seen = {}

    class Spy(EmotionTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            seen.update({k: True for k in inputs})
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    tr = Spy(
        model=tiny_model(spec),
        args=_args(tmp_path, per_device_train_batch_size=4, remove_unused_columns=True),
        task_spec=spec,
        train_dataset=toy_dataset(spec, with_weight=True),
    )
    tr.train()
    assert "weight" in seen and "labels" in seen and "text" not in seen


def test_weights_change_the_loss(tmp_path):
    spec = SPECS["multi_label"]
    ds = toy_dataset(spec, with_weight=True)
    tr = EmotionTrainer(model=tiny_model(spec), args=_args(tmp_path), task_spec=spec)
    batch = {
        "input_ids": torch.tensor(ds["input_ids"]),
        "attention_mask": torch.tensor(ds["attention_mask"]),
        "labels": torch.tensor(ds["labels"]),
    }
    plain = tr.compute_loss(tr.model, dict(batch))
    weighted = tr.compute_loss(tr.model, {**batch, "weight": torch.tensor(ds["weight"])})
    ones = tr.compute_loss(tr.model, {**batch, "weight": torch.ones(16)})
    assert torch.allclose(plain, ones) and not torch.allclose(plain, weighted)


def test_label_space_mismatch_names_both_lists(tmp_path):
    model = tiny_model(SPECS["multi_label"])
    other = TaskSpec("x", "multi_label", ("a", "b", "z"), "en")
    with pytest.raises(ValueError, match=r"label names differ.*'c'.*'z'"):
        EmotionTrainer(model=model, args=_args(tmp_path), task_spec=other)
    with pytest.raises(ValueError, match="2"):
        EmotionTrainer(model=model, args=_args(tmp_path), task_spec=TaskSpec("y", "multi_label", ("a", "b"), "en"))


def test_freeze_embeddings_and_head_learning_rate(tmp_path):
    spec = SPECS["multi_label"]
    model = tiny_model(spec)
    before = model.get_input_embeddings().weight.detach().clone()
    tr = EmotionTrainer(
        model=model,
        args=_args(tmp_path, freeze_embeddings=True, head_learning_rate=0.5),
        task_spec=spec,
        train_dataset=toy_dataset(spec),
    )
    tr.train()
    assert torch.equal(before, model.get_input_embeddings().weight)
    lrs = sorted(
        {g["lr"] for g in tr.optimizer.param_groups} | {g.get("initial_lr", 0) for g in tr.optimizer.param_groups}
    )
    assert 0.5 in lrs and 1e-2 in lrs


def test_a_later_config_clears_an_earlier_list_with_an_empty_one(tmp_path):
    """`teacher: []` in a later YAML (annotator KD over a kd config) empties the list instead of passing a bare
    `--teacher` that argparse refused."""
    from hf_emo.jobs.arguments import parse_method_args

    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("task: redv2\nteacher: [runs/t1, runs/t2]\noutput_dir: " + str(tmp_path / "o") + "\n")
    b.write_text("teacher: []\nteacher_column: soft_labels\n")
    run, _ = parse_method_args("distil", ["--config", str(a), "--config", str(b)])
    assert run.teacher == [] and run.teacher_column == "soft_labels"
    run, _ = parse_method_args("distil", ["--config", str(a)])
    assert run.teacher == ["runs/t1", "runs/t2"]


def test_config_validation_and_yaml(tmp_path):
    with pytest.raises(ValueError, match="threshold"):
        EmotionConfig(output_dir=str(tmp_path), threshold=1.5)
    from hf_emo.jobs.arguments import parse_method_args

    y = tmp_path / "c.yaml"
    y.write_text(
        "model_name_or_path: some/model\ntask: redv1\nfreeze_embeddings: true\nthreshold: 0.3\n"
        "learning_rate: 3.0e-4\noutput_dir: " + str(tmp_path / "o") + "\nlabel_columns: [joy, fear]\n"
    )
    run, cfg = parse_method_args("train", ["--config", str(y), "--learning_rate", "1e-3"])
    assert run.model_name_or_path == "some/model" and run.task == "redv1" and run.label_columns == ["joy", "fear"]
    assert cfg.freeze_embeddings is True and cfg.threshold == 0.3 and cfg.learning_rate == 1e-3


@pytest.mark.parametrize("head_learning_rate", [None, 0.05])
def test_weight_decay_form_l2_is_adam_with_coupled_decay(tmp_path, head_learning_rate):
    """weight_decay_form='l2' trains with torch.optim.Adam (decay added to the gradient, TBED-MTL's "Adam with weight
    decay"), on both optimizer paths; with weight decay 0 it takes exactly AdamW's step."""
    spec = SPECS["multi_label"]

    def trained(form, wd):
        model = tiny_model(spec)
        tr = EmotionTrainer(
            model=model,
            args=_args(
                tmp_path / f"{form}{wd}",
                weight_decay_form=form,
                weight_decay=wd,
                head_learning_rate=head_learning_rate,
                max_steps=2,
            ),
            task_spec=spec,
            train_dataset=toy_dataset(spec),
        )
        tr.train()
        return type(tr.optimizer.optimizer), [p.detach().clone() for p in model.parameters()], tr

    cls_l2, l2, tr = trained("l2", 0.1)
    cls_w, adamw, _ = trained("decoupled", 0.1)
    assert cls_l2 is torch.optim.Adam and cls_w is torch.optim.AdamW
    assert any(not torch.equal(a, b) for a, b in zip(l2, adamw))
    assert tr.method_description().settings["optimizer"] == "Adam, L2 weight decay 0.1"
    _, l2_0, _ = trained("l2", 0.0)
    _, adamw_0, _ = trained("decoupled", 0.0)
    assert all(torch.equal(a, b) for a, b in zip(l2_0, adamw_0))


def _subnormal_survives() -> bool:
    return torch.tensor([1e-39]).mul(1.0).item() != 0.0  # 1e-39 is below float32's smallest normal, 1.18e-38


def test_flush_denormal_follows_weight_decay_form(tmp_path):
    """Under the L2 form, weight decay drives idle units' weights into the subnormal range, where CPU arithmetic is
    about 100x slower: l2 flushes subnormals to zero by default, decoupled keeps them (earlier runs repeat bit for bit),
    and an explicit setting wins."""
    from hf_emo.jobs.run_folder import seed_everything

    assert EmotionConfig(output_dir=str(tmp_path), weight_decay_form="l2").flush_denormal is True
    assert EmotionConfig(output_dir=str(tmp_path)).flush_denormal is False
    assert EmotionConfig(output_dir=str(tmp_path), weight_decay_form="l2", flush_denormal=False).flush_denormal is False
    spec = SPECS["multi_label"]
    assert _subnormal_survives()
    EmotionTrainer(model=tiny_model(spec), args=_args(tmp_path / "w", weight_decay=0.1), task_spec=spec)
    assert _subnormal_survives()
    EmotionTrainer(
        model=tiny_model(spec), args=_args(tmp_path / "l2", weight_decay_form="l2", weight_decay=0.1), task_spec=spec
    )
    assert not _subnormal_survives()
    torch.set_flush_denormal(False)
    seed_everything(_args(tmp_path / "job", weight_decay_form="l2"))  # the jobs flush before building the model
    assert not _subnormal_survives()


def test_weight_decay_form_checks(tmp_path):
    with pytest.raises(ValueError, match="weight_decay_form must be one of.*'L2'"):
        EmotionConfig(output_dir=str(tmp_path), weight_decay_form="L2")
    with pytest.raises(ValueError, match="optim must be one of.*'sgd'"):
        EmotionConfig(output_dir=str(tmp_path), weight_decay_form="l2", optim="sgd")
