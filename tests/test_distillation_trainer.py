"""DistillationTrainer on tiny models: cached vs live teachers, columns, accumulation, resume, label spaces."""

import numpy as np
import pytest
import torch
from datasets import Dataset

from hf_emo.data import TaskSpec
from hf_emo.losses import kd_bernoulli_loss, kd_kl_loss, supervised_loss
from hf_emo.teachers import cache_teacher_logits
from hf_emo.trainers import DistillationConfig, DistillationTrainer
from tests.conftest import tiny_tokenizer
from tests.test_emotion_trainer import SPECS, tiny_model, toy_dataset


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
        per_device_train_batch_size=8,
    )
    base.update(kw)
    return DistillationConfig(**base)


def _with_logits(spec, n=16, teachers=None, **kw):
    ds = toy_dataset(spec, n=n, **kw)
    teachers = teachers or [tiny_model(spec, seed=1)]
    return cache_teacher_logits(teachers if len(teachers) > 1 else teachers[0], ds, batch_size=5), teachers


def _batch(trainer, ds):
    return next(iter(trainer.get_train_dataloader()))


@pytest.mark.parametrize("problem", ["multi_label", "single_label", "regression"])
def test_cached_and_live_teacher_give_identical_losses(problem, tmp_path):
    spec = SPECS[problem]
    ds, (teacher,) = _with_logits(spec)
    args = _args(tmp_path, temperature=2.0, alpha=0.3)
    student = tiny_model(spec, seed=2)
    cached = DistillationTrainer(model=student, args=args, task_spec=spec, train_dataset=ds)
    live = DistillationTrainer(
        model=student,
        args=args,
        task_spec=spec,
        teacher_model=teacher,
        train_dataset=ds.remove_columns("teacher_logits"),
    )
    b_cached = cached._prepare_inputs(_batch(cached, ds))
    b_live = live._prepare_inputs(_batch(live, ds))
    assert "teacher_logits" in b_cached and "teacher_logits" not in b_live
    student.train()
    l1 = cached.compute_loss(student, b_cached, num_items_in_batch=None)
    l2 = live.compute_loss(student, b_live, num_items_in_batch=None)
    assert torch.allclose(l1, l2, atol=1e-6)
    # and both equal the formula: alpha * L_hard + (1 - alpha) * L_KD
    with torch.no_grad():
        s = student(input_ids=b_live["input_ids"], attention_mask=b_live["attention_mask"]).logits
        t = teacher(input_ids=b_live["input_ids"], attention_mask=b_live["attention_mask"]).logits
    kd = {"multi_label": kd_bernoulli_loss, "single_label": kd_kl_loss}.get(problem)
    kd_v = kd(s, t, 2.0) if kd else ((s - t) ** 2).mean()
    expected = 0.3 * supervised_loss(s, b_live["labels"], problem) + 0.7 * kd_v
    assert torch.allclose(l1, expected, atol=1e-5)


def test_remove_unused_columns_keeps_teacher_logits_weight_and_task(tmp_path):
    spec = SPECS["multi_label"]
    ds, _ = _with_logits(spec, with_weight=True)
    ds = ds.add_column("task", [0] * len(ds)).add_column("junk", ["x"] * len(ds))
    tr = DistillationTrainer(
        model=tiny_model(spec), args=_args(tmp_path, remove_unused_columns=True), task_spec=spec, train_dataset=ds
    )
    batch = _batch(tr, ds)
    assert {"teacher_logits", "weight", "task", "labels", "input_ids"} <= set(batch)
    assert "junk" not in batch and "text" not in batch
    assert batch["teacher_logits"].shape == (8, 3)


def test_teacher_is_frozen_in_eval_mode_outside_the_optimizer_and_not_saved(tmp_path):
    spec = SPECS["single_label"]
    ds = toy_dataset(spec)
    teacher, student = tiny_model(spec, seed=1), tiny_model(spec, seed=2)
    teacher.train()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    tr = DistillationTrainer(
        model=student, args=_args(tmp_path, max_steps=3), task_spec=spec, teacher_model=teacher, train_dataset=ds
    )
    tr.train()
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    opt_ids = {id(p) for g in tr.optimizer.param_groups for p in g["params"]}
    assert not opt_ids & {id(p) for p in teacher.parameters()}
    tr.save_model(tmp_path / "saved")
    from safetensors.torch import load_file

    saved = load_file(tmp_path / "saved" / "model.safetensors")
    assert set(saved) == set(student.state_dict())
    assert next(teacher.parameters()).device == tr.accelerator.device


