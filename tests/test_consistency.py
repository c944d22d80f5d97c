"""Paper 001's translation-quality weights (Eq. 2-3) and ConsistencyDistillationTrainer on tiny models."""

import numpy as np
import pytest
import torch
from datasets import Dataset

from hf_emo.data import PairedDataCollator, tokenize_teacher_side
from hf_emo.losses import kd_bernoulli_loss, kd_kl_loss
from hf_emo.quality_weights import (
    add_quality_weights,
    add_translation_disagreement,
    minmax_quality,
    quality_weights,
    translation_disagreement,
)
from hf_emo.teachers import cache_teacher_logits
from hf_emo.trainers import (
    ConsistencyDistillationConfig,
    ConsistencyDistillationTrainer,
    DistillationConfig,
    DistillationTrainer,
)
from tests.conftest import MT_WORDS, tiny_tokenizer
from tests.test_emotion_trainer import SPECS, tiny_model

# -- Eq. 2-3 ---------------------------------------------------------------------------------------------


def test_disagreement_is_the_squared_error_of_the_probability_vectors():
    p = torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])
    q = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]])
    w = translation_disagreement(p, q)
    assert torch.allclose(w, torch.tensor([0.0, 0.16 + 0.01 + 0.09]))
    with pytest.raises(ValueError, match="one shape"):
        translation_disagreement(p, q[:, :2])


def test_worst_translation_gets_weight_zero_best_gets_one():
    w = torch.tensor([0.30, 0.05, 0.90, 0.10])
    wbar = minmax_quality(w)
    assert wbar[2] == 0.0 and wbar[1] == 1.0
    assert torch.allclose(wbar, 1 - (w - 0.05) / 0.85, atol=1e-6)
    assert torch.equal(minmax_quality(torch.full((3,), 0.2)), torch.ones(3))


