"""MultiTaskTrainer: per-task loss normalisation and scaling, columns, evaluation names, MTKD, GradNorm, resume."""

import numpy as np
import pytest
import torch
from conftest import mt_dataset, mt_model, mt_specs, tiny_tokenizer
from transformers import DataCollatorWithPadding

from hf_emo.gradnorm import GradNormWeights
from hf_emo.losses import gradnorm_loss, kd_bernoulli_loss, kd_kl_loss, kd_mse_loss, supervised_loss
from hf_emo.trainers import MultiTaskConfig, MultiTaskTrainer

TOK = tiny_tokenizer()


def config(tmp_path, **kw):
    base = dict(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        seed=0,
        logging_steps=1,
        max_steps=4,
        disable_tqdm=True,
    )
    base.update(kw)
    return MultiTaskConfig(**base)


def data(sizes=(12, 16, 8), seed=0, extra=None):
    return {
        s.name: mt_dataset(s, n, seed + i, TOK, (extra or {}).get(s.name))
        for i, (s, n) in enumerate(zip(mt_specs(), sizes))
    }


def trainer(tmp_path, model=None, train=None, **kw):
    teacher = kw.pop("teacher_model", None)
    ev = kw.pop("eval_dataset", None)
    return MultiTaskTrainer(
        model or mt_model(),
        config(tmp_path, **kw),
        train_dataset=train or data(),
        eval_dataset=ev,
        teacher_model=teacher,
        data_collator=DataCollatorWithPadding(TOK),
    )


def first_window(tr):
    it = iter(tr.get_train_dataloader())
    return [next(it) for _ in range(tr.args.gradient_accumulation_steps)]


def reference_loss(model, batches, weights):
    """sum_t w_t * (sum of task t's item losses in the window) / (task t's items in the window)."""
    sums, counts = {}, {}
    for b in batches:
        t = model.task_name(b["task"])
        spec = model.task_spec(t)
        out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], task=t)
        per = supervised_loss(out.logits, b["labels"], spec.problem_type, num_items_in_batch=1)  # a plain sum
        n = b["labels"].numel() if spec.problem_type != "single_label" else len(b["labels"])
        sums[t] = sums.get(t, 0) + per
        counts[t] = counts.get(t, 0) + n
    return sum(weights.get(t, 1.0) * sums[t] / counts[t] for t in sums)


@pytest.mark.parametrize("weights", [None, {"sent": 0.1, "vad": 0.2}])
def test_step_loss_is_the_weighted_sum_of_per_task_means(tmp_path, weights):
    tr = trainer(tmp_path, gradient_accumulation_steps=5, task_sampler="round_robin", task_weights=weights)
    model = tr.model.eval()
    batches = first_window(tr)
    assert [model.task_name(b["task"]) for b in batches] == ["emo", "sent", "vad", "emo", "sent"]
    n_items = tr._get_num_items_in_batch(batches, torch.device("cpu"))
    assert n_items.tolist() == [2 * 4 * 3, 2 * 4, 4 * 3]
    model.train()  # dropout is 0 in the tiny model: train mode gives the same numbers
    got = sum(tr.compute_loss(model, b, num_items_in_batch=n_items) for b in batches)
    model.eval()
    assert torch.allclose(got, reference_loss(model, batches, weights or {}), atol=1e-6)


def test_gradient_accumulation_equals_one_large_batch_per_task(tmp_path):
    """One task: 16 x 1 and 4 x 4 read the same 16 examples (the task's permutation) and take the same step."""
    one = {"emo": mt_dataset(mt_specs()[0], 32, 0, TOK)}
    a = trainer(tmp_path / "a", train=one, per_device_train_batch_size=16, max_steps=2)
    b = trainer(tmp_path / "b", train=one, per_device_train_batch_size=4, gradient_accumulation_steps=4, max_steps=2)
    a.train()
    b.train()
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert torch.allclose(p, q, atol=1e-6), n


def test_remove_unused_columns_keeps_weight_teacher_logits_and_task(tmp_path):
    extra = {"emo": {"weight": [0.5] * 12, "teacher_logits": [[0.1, 0.2, 0.3]] * 12, "junk": ["x"] * 12}}
    tr = trainer(tmp_path, train=data(extra=extra), remove_unused_columns=True, task_sampler="round_robin")
    b = first_window(tr)[0]
    assert {"weight", "teacher_logits", "task", "labels", "input_ids"} <= set(b)
    assert "junk" not in b and "text" not in b
    assert b["teacher_logits"].shape == (4, 3)