def test_teacher_label_space_is_checked_on_names(tmp_path):
    spec = SPECS["single_label"]
    other = TaskSpec("x", "single_label", ("a", "c", "b"), "en")  # same count, other order
    with pytest.raises(ValueError, match=r"teacher: \['a', 'c', 'b'\]\n  student: \['a', 'b', 'c'\]"):
        DistillationTrainer(
            model=tiny_model(spec),
            args=_args(tmp_path),
            task_spec=spec,
            teacher_model=tiny_model(other),
            train_dataset=toy_dataset(spec),
        )
    four = TaskSpec("y", "single_label", ("a", "b", "c", "d"), "en")
    with pytest.raises(ValueError, match=r"has 4 outputs, the student's task 'sl' has 3 labels"):
        DistillationTrainer(
            model=tiny_model(spec),
            args=_args(tmp_path),
            task_spec=spec,
            teacher_model=tiny_model(four),
            train_dataset=toy_dataset(spec),
        )


def test_no_teacher_and_no_cached_column_is_a_clear_error(tmp_path):
    spec = SPECS["multi_label"]
    with pytest.raises(ValueError, match="no teacher.*teacher_logits"):
        DistillationTrainer(
            model=tiny_model(spec), args=_args(tmp_path), task_spec=spec, train_dataset=toy_dataset(spec)
        )


@pytest.mark.parametrize(
    "field,value",
    [
        ("temperature", 0.0),
        ("temperature", -2.0),
        ("alpha", 1.2),
        ("alpha_start", -0.1),
        ("alpha_schedule", "cosine"),
        ("annealing", "mix"),
        ("kd_loss", "nope"),
    ],
)
def test_config_rejects_bad_hyper_parameters(field, value, tmp_path):
    with pytest.raises(ValueError, match=field):
        _args(tmp_path, **{field: value})