def test_identical_translation_gets_the_maximal_weight():
    p = torch.tensor([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    q = torch.tensor([[0.9, 0.1], [0.1, 0.9], [0.6, 0.4]])  # row 0: the translation reads exactly as the original
    wbar = minmax_quality(translation_disagreement(p, q))
    assert wbar[0] == wbar.max() == 1.0


def test_threshold_drops_the_worst_fraction_and_uniform_is_all_ones():
    w = torch.tensor([0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.0, 0.8, 0.4, 0.6])
    thr = quality_weights(w, "threshold", 0.25)  # floor(2.5) = 2 worst: 0.9 and 0.8
    assert thr.tolist() == [1, 1, 0, 1, 1, 1, 1, 0, 1, 1]
    assert torch.equal(quality_weights(w, "uniform"), torch.ones(10))
    with pytest.raises(ValueError, match="drop_fraction"):
        quality_weights(w, "threshold", 1.0)
    with pytest.raises(ValueError, match="weighting"):
        quality_weights(w, "bleu")


@pytest.mark.parametrize("kd", [kd_kl_loss, kd_bernoulli_loss])
def test_weighted_kd_is_wang2024_eq1(kd):
    """Wang et al. 2024 Eq. 1 is the KD loss with per-example weights: sum_i w_i KL_i / N."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    assert torch.allclose(kd(s, t, 2.0, torch.ones(6)), kd(s, t, 2.0))
    w = torch.rand(6, generator=g)
    per = torch.stack([kd(s[i : i + 1], t[i : i + 1], 2.0) for i in range(6)])
    assert torch.allclose(kd(s, t, 2.0, w), (w * per).sum() / 6, atol=1e-6)


# -- datasets of pairs -----------------------------------------------------------------------------------


def _pairs(n=12, seed=0, spec=SPECS["single_label"], identical=(0,)):
    rng = np.random.default_rng(seed)
    words = MT_WORDS + ["fericit", "trist", "frică", "bucurie"]
    src = [" ".join(rng.choice(words, 5)) for _ in range(n)]
    en = [s if i in identical else " ".join(rng.choice(MT_WORDS, 5)) for i, s in enumerate(src)]
    labels = (
        rng.integers(0, 3, n).tolist()
        if spec.problem_type == "single_label"
        else rng.integers(0, 2, (n, 3)).astype(float).tolist()
    )
    ds = Dataset.from_dict({"text": src, "en_text": en, "labels": labels})
    tok = tiny_tokenizer()
    return ds.map(lambda b: tok(b["text"]), batched=True), tok


def test_add_translation_disagreement_runs_the_model_on_both_sides():
    spec = SPECS["single_label"]
    ds, tok = _pairs(spec=spec)
    model = tiny_model(spec, seed=3)
    out = add_translation_disagreement(model, ds, tok, problem_type="single_label", batch_size=5)
    with torch.no_grad():
        p = torch.softmax(model(**tok(list(ds["text"]), padding=True, return_tensors="pt")).logits, -1)
        q = torch.softmax(model(**tok(list(ds["en_text"]), padding=True, return_tensors="pt")).logits, -1)
    assert np.allclose(out["disagreement"], ((p - q) ** 2).sum(-1).numpy(), atol=1e-6)
    assert out["disagreement"][0] == pytest.approx(0.0, abs=1e-7)  # the identical pair
    weighted = add_quality_weights(out)
    assert weighted["weight"][0] == pytest.approx(1.0)
    assert min(weighted["weight"]) == 0.0
    with pytest.raises(ValueError, match="no column 'ro'"):
        add_translation_disagreement(model, ds, tok, source_column="ro", problem_type="single_label")
    dropped = add_quality_weights(out, "threshold", 0.25)
    assert len(dropped) == 9 and set(dropped["weight"]) == {1.0}


# -- the trainer -----------------------------------------------------------------------------------------


def _args(tmp_path, cls=ConsistencyDistillationConfig, **kw):
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
        per_device_train_batch_size=6,
        temperature=2.0,
        alpha=0.0,
    )
    base.update(kw)
    return cls(**base)


def _refinement_set(spec, teacher, student_stage1, n=12):
    ds, tok = _pairs(n=n, spec=spec)
    ds = cache_teacher_logits(teacher, ds, tok, text_column="en_text", batch_size=5)  # the teacher reads x'
    ds = add_translation_disagreement(student_stage1, ds, tok, problem_type=spec.problem_type, batch_size=5)
    return ds.remove_columns("labels"), tok


@pytest.mark.parametrize("problem", ["single_label", "multi_label"])
def test_uniform_weighting_reduces_to_plain_kd(problem, tmp_path):
    spec = SPECS[problem]
    ds, tok = _refinement_set(spec, tiny_model(spec, seed=1), tiny_model(spec, seed=2))
    student = tiny_model(spec, seed=2)
    cons = ConsistencyDistillationTrainer(
        student,
        _args(tmp_path, quality_weighting="uniform"),
        task_spec=spec,
        train_dataset=ds,
        data_collator=PairedDataCollator(tok),
    )
    plain = DistillationTrainer(
        student,
        _args(tmp_path, DistillationConfig),
        task_spec=spec,
        train_dataset=ds.remove_columns("disagreement"),
        data_collator=PairedDataCollator(tok),
    )
    b1 = cons._prepare_inputs(next(iter(cons.get_train_dataloader())))
    b2 = plain._prepare_inputs(next(iter(plain.get_train_dataloader())))
    student.train()
    assert torch.allclose(cons.compute_loss(student, b1), plain.compute_loss(student, b2), atol=1e-7)


def test_quality_weights_are_normalised_over_the_whole_set_before_training(tmp_path):
    spec = SPECS["single_label"]
    ds, tok = _refinement_set(spec, tiny_model(spec, seed=1), tiny_model(spec, seed=2))
    student = tiny_model(spec, seed=2)
    tr = ConsistencyDistillationTrainer(
        student, _args(tmp_path), task_spec=spec, train_dataset=ds, data_collator=PairedDataCollator(tok)
    )
    wbar = minmax_quality(torch.tensor(list(ds["disagreement"])))
    assert np.allclose(tr.train_dataset["weight"], wbar.numpy())
    b = tr._prepare_inputs(next(iter(tr.get_train_dataloader())))
    student.train()
    loss = tr.compute_loss(student, b)
    s = student(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
    expected = kd_kl_loss(s, b["teacher_logits"], 2.0, wbar[:6])
    assert torch.allclose(loss, expected, atol=1e-6)
    # per-batch normalisation: min-max over the batch's own six disagreements
    tb = ConsistencyDistillationTrainer(
        student,
        _args(tmp_path, weight_normalization="batch"),
        task_spec=spec,
        train_dataset=ds,
        data_collator=PairedDataCollator(tok),
    )
    bb = tb._prepare_inputs(next(iter(tb.get_train_dataloader())))
    assert "weight" not in bb
    expected_b = kd_kl_loss(s, bb["teacher_logits"], 2.0, minmax_quality(torch.tensor(list(ds["disagreement"])[:6])))
    assert torch.allclose(tb.compute_loss(student, bb), expected_b, atol=1e-6)


def test_live_teacher_reads_the_translation_and_equals_cached_logits(tmp_path):
    spec = SPECS["multi_label"]
    teacher = tiny_model(spec, seed=1)
    ds, tok = _refinement_set(spec, teacher, tiny_model(spec, seed=2))
    live_ds = tokenize_teacher_side(ds.remove_columns("teacher_logits"), tok, "en_text")
    student = tiny_model(spec, seed=2)
    args = _args(tmp_path, remove_unused_columns=True)
    cached = ConsistencyDistillationTrainer(
        student, args, task_spec=spec, train_dataset=ds, data_collator=PairedDataCollator(tok)
    )
    live = ConsistencyDistillationTrainer(
        student,
        args,
        teacher_model=teacher,
        task_spec=spec,
        train_dataset=live_ds,
        data_collator=PairedDataCollator(tok, tok),
    )
    b_cached = cached._prepare_inputs(next(iter(cached.get_train_dataloader())))
    b_live = live._prepare_inputs(next(iter(live.get_train_dataloader())))
    assert {"teacher_input_ids", "teacher_attention_mask", "weight"} <= set(b_live) and "en_text" not in b_live
    assert not torch.equal(b_live["teacher_input_ids"], b_live["input_ids"])  # two different texts
    student.train()
    assert torch.allclose(cached.compute_loss(student, b_cached), live.compute_loss(student, b_live), atol=1e-6)


def test_cached_teacher_logits_win_over_a_live_teacher(tmp_path):
    spec = SPECS["single_label"]
    ds, tok = _refinement_set(spec, tiny_model(spec, seed=1), tiny_model(spec, seed=2))
    student = tiny_model(spec, seed=2)
    other = tiny_model(spec, seed=7)  # would give different logits
    a = ConsistencyDistillationTrainer(
        student, _args(tmp_path), task_spec=spec, train_dataset=ds, data_collator=PairedDataCollator(tok)
    )
    b = ConsistencyDistillationTrainer(
        student,
        _args(tmp_path),
        teacher_model=other,
        task_spec=spec,
        train_dataset=ds,
        data_collator=PairedDataCollator(tok),
    )
    ba = a._prepare_inputs(next(iter(a.get_train_dataloader())))
    bb = b._prepare_inputs(next(iter(b.get_train_dataloader())))
    student.train()
    assert torch.allclose(a.compute_loss(student, ba), b.compute_loss(student, bb))


def test_threshold_weighting_trains_on_the_kept_rows(tmp_path):
    spec = SPECS["single_label"]
    ds, tok = _refinement_set(spec, tiny_model(spec, seed=1), tiny_model(spec, seed=2))
    tr = ConsistencyDistillationTrainer(
        tiny_model(spec, seed=2),
        _args(tmp_path, quality_weighting="threshold", drop_fraction=0.25),
        task_spec=spec,
        train_dataset=ds,
        data_collator=PairedDataCollator(tok),
    )
    worst = set(np.argsort(-np.asarray(list(ds["disagreement"])), kind="stable")[:3])
    assert len(tr.train_dataset) == 9
    kept, texts = set(tr.train_dataset["text"]), list(ds["text"])
    assert not any(texts[i] in kept for i in worst if texts.count(texts[i]) == 1)


def test_mixing_a_supervised_loss_and_gradient_accumulation(tmp_path):
    spec = SPECS["single_label"]
    ds, tok = _pairs(spec=spec)
    ds = cache_teacher_logits(tiny_model(spec, seed=1), ds, tok, text_column="en_text")
    ds = add_translation_disagreement(tiny_model(spec, seed=2), ds, tok, problem_type="single_label")

    def run(bs, acc, out):
        student = tiny_model(spec, seed=2)
        args = _args(
            tmp_path / out,
            alpha=0.3,
            per_device_train_batch_size=bs,
            gradient_accumulation_steps=acc,
            max_steps=2,
            optim="sgd",
        )  # SGD: Adam's g / sqrt(v) would amplify float noise in tiny grads
        ConsistencyDistillationTrainer(
            student, args, task_spec=spec, train_dataset=ds, data_collator=PairedDataCollator(tok)
        ).train()
        return torch.cat([p.detach().flatten() for p in student.parameters()])

    assert torch.allclose(run(6, 1, "a"), run(3, 2, "b"), atol=1e-6)


def test_clear_errors(tmp_path):
    spec = SPECS["single_label"]
    ds, tok = _pairs(spec=spec)
    ds = cache_teacher_logits(tiny_model(spec, seed=1), ds, tok, text_column="en_text")
    with pytest.raises(ValueError, match="'disagreement' column"):
        ConsistencyDistillationTrainer(tiny_model(spec), _args(tmp_path), task_spec=spec, train_dataset=ds)
    with pytest.raises(ValueError, match="'weight' column"):
        ConsistencyDistillationTrainer(
            tiny_model(spec), _args(tmp_path, quality_weighting="column"), task_spec=spec, train_dataset=ds
        )
    with pytest.raises(ValueError, match="teacher_input_ids"):
        ConsistencyDistillationTrainer(
            tiny_model(spec),
            _args(tmp_path, quality_weighting="uniform"),
            teacher_model=tiny_model(spec, seed=1),
            task_spec=spec,
            train_dataset=ds.remove_columns("teacher_logits"),
        )
    for bad in (
        dict(quality_weighting="bleu"),
        dict(drop_fraction=1.0),
        dict(weight_normalization="row"),
        dict(quality_weighting="uniform", weight_normalization="batch"),
        dict(alpha=1.5),
        dict(temperature=0.0),
    ):
        with pytest.raises(ValueError):
            _args(tmp_path, **bad)


def test_user_supplied_weight_column_is_used_as_is(tmp_path):
    spec = SPECS["multi_label"]
    ds, tok = _refinement_set(spec, tiny_model(spec, seed=1), tiny_model(spec, seed=2))
    qe = np.linspace(0.2, 1.0, len(ds)).astype(np.float32)
    ds = ds.remove_columns("disagreement").add_column("weight", qe.tolist())
    student = tiny_model(spec, seed=2)
    tr = ConsistencyDistillationTrainer(
        student,
        _args(tmp_path, quality_weighting="column"),
        task_spec=spec,
        train_dataset=ds,
        data_collator=PairedDataCollator(tok),
    )
    b = tr._prepare_inputs(next(iter(tr.get_train_dataloader())))
    student.train()
    s = student(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
    expected = kd_bernoulli_loss(s, b["teacher_logits"], 2.0, torch.tensor(qe[:6]))
    assert torch.allclose(tr.compute_loss(student, b), expected, atol=1e-6)


@pytest.mark.parametrize("normalization", ["global", "batch"])
def test_evaluation_on_the_labelled_target_side_needs_no_translation(tmp_path, normalization):
    """Evaluation batches carry no disagreements and need no pair weights, with either normalisation (per-batch
    weights refused evaluation before: quality_study.sh's quality_batch run failed on its stage-1 evaluation)."""
    spec = SPECS["single_label"]
    ds, tok = _refinement_set(spec, tiny_model(spec, seed=1), tiny_model(spec, seed=2))
    ev, _ = _pairs(n=8, seed=5, spec=spec)
    tr = ConsistencyDistillationTrainer(
        tiny_model(spec, seed=2),
        _args(tmp_path, per_device_eval_batch_size=4, weight_normalization=normalization),
        task_spec=spec,
        train_dataset=ds,
        eval_dataset=ev,
        data_collator=PairedDataCollator(tok),
    )
    m = tr.evaluate()
    assert m["eval_loss"] > 0 and 0 <= m["eval_accuracy"] <= 1
    plain = DistillationTrainer(
        tiny_model(spec, seed=2),
        _args(tmp_path, DistillationConfig, per_device_eval_batch_size=4),
        task_spec=spec,
        train_dataset=ds.remove_columns("disagreement"),
        eval_dataset=ev,
        data_collator=PairedDataCollator(tok),
    )
    assert m["eval_loss"] == pytest.approx(plain.evaluate()["eval_loss"], rel=1e-6)  # unweighted
    # training still refuses a batch without disagreements under per-batch weights
    if normalization == "batch":
        b = tr._prepare_inputs(next(iter(tr.get_train_dataloader())))
        b.pop("disagreement")
        tr.model.train()
        with pytest.raises(ValueError, match="needs the 'disagreement' column in every training batch"):
            tr.compute_loss(tr.model, b)