def test_task_weight_zero_silences_a_task(tmp_path):
    tr = trainer(tmp_path, task_weights={"sent": 0.0}, task_sampler="round_robin", gradient_accumulation_steps=3)
    b = first_window(tr)[1]
    assert tr.model.task_name(b["task"]) == "sent"
    loss = tr.compute_loss(tr.model.train(), b, num_items_in_batch=None)
    loss.backward()
    assert loss.item() == 0.0
    assert all(p.grad is None or not p.grad.any() for p in tr.model.parameters())


def test_evaluation_reports_every_task_with_prefixes(tmp_path):
    ev = data(sizes=(6, 6, 6), seed=10)
    tr = trainer(tmp_path, eval_dataset=ev)
    m = tr.evaluate()
    for key in ("eval_emo_f1_micro", "eval_sent_accuracy", "eval_vad_pearson_mean", "eval_emo_loss"):
        assert key in m
    assert m["eval_loss"] == pytest.approx(m["eval_emo_loss"] + m["eval_sent_loss"] + m["eval_vad_loss"])
    # the per-task loss is the gold-label loss of that task's head
    model = tr.model.eval()
    b = DataCollatorWithPadding(TOK)(
        [{k: ev["sent"][i][k] for k in ("input_ids", "attention_mask", "labels")} for i in range(6)]
    )
    with torch.no_grad():
        ref = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], task="sent", labels=b["labels"]).loss
    assert m["eval_sent_loss"] == pytest.approx(ref.item(), abs=1e-5)


def test_selection_metric_picks_the_best_checkpoint_by_a_task_metric(tmp_path):
    tr = trainer(
        tmp_path,
        eval_dataset=data(sizes=(6, 6, 6), seed=10),
        eval_strategy="steps",
        eval_steps=2,
        save_strategy="steps",
        save_steps=2,
        load_best_model_at_end=True,
        metric_for_best_model="sent_accuracy",
        max_steps=4,
    )
    tr.train()
    evals = [h for h in tr.state.log_history if "eval_sent_accuracy" in h]
    assert tr.state.best_metric == max(h["eval_sent_accuracy"] for h in evals)


def test_mtkd_cached_teacher_logits_give_the_kd_objective(tmp_path):
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(12, 3, generator=g).tolist()
    tr = trainer(
        tmp_path,
        train=data(extra={"emo": {"teacher_logits": logits}}),
        alpha=0.3,
        temperature=2.0,
        task_sampler="round_robin",
    )
    b = first_window(tr)[0]
    assert tr.model.task_name(b["task"]) == "emo"
    model = tr.model.train()
    got = tr.compute_loss(model, b)
    out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], task="emo")
    hard = supervised_loss(out.logits, b["labels"], "multi_label")
    kd = kd_bernoulli_loss(out.logits, b["teacher_logits"], 2.0)
    assert torch.allclose(got, 0.3 * hard + 0.7 * kd, atol=1e-6)


def test_task_kd_losses_set_one_tasks_form_and_leave_the_others(tmp_path):
    """12_kd_loss_form.sh compares KD forms on the emotion task of MTKD-TA: only that task's form may change."""
    logits = torch.randn(12, 3, generator=torch.Generator().manual_seed(1)).tolist()
    tr = trainer(
        tmp_path,
        train=data(extra={"emo": {"teacher_logits": logits}}),
        alpha=0.3,
        temperature=2.0,
        task_sampler="round_robin",
        task_kd_losses='{"emo": "kl_softmax"}',
    )
    assert tr.kd_fns == {"emo": kd_kl_loss, "sent": kd_kl_loss, "vad": kd_mse_loss}  # sent: auto = softmax KL
    b = first_window(tr)[0]
    model = tr.model.train()
    out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], task="emo")
    hard = supervised_loss(out.logits, b["labels"], "multi_label")
    assert torch.allclose(
        tr.compute_loss(model, b), 0.3 * hard + 0.7 * kd_kl_loss(out.logits, b["teacher_logits"], 2.0), atol=1e-6
    )
    every = trainer(tmp_path / "all", kd_loss="kl_bernoulli")  # one name for all: the single-label task too
    assert every.kd_fns["sent"] is kd_bernoulli_loss and every.kd_fns["vad"] is kd_mse_loss
    assert (
        config(tmp_path, kd_loss="kl_bernoulli", task_kd_losses={"sent": "auto"}).kd_loss_name("sent", "single_label")
        == "kl_softmax"
    )
    with pytest.raises(ValueError, match=r"task_kd_losses names task.*'news'"):
        trainer(tmp_path, task_kd_losses={"news": "kl_softmax"})