def _one_step(spec, tmp_path, bs, acc, **kw):
    ds, _ = _with_logits(spec, with_weight=True)
    model = tiny_model(spec, seed=3)
    tr = DistillationTrainer(
        model=model,
        task_spec=spec,
        train_dataset=ds,
        args=_args(
            tmp_path / f"{bs}x{acc}",
            per_device_train_batch_size=bs,
            optim="sgd",
            gradient_accumulation_steps=acc,
            temperature=2.0,
            **kw,
        ),
    )
    out = tr.train()
    return out.training_loss, [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("problem", ["multi_label", "single_label", "regression"])
@pytest.mark.parametrize("annealing", ["loss_mix", "target_mix"])
def test_gradient_accumulation_equals_full_batch_with_kd(problem, annealing, tmp_path):
    spec = SPECS[problem]
    loss_a, params_a = _one_step(spec, tmp_path, 16, 1, annealing=annealing, alpha=0.4)
    loss_b, params_b = _one_step(spec, tmp_path, 4, 4, annealing=annealing, alpha=0.4)
    assert loss_a == pytest.approx(loss_b, rel=1e-5)
    for a, b in zip(params_a, params_b):
        assert torch.allclose(a, b, atol=1e-6)


def test_label_free_distillation_accumulates_exactly_and_needs_alpha_zero(tmp_path):
    spec = SPECS["multi_label"]
    ds, _ = _with_logits(spec)
    ds = ds.remove_columns("labels")

    def run(bs, acc):
        model = tiny_model(spec, seed=3)
        tr = DistillationTrainer(
            model=model,
            task_spec=spec,
            train_dataset=ds,
            args=_args(
                tmp_path / f"u{bs}",
                per_device_train_batch_size=bs,
                optim="sgd",
                gradient_accumulation_steps=acc,
                alpha=0.0,
            ),
        )
        tr.train()
        return [p.detach().clone() for p in model.parameters()]

    for a, b in zip(run(16, 1), run(4, 4)):
        assert torch.allclose(a, b, atol=1e-6)
    tr = DistillationTrainer(model=tiny_model(spec), task_spec=spec, train_dataset=ds, args=_args(tmp_path, alpha=0.5))
    with pytest.raises(ValueError, match="no labels"):
        tr.train()


def _final_weights(tmp_path, spec, ds, max_steps, resume_from=None, save_steps=None):
    model = tiny_model(spec, seed=4)
    args = _args(
        tmp_path,
        max_steps=max_steps,
        per_device_train_batch_size=4,
        alpha_schedule="linear",
        alpha_start=0.1,
        alpha_end=0.7,
        temperature=1.5,
        learning_rate=5e-3,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
    )
    tr = DistillationTrainer(model=model, args=args, task_spec=spec, train_dataset=ds)
    tr.train(resume_from_checkpoint=resume_from)
    return tr, [p.detach().clone() for p in model.parameters()]


def test_resume_continues_teacher_annealing_exactly(tmp_path):
    spec = SPECS["multi_label"]
    ds, _ = _with_logits(spec, n=24)
    straight, w_straight = _final_weights(tmp_path / "a", spec, ds, 10)
    # k = 4 steps, checkpoint, then a new trainer resumes to N = 10 (the checkpoint holds max_steps = 10)
    _final_weights(tmp_path / "b", spec, ds, 10, save_steps=4)
    ckpt = tmp_path / "b" / "checkpoint-4"
    assert ckpt.is_dir()
    resumed, w_resumed = _final_weights(tmp_path / "c", spec, ds, 10, resume_from=str(ckpt))
    for a, b in zip(w_straight, w_resumed):
        assert torch.allclose(a, b, atol=1e-6)
    logs = lambda tr: [(h["alpha"], h["loss_hard"], h["loss_kd"]) for h in tr.state.log_history if "alpha" in h]  # noqa: E731,E501
    assert len(logs(resumed)) == 10  # 4 restored from the checkpoint + 6 new
    assert np.allclose(logs(resumed), logs(straight), atol=1e-6)
    assert [a for a, _, _ in logs(straight)] == pytest.approx([0.1 + 0.06 * s for s in range(10)])


def test_logs_hard_and_kd_parts_and_alpha(tmp_path):
    spec = SPECS["multi_label"]
    ds, _ = _with_logits(spec)
    tr = DistillationTrainer(
        model=tiny_model(spec),
        task_spec=spec,
        train_dataset=ds,
        args=_args(tmp_path, max_steps=4, per_device_train_batch_size=4, alpha=0.25),
    )
    tr.train()
    logs = [h for h in tr.state.log_history if "loss" in h and "alpha" in h]
    assert len(logs) == 4
    for h in logs:
        assert h["alpha"] == 0.25
        assert h["loss"] == pytest.approx(0.25 * h["loss_hard"] + 0.75 * h["loss_kd"], rel=1e-4)


def test_several_teachers_average_kd_losses_or_probabilities(tmp_path):
    spec = SPECS["single_label"]
    teachers = [tiny_model(spec, seed=10), tiny_model(spec, seed=11)]
    ds, _ = _with_logits(spec, teachers=teachers)
    assert np.asarray(ds["teacher_logits"]).shape == (16, 2, 3)
    student = tiny_model(spec, seed=2)
    student.train()
    for agg in ("loss", "probs"):
        tr = DistillationTrainer(
            model=student,
            task_spec=spec,
            train_dataset=ds,
            args=_args(tmp_path, alpha=0.0, temperature=2.0, teacher_aggregation=agg),
        )
        b = tr._prepare_inputs(_batch(tr, ds))
        loss = tr.compute_loss(student, b)
        s = student(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
        t1, t2 = b["teacher_logits"][:, 0], b["teacher_logits"][:, 1]
        if agg == "loss":
            expected = (kd_kl_loss(s, t1, 2.0) + kd_kl_loss(s, t2, 2.0)) / 2
        else:
            p = (torch.softmax(t1 / 2, -1) + torch.softmax(t2 / 2, -1)) / 2
            expected = 4 * (p * (p.log() - torch.log_softmax(s / 2, -1))).sum(-1).mean()
        assert torch.allclose(loss, expected, atol=1e-5), agg


def test_target_mix_endpoints(tmp_path):
    spec = SPECS["single_label"]
    ds, _ = _with_logits(spec)
    student = tiny_model(spec, seed=2)
    student.train()
    for alpha in (0.0, 1.0):
        tr = DistillationTrainer(
            model=student, task_spec=spec, train_dataset=ds, args=_args(tmp_path, annealing="target_mix", alpha=alpha)
        )
        b = tr._prepare_inputs(_batch(tr, ds))
        loss = tr.compute_loss(student, b)
        s = student(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
        if alpha == 1.0:
            expected = torch.nn.functional.cross_entropy(s, b["labels"])
        else:
            expected = -(torch.softmax(b["teacher_logits"], -1) * torch.log_softmax(s, -1)).sum(-1).mean()
        assert torch.allclose(loss, expected, atol=1e-5)


def test_cache_teacher_logits_with_a_tokenizer_matches_a_direct_forward():
    spec = SPECS["multi_label"]
    tok = tiny_tokenizer()
    teacher = tiny_model(spec, seed=5)
    ds = Dataset.from_dict({"text": ["happy day", "sad angry news today", "i am afraid"], "labels": [[1.0, 0, 0]] * 3})
    out = cache_teacher_logits(teacher, ds, tok, batch_size=2)
    enc = tok(list(ds["text"]), padding=True, return_tensors="pt")
    with torch.no_grad():
        direct = teacher(**enc).logits
    assert np.allclose(np.asarray(out["teacher_logits"]), direct.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="no text column 'sentence'"):
        cache_teacher_logits(teacher, ds, tok, text_column="sentence")


def test_teacher_logits_on_disk_are_reused_for_the_same_weights_only(tmp_path, monkeypatch):
    spec = SPECS["multi_label"]
    tok = tiny_tokenizer()
    teacher = tiny_model(spec, seed=5)
    ds = Dataset.from_dict({"text": ["happy day", "sad angry news today", "i am afraid"], "labels": [[1.0, 0, 0]] * 3})
    first = cache_teacher_logits(teacher, ds, tok, cache_dir=str(tmp_path / "c"))
    calls = []
    original = type(teacher).forward
    monkeypatch.setattr(type(teacher), "forward", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    again = cache_teacher_logits(tiny_model(spec, seed=5), ds, tok, cache_dir=str(tmp_path / "c"))
    assert again["teacher_logits"] == first["teacher_logits"] and not calls  # same weights: read from disk
    other = cache_teacher_logits(tiny_model(spec, seed=6), ds, tok, cache_dir=str(tmp_path / "c"))
    assert calls and other["teacher_logits"] != first["teacher_logits"]  # other weights: computed again
    assert len(list((tmp_path / "c").iterdir())) == 2


def test_an_ensemble_reads_its_members_cached_logits(tmp_path, monkeypatch):
    """Each teacher is cached on its own: an ensemble holding an already cached teacher runs only the new member, and
    its stacked ``(K, C)`` logits equal the uncached ones."""
    spec = SPECS["multi_label"]
    tok = tiny_tokenizer()
    first, second = tiny_model(spec, seed=5), tiny_model(spec, seed=6)
    ds = Dataset.from_dict({"text": ["happy day", "sad angry news today", "i am afraid"], "labels": [[1.0, 0, 0]] * 3})
    alone = cache_teacher_logits(first, ds, tok, cache_dir=str(tmp_path / "c"))
    ran = []
    for model in (first, second):
        original = model.forward
        monkeypatch.setattr(model, "forward", lambda *a, _m=model, _f=original, **k: ran.append(_m) or _f(*a, **k))
    both = cache_teacher_logits([first, second], ds, tok, cache_dir=str(tmp_path / "c"))
    assert ran and all(m is second for m in ran)  # the first teacher's logits came from disk
    stacked = np.asarray(both["teacher_logits"])
    assert stacked.shape == (3, 2, spec.num_labels)
    np.testing.assert_array_equal(stacked[:, 0], np.asarray(alone["teacher_logits"]))
    np.testing.assert_allclose(stacked, np.asarray(cache_teacher_logits([first, second], ds, tok)["teacher_logits"]))
    ran.clear()
    cache_teacher_logits([second, first], ds, tok, cache_dir=str(tmp_path / "c"))
    assert not ran and len(list((tmp_path / "c").iterdir())) == 2  # one entry per teacher, in any order


def test_cosine_hidden_loss_is_added_for_a_live_teacher(tmp_path):
    spec = SPECS["multi_label"]
    ds = toy_dataset(spec)
    student, teacher = tiny_model(spec, seed=2), tiny_model(spec, seed=1)
    tr = DistillationTrainer(
        model=student,
        task_spec=spec,
        train_dataset=ds,
        teacher_model=teacher,
        args=_args(tmp_path, cosine_loss_weight=1.0, max_steps=2, per_device_train_batch_size=4),
    )
    tr.train()
    h = [x for x in tr.state.log_history if "loss_cosine" in x]
    assert h and all(x["loss_cosine"] > 0 for x in h)
    assert h[0]["loss"] == pytest.approx(
        0.5 * h[0]["loss_hard"] + 0.5 * h[0]["loss_kd"] + h[0]["loss_cosine"], rel=1e-4
    )


def test_teacher_logits_from_a_probability_column_round_trip_and_refuse_bad_rows():
    """Soft labels as the teacher (REDv2's annotator vote shares): the KD loss at T reads back the column's
    probabilities; a bad row is refused with its split, row and value."""
    from datasets import DatasetDict

    from hf_emo.teachers import teacher_logits_from_column

    ml, sl = SPECS["multi_label"], SPECS["single_label"]
    shares = [[0.0, 1 / 3, 2 / 3], [1.0, 0.0, 1 / 3]]
    dd = DatasetDict({"train": Dataset.from_dict({"soft": shares}), "test": Dataset.from_dict({"soft": shares[:1]})})
    out = teacher_logits_from_column(dd, "soft", ml, temperature=2.0)
    back = torch.sigmoid(torch.tensor(out["train"]["teacher_logits"]) / 2.0)
    assert torch.allclose(back, torch.tensor(shares).clamp(1e-7, 1 - 1e-7), atol=1e-6)
    assert len(out["test"]["teacher_logits"]) == 1
    one_hot = Dataset.from_dict({"soft": [[0.2, 0.5, 0.3]]})
    probs = torch.softmax(torch.tensor(teacher_logits_from_column(one_hot, "soft", sl)["teacher_logits"]), -1)
    assert torch.allclose(probs, torch.tensor([[0.2, 0.5, 0.3]]), atol=1e-6)
    # at T = 1, KD against the column is BCE against the soft targets less the targets' own entropy (a constant)
    student = torch.randn(2, 3)
    t1 = torch.tensor(teacher_logits_from_column(dd["train"], "soft", ml)["teacher_logits"])
    p = torch.tensor(shares).clamp(1e-7, 1 - 1e-7)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(student, p, reduction="none").mean(-1)
    entropy = -(p * p.log() + (1 - p) * (1 - p).log()).mean(-1)
    assert torch.allclose(kd_bernoulli_loss(student, t1), (bce - entropy).mean(), atol=1e-5)
    with pytest.raises(ValueError, match=r"train, row 1, column 'soft': \[1.0, 1.5, 0.0\]"):
        teacher_logits_from_column(
            DatasetDict({"train": Dataset.from_dict({"soft": [shares[0], [1.0, 1.5, 0.0]]})}), "soft", ml
        )
    with pytest.raises(ValueError, match=r"row 0.*summing to 1"):
        teacher_logits_from_column(Dataset.from_dict({"soft": [[0.2, 0.2, 0.2]]}), "soft", sl)
    with pytest.raises(ValueError, match=r"row 0.*is not 3 numbers"):
        teacher_logits_from_column(Dataset.from_dict({"soft": [[0.2, 0.2]]}), "soft", ml)
    with pytest.raises(ValueError, match=r"no teacher-probability column 'shares'; its columns are \['soft'\]"):
        teacher_logits_from_column(Dataset.from_dict({"soft": shares}), "shares", ml)


def test_a_teacher_of_another_problem_type_is_refused_naming_both():
    """A single-label (softmax) teacher distilled into a multi-label student as independent sigmoids with rc 0: the
    label-space check compared names and counts only (issue 37)."""
    from hf_emo.data import TaskSpec
    from hf_emo.teachers import check_teacher_label_space
    from tests.test_emotion_trainer import tiny_model

    names = ("a", "b", "c")
    teacher = tiny_model(TaskSpec("t", "single_label", names, "en"))
    teacher.config.hf_emo_task = TaskSpec("t", "single_label", names, "en").to_dict()
    with pytest.raises(ValueError, match=r"trained for a single_label task and the student's task 's' is multi_label"):
        check_teacher_label_space(teacher, TaskSpec("s", "multi_label", names, "en"))
    check_teacher_label_space(teacher, TaskSpec("s", "single_label", names, "en"))  # same kind: fine
    teacher.config.hf_emo_task = None
    teacher.config.problem_type = "multi_label_classification"  # a plain HF head says it in transformers' words
    with pytest.raises(ValueError, match="trained for a multi_label task"):
        check_teacher_label_space(teacher, TaskSpec("s", "single_label", names, "en"))