def test_mtkd_at_alpha_one_ignores_the_temperature(tmp_path):
    """alpha 1 weighs the KD term 0: T changes nothing, so Table 4's alpha-1 column needs one run (07_mtl_study)."""
    logits = torch.randn(12, 3, generator=torch.Generator().manual_seed(1)).tolist()
    weights = []
    for t in (1.0, 4.0):
        torch.manual_seed(0)
        tr = trainer(
            tmp_path / str(t),
            model=mt_model(),
            train=data(extra={"emo": {"teacher_logits": logits}}),
            alpha=1.0,
            temperature=t,
        )
        tr.train()
        weights.append({k: v.detach().clone() for k, v in tr.model.state_dict().items()})
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_mtkd_live_teacher_matches_cached_logits(tmp_path):
    from hf_emo.models import PooledClassifier, PooledClassifierConfig
    from hf_emo.teachers import cache_teacher_logits
    from conftest import tiny_bert_config

    spec = mt_specs()[1]
    torch.manual_seed(3)
    teacher = PooledClassifier(
        PooledClassifierConfig(
            encoder=tiny_bert_config().to_dict(), num_labels=2, id2label=spec.id2label, label2id=spec.label2id
        )
    ).eval()
    raw = mt_dataset(spec, 16, 1)
    cached = cache_teacher_logits(teacher, raw, TOK, batch_size=8)
    tok = lambda d: d.map(lambda x: TOK(x["text"]), batched=True)  # noqa: E731
    live = trainer(tmp_path / "l", train={"sent": tok(raw)}, teacher_model={"sent": teacher}, alpha=0.5)
    cach = trainer(tmp_path / "c", train={"sent": tok(cached)}, alpha=0.5)
    bl, bc = first_window(live)[0], first_window(cach)[0]
    assert torch.equal(bl["input_ids"], bc["input_ids"])
    assert torch.allclose(
        live.compute_loss(live.model.train(), bl), cach.compute_loss(cach.model.train(), bc), atol=1e-5
    )


def test_teacher_label_space_is_checked_per_task(tmp_path):
    from hf_emo.models import PooledClassifier, PooledClassifierConfig
    from conftest import tiny_bert_config

    wrong = PooledClassifier(
        PooledClassifierConfig(
            encoder=tiny_bert_config().to_dict(),
            num_labels=2,
            id2label={0: "bad", 1: "good"},
            label2id={"bad": 0, "good": 1},
        )
    )
    with pytest.raises(ValueError, match="bad.*good|neg.*pos"):
        trainer(tmp_path, teacher_model={"sent": wrong})


def test_bad_inputs_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match=r"task\(s\) \['news'\].*emo"):
        trainer(tmp_path, train={"news": mt_dataset(mt_specs()[0], 4, 0, TOK)})
    with pytest.raises(ValueError, match="no 'labels' column"):
        trainer(tmp_path, train={"emo": mt_dataset(mt_specs()[0], 4, 0, TOK).remove_columns("labels")})
    with pytest.raises(ValueError, match="neither 'input_ids'"):
        trainer(tmp_path, train={"emo": mt_dataset(mt_specs()[0], 4, 0)})
    with pytest.raises(ValueError, match="task_weights names task 'news'"):
        trainer(tmp_path, task_weights={"news": 0.1})
    with pytest.raises(TypeError, match="MultiTaskModel"):
        MultiTaskTrainer(torch.nn.Linear(2, 2), config(tmp_path))


@pytest.mark.parametrize(
    "kw,msg",
    [
        ({"task_sampler": "random"}, "task_sampler"),
        ({"task_sampler": "capped"}, "task_cap"),
        ({"task_weights": '{"a": -1}'}, "must be a number >= 0"),
        ({"task_weights": "{bad"}, "not valid JSON"),
        ({"loss_weighting": "gradnorm", "task_weights": {"a": 1}}, "exclude each other"),
        ({"gradnorm_alpha": -1}, "gradnorm_alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"task_kd_losses": {"emo": "kl"}}, r"task_kd_losses\['emo'\] = 'kl' is not a reg"),
    ],
)
def test_config_validation(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg):
        config(tmp_path, **kw)


def test_config_json_weights_and_ddp_default(tmp_path):
    c = config(tmp_path, task_weights='{"sent": 0.1}')
    assert c.task_weights == {"sent": 0.1}
    assert c.ddp_find_unused_parameters is True


# -- GradNorm ------------------------------------------------------------------------------------------
def test_gradnorm_loss_by_hand():
    G = torch.tensor([2.0, 1.0], requires_grad=True)
    L, L0 = torch.tensor([0.5, 1.0]), torch.tensor([1.0, 1.0])
    # ratios 0.5, 1 -> r = 2/3, 4/3; mean G = 1.5; alpha 1 -> targets 1, 2; |2-1| + |1-2| = 2
    loss = gradnorm_loss(G, L, L0, alpha=1.0)
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert G.grad.tolist() == [1.0, -1.0]  # the target is a constant


def test_gradnorm_weights_sum_to_tasks_and_the_faster_task_loses_weight():
    gn = GradNormWeights(["fast", "slow", "other"], alpha=1.0, lr=0.05)
    norms = torch.tensor([1.0, 1.0, 1.0])
    present = torch.tensor([True, True, True])
    gn.step(norms, torch.tensor([1.0, 1.0, 1.0]), present)  # the first step sets L(0)
    history = []
    for k in range(1, 30):
        losses = torch.tensor([1.0 / (1 + k), 1.0, 0.9])  # "fast" falls fastest
        gn.step(norms, losses, present)
        history.append(gn.weights.data.clone())
        assert gn.weights.data.sum().item() == pytest.approx(3.0, abs=1e-5)
    assert history[-1][0] < history[0][0] < 1.0
    assert history[-1][1] > 1.0  # the slow task gains


def test_gradnorm_training_logs_weights_that_sum_to_three(tmp_path):
    tr = trainer(
        tmp_path,
        loss_weighting="gradnorm",
        gradnorm_lr=0.05,
        task_sampler="round_robin",
        gradient_accumulation_steps=3,
        max_steps=4,
    )
    tr.train()
    logs = [h for h in tr.state.log_history if "task_weight_emo" in h]
    assert len(logs) == 4
    for h in logs:
        assert sum(h[f"task_weight_{t}"] for t in ("emo", "sent", "vad")) == pytest.approx(3.0, abs=1e-4)
    assert logs[-1]["task_weight_emo"] != 1.0
    assert not np.isnan(tr.gradnorm.initial_losses).any()


def test_gradnorm_grad_norm_is_the_shared_layer_gradient(tmp_path):
    tr = trainer(tmp_path, loss_weighting="gradnorm", task_sampler="round_robin", gradient_accumulation_steps=3)
    batches = first_window(tr)
    n_items = tr._get_num_items_in_batch(batches, torch.device("cpu"))
    model = tr.model.train()
    tr.compute_loss(model, batches[1], num_items_in_batch=n_items)  # task "sent"
    model.zero_grad()
    out = model(input_ids=batches[1]["input_ids"], attention_mask=batches[1]["attention_mask"], task="sent")
    supervised_loss(out.logits, batches[1]["labels"], "single_label", num_items_in_batch=n_items[1]).backward()
    ref = torch.cat([p.grad.reshape(-1) for p in model.shared_layer.parameters()])
    assert torch.allclose(tr.gradnorm.grads[1], ref, atol=1e-6)


@pytest.mark.parametrize(
    "weighting,sampler", [("static", "temperature"), ("gradnorm", "temperature"), ("gradnorm", "mixed")]
)
def test_resume_continues_sampler_annealing_and_gradnorm_exactly(tmp_path, weighting, sampler):
    kw = dict(
        loss_weighting=weighting,
        task_sampler=sampler,
        task_sampling_temperature=0.5,
        alpha_schedule="linear",
        alpha_start=0.1,
        alpha_end=0.7,
        max_steps=8,
        save_strategy="steps",
        save_steps=4,
        gradient_accumulation_steps=3,
        gradnorm_lr=0.05,
    )
    g = torch.Generator().manual_seed(2)
    extra = {"emo": {"teacher_logits": torch.randn(12, 3, generator=g).tolist()}}
    straight = trainer(tmp_path / "a", train=data(extra=extra), **kw)
    straight.train()
    part = trainer(tmp_path / "b", train=data(extra=extra), **{**kw, "max_steps": 8})
    part.args.max_steps = 8
    part.train()  # writes checkpoint-4 and checkpoint-8; resume from 4 in a fresh trainer
    resumed = trainer(tmp_path / "b", train=data(extra=extra), model=mt_model(seed=123), **kw)
    resumed.train(resume_from_checkpoint=str(tmp_path / "b" / "out" / "checkpoint-4"))
    for (n, p), (_, q) in zip(straight.model.named_parameters(), resumed.model.named_parameters()):
        assert torch.allclose(p, q, atol=1e-6), n
    if weighting == "gradnorm":
        assert torch.allclose(straight.gradnorm.weights.data, resumed.gradnorm.weights.data, atol=1e-6)
    a_logs = [h.get("alpha") for h in straight.state.log_history if "loss" in h][4:]
    b_logs = [h.get("alpha") for h in resumed.state.log_history if "loss" in h][-4:]
    assert a_logs == b_logs


def test_cached_features_train_like_a_frozen_encoder(tmp_path):
    from hf_emo.features import cache_encoder_features

    raw = data()
    frozen = mt_model()
    frozen.freeze_encoder()
    a = trainer(tmp_path / "a", model=frozen, train=raw, task_sampler="round_robin", max_steps=5)
    a.train()
    cached_model = mt_model()
    cached_model.freeze_encoder()
    feats = {t: cache_encoder_features(cached_model, d, batch_size=5) for t, d in raw.items()}
    assert "features" in feats["emo"].column_names and "input_ids" not in feats["emo"].column_names
    assert len(feats["emo"][0]["features"]) == 32
    b = MultiTaskTrainer(
        cached_model, config(tmp_path / "b", task_sampler="round_robin", max_steps=5), train_dataset=feats
    )
    b.train()
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert torch.allclose(p, q, atol=1e-5), n
    assert torch.equal(
        a.model.encoder.embeddings.word_embeddings.weight, mt_model().encoder.embeddings.word_embeddings.weight
    )  # the encoder never moved


def test_feature_cache_on_disk_is_reused(tmp_path):
    from hf_emo.features import cache_encoder_features

    raw = mt_dataset(mt_specs()[0], 10, 0)
    model = mt_model()
    first = cache_encoder_features(model, raw, TOK, cache_dir=tmp_path / "feats")
    assert len(list((tmp_path / "feats").iterdir())) == 1
    with torch.no_grad():  # same encoder identity, other weights: the cache answers, the encoder does not run
        model.encoder.embeddings.word_embeddings.weight.add_(1.0)
    again = cache_encoder_features(model, raw, TOK, cache_dir=tmp_path / "feats")
    assert again["features"] == first["features"]
    fresh = cache_encoder_features(model, raw, TOK)
    assert fresh["features"] != first["features"]
    other = cache_encoder_features(model, mt_dataset(mt_specs()[0], 10, 1), TOK, cache_dir=tmp_path / "feats")
    assert len(list((tmp_path / "feats").iterdir())) == 2 and other["features"] != first["features"]


def test_mixed_batches_sum_task_losses_in_proportion_to_their_rows(tmp_path):
    """TBED-MTL §4: a batch drawn from the union; the loss is sum_t (n_t / N) L_t, L_t each task's mean."""
    tr = trainer(tmp_path, task_sampler="mixed", per_device_train_batch_size=12, gradient_accumulation_steps=2)
    model = tr.model.eval()
    window = first_window(tr)
    assert all("task_batches" in b for b in window)
    subs = [s for b in window for s in b["task_batches"]]
    assert len({model.task_name(s["task"]) for s in subs}) == 3
    n_items = tr._get_num_items_in_batch(window, torch.device("cpu"))
    rows = {model.task_name(torch.tensor([t])): int(n) for t, n in enumerate(n_items[1])}
    assert sum(rows.values()) == 24
    got = sum(tr.compute_loss(model, b, num_items_in_batch=n_items) for b in window)
    per_task = {}
    for s in subs:  # reference: each task's mean over the window, weighted by its share of the window's rows
        t = model.task_name(s["task"])
        per_task.setdefault(t, []).append(s)
    want = sum(rows[t] / 24 * reference_loss(model, bs, {}) for t, bs in per_task.items())
    assert torch.allclose(got, want, atol=1e-6)


def test_mixed_batches_accumulate_like_one_large_batch(tmp_path):
    a = trainer(tmp_path / "a", task_sampler="mixed", per_device_train_batch_size=12, max_steps=2)
    b = trainer(
        tmp_path / "b", task_sampler="mixed", per_device_train_batch_size=4, gradient_accumulation_steps=3, max_steps=2
    )
    a.train()
    b.train()
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert torch.allclose(p, q, atol=1e-6), n
    assert any(k.startswith("loss_") for h in b.state.log_history for k in h)
