"""The Trainer family: methods that describe themselves, a flat hierarchy, losses by name, reuse on plain HF models."""

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from transformers import DataCollatorWithPadding, TrainingArguments

from hf_emo.data import TaskSpec
from hf_emo.losses import bce_single_label_loss, ce_loss, kd_bernoulli_loss
from hf_emo.models import MultiTaskModel
from hf_emo.trainers import (
    ConsistencyDistillationConfig,
    ConsistencyDistillationTrainer,
    DistillationConfig,
    DistillationTrainer,
    EmotionConfig,
    EmotionTrainer,
    GenerativeConfig,
    GenerativeTrainer,
    MultiTaskConfig,
    MultiTaskTrainer,
    PretrainingDistillationConfig,
    PretrainingDistillationTrainer,
)
from hf_emo.trainers.loss_log import LossLog
from tests.conftest import mt_dataset, mt_model, mt_specs, tiny_bert_config, tiny_tokenizer
from tests.test_emotion_trainer import SPECS, tiny_model, toy_dataset
from tests.test_generative import SINGLE, decoder_dir  # noqa: F401,F811  (a tiny Llama folder, for GenerativeTrainer)

ROOT = Path(__file__).resolve().parents[1]


def _kw(tmp_path, **kw):
    base = dict(
        output_dir=str(tmp_path),
        max_steps=2,
        learning_rate=1e-2,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=0,
        use_cpu=True,
        per_device_train_batch_size=4,
        train_sampling_strategy="sequential",
    )
    base.update(kw)
    return base


def _cached(spec, n=8, seed=1):
    from hf_emo.teachers import cache_teacher_logits

    return cache_teacher_logits(tiny_model(spec, seed=seed), toy_dataset(spec, n=n), batch_size=4)


def _trainers(tmp_path, decoder_dir):
    """One trainer of every exported class, each on its smallest valid input."""
    spec = SPECS["multi_label"]
    single = SPECS["single_label"]
    yield EmotionTrainer(tiny_model(spec), EmotionConfig(**_kw(tmp_path / "e")), train_dataset=toy_dataset(spec))
    yield DistillationTrainer(
        tiny_model(spec),
        DistillationConfig(**_kw(tmp_path / "d", alpha_schedule="linear")),
        train_dataset=_cached(spec),
    )
    pairs = _cached(single).add_column("disagreement", [0.1 * i for i in range(8)])
    yield ConsistencyDistillationTrainer(
        tiny_model(single), ConsistencyDistillationConfig(**_kw(tmp_path / "c")), train_dataset=pairs
    )
    tok = tiny_tokenizer()
    yield MultiTaskTrainer(
        mt_model(),
        MultiTaskConfig(**_kw(tmp_path / "m", loss_weighting="gradnorm")),
        train_dataset={s.name: mt_dataset(s, 8, i, tok) for i, s in enumerate(mt_specs())},
        data_collator=DataCollatorWithPadding(tok),
    )
    from hf_emo.generative import PromptFormat, build_decoder, load_decoder_tokenizer, tokenize_prompt_completion

    decoder_tokenizer = load_decoder_tokenizer(str(decoder_dir))
    rows = tokenize_prompt_completion(
        Dataset.from_dict({"text": ["i am happy", "i am sad"], "labels": [0, 2]}),
        decoder_tokenizer,
        PromptFormat(SINGLE),
    )
    yield GenerativeTrainer(
        build_decoder(str(decoder_dir), SINGLE, decoder_tokenizer, lora_r=4),
        GenerativeConfig(**_kw(tmp_path / "g", load_in_4bit=True)),
        train_dataset=rows,
        processing_class=decoder_tokenizer,
    )
    from transformers import AutoModelForCausalLM, DataCollatorForLanguageModeling

    from hf_emo.models import init_student_from_teacher

    lm_teacher = AutoModelForCausalLM.from_pretrained(decoder_dir)
    blocks = Dataset.from_dict({"input_ids": [[2, 5, 6, 7]] * 4, "attention_mask": [[1] * 4] * 4})
    yield PretrainingDistillationTrainer(
        init_student_from_teacher(lm_teacher),
        PretrainingDistillationConfig(
            **{k: v for k, v in _kw(tmp_path / "p").items() if k != "train_sampling_strategy"}
        ),
        teacher_model=lm_teacher,
        train_dataset=blocks,
        data_collator=DataCollatorForLanguageModeling(decoder_tokenizer, mlm=False),
    )


# -- 1. a method describes itself ---------------------------------------------------------------------------
EXPECTED = {
    "EmotionTrainer": ("Supervised fine-tuning", ["matei_mtkd_romanian"]),
    "DistillationTrainer": ("Knowledge distillation", ["hinton2015distilling", "clark2019bam"]),
    "ConsistencyDistillationTrainer": ("Cross-lingual consistency distillation", ["wang2024knowledge"]),
    "MultiTaskTrainer": ("Multi-task learning", ["mtl_disparate_labels", "chen2018gradnorm"]),
    "GenerativeTrainer": ("Generative baseline", ["wang2024knowledge", "hu2022lora", "dettmers2023qlora"]),
    "PretrainingDistillationTrainer": ("Pretraining distillation", ["avram2022distilling", "sanh2019distilbert"]),
}


def test_every_exported_trainer_cards_its_own_method_and_citation(tmp_path, decoder_dir):
    import hf_emo.trainers as family

    seen = set()
    for trainer in _trainers(tmp_path, decoder_dir):
        name = type(trainer).__name__
        seen.add(name)
        trainer.create_model_card()
        card = (Path(trainer.args.output_dir) / "README.md").read_text()
        method, keys = EXPECTED[name]
        assert f"`{name}`" in card and (method in card or method.lower() in card), name
        for key in keys:
            assert key in card, (name, key)
        assert "Supervised fine-tuning" not in card or name == "EmotionTrainer", name
        description = trainer.method_description()
        assert description.trainer == name and description.name == method
        assert set(description.tags) >= {"hf_emo"} and description.citations
    exported = {n for n in family.__all__ if n.endswith("Trainer")}
    assert seen == exported


def test_a_distillation_record_without_kd_keys_is_still_carded_as_distillation(tmp_path):
    """The card reads the method from the trainer's description, not from which metrics a run has."""
    from hf_emo.cards import render_trainer_card

    trainer = DistillationTrainer(
        tiny_model(SPECS["multi_label"]),
        DistillationConfig(**_kw(tmp_path)),
        train_dataset=_cached(SPECS["multi_label"]),
    )
    record = {"run": {"method": trainer.method_description().to_dict(), "model": "x"}}  # no 'distillation' entry
    card = render_trainer_card(record, trainer._card_config(), name="student")
    assert "Knowledge distillation" in card and "Supervised fine-tuning" not in card
    with pytest.raises(ValueError, match="run.method .*older hf_emo"):
        render_trainer_card({"run": {"method": "DistillationTrainer"}}, trainer._card_config(), name="old")


def test_describe_reflects_the_settings(tmp_path):
    constant = DistillationTrainer.describe(
        DistillationConfig(**_kw(tmp_path, alpha=0.3, temperature=2.0)), problem_type="single_label", teachers=1
    )
    annealed = DistillationTrainer.describe(
        DistillationConfig(**_kw(tmp_path, alpha_schedule="linear", cosine_loss_weight=0.1)),
        problem_type="multi_label",
        teachers=2,
    )
    assert "constant alpha = 0.3" in constant.summary and "T = 2.0" in constant.summary
    assert constant.settings["kd_loss"] == "kl_softmax" and "clark2019" not in constant.citations
    assert "teacher annealing" in annealed.summary and "averaged over 2 teachers" in annealed.summary
    assert {"clark2019", "avram2022", "sanh2019"} <= set(annealed.citations)
    assert annealed.settings["kd_loss"] == "kl_bernoulli"
    focal = EmotionTrainer.describe(
        EmotionConfig(**_kw(tmp_path, loss="focal", loss_kwargs='{"gamma": 1.0}')), problem_type="multi_label"
    )
    assert "focal" in focal.summary and "lin2017" in focal.citations and focal.settings["loss_kwargs"] == {"gamma": 1.0}


# -- 2. a hierarchy without skipped constructors --------------------------------------------------------------
def test_each_trainer_calls_its_real_parent_and_each_config_holds_its_own_fields():
    assert MultiTaskTrainer.__mro__[1] is EmotionTrainer and DistillationTrainer not in MultiTaskTrainer.__mro__
    for cls in (DistillationTrainer, ConsistencyDistillationTrainer, MultiTaskTrainer):
        source = inspect.getsource(cls)
        assert "EmotionTrainer.__init__(self" not in source and "EmotionTrainer.compute_loss(self" not in source
    import dataclasses

    mt_fields = {f.name for f in dataclasses.fields(MultiTaskConfig)}
    assert "cosine_loss_weight" not in mt_fields and {"temperature", "alpha_schedule", "task_losses"} <= mt_fields
    assert "task_losses" not in {f.name for f in dataclasses.fields(DistillationConfig)}


def test_multitask_trainer_accepts_the_hf_label_column(tmp_path):
    tok = tiny_tokenizer()
    sets = {s.name: mt_dataset(s, 8, i, tok).rename_column("labels", "label") for i, s in enumerate(mt_specs())}
    trainer = MultiTaskTrainer(
        mt_model(),
        MultiTaskConfig(**_kw(tmp_path)),
        train_dataset=sets,
        eval_dataset={"sent": sets["sent"]},
        data_collator=DataCollatorWithPadding(tok),
    )
    trainer.train()
    assert all("labels" in d.column_names for d in trainer.train_sets.values())
    assert "eval_sent_accuracy" in trainer.evaluate()


def test_teachers_component_freezes_and_averages_hidden_states(tmp_path):
    from hf_emo.teachers import Teachers

    spec = SPECS["multi_label"]
    teachers = Teachers([tiny_model(spec, seed=1), tiny_model(spec, seed=2)], spec)
    assert all(not t.training and not any(p.requires_grad for p in t.parameters()) for t in teachers)
    batch = {"input_ids": torch.tensor([[2, 7, 8, 3]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    logits, hidden = teachers.logits(batch, output_hidden_states=True)
    assert logits.shape == (1, 2, spec.num_labels) and len(hidden) == 2
    with pytest.raises(ValueError, match="teacher dtype"):
        Teachers([], spec, dtype="int8")


# -- 3. losses and metrics by name ----------------------------------------------------------------------------
def test_the_configured_loss_trains_and_task_losses_apply_per_task(tmp_path):
    spec = SPECS["single_label"]
    trainer = EmotionTrainer(
        tiny_model(spec), EmotionConfig(**_kw(tmp_path, loss="bce_single_label")), train_dataset=toy_dataset(spec)
    )
    batch = trainer._prepare_inputs(next(iter(trainer.get_train_dataloader())))
    trainer.model.train()
    logits = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert torch.allclose(trainer.compute_loss(trainer.model, batch), bce_single_label_loss(logits, batch["labels"]))
    with pytest.raises(ValueError, match="for \\['single_label'\\] tasks, not multi_label"):
        EmotionTrainer(
            tiny_model(SPECS["multi_label"]),
            EmotionConfig(**_kw(tmp_path, loss="label_smoothed_ce")),
            train_dataset=toy_dataset(SPECS["multi_label"]),
        )
    with pytest.raises(ValueError, match="label_smoothing_factor.*label_smoothed_ce"):
        EmotionConfig(**_kw(tmp_path, label_smoothing_factor=0.1))
    tok = tiny_tokenizer()
    mt = MultiTaskTrainer(
        mt_model(),
        MultiTaskConfig(**_kw(tmp_path, task_losses={"sent": "bce_single_label"})),
        train_dataset={s.name: mt_dataset(s, 8, i, tok) for i, s in enumerate(mt_specs())},
        data_collator=DataCollatorWithPadding(tok),
    )
    assert mt.task_loss_fns["sent"][0] == "bce_single_label" and mt.task_loss_fns["emo"][0] == "bce"
    with pytest.raises(ValueError, match="task_losses names task 'news'"):
        MultiTaskTrainer(
            mt_model(),
            MultiTaskConfig(**_kw(tmp_path, task_losses={"news": "ce"})),
            train_dataset={"sent": mt_dataset(mt_specs()[1], 8, 0, tok)},
        )


def test_eval_loss_does_not_depend_on_the_alpha_schedule(tmp_path):
    spec = SPECS["multi_label"]
    data = _cached(spec)
    args = DistillationConfig(**_kw(tmp_path, alpha_schedule="linear", alpha_start=0.0, alpha_end=1.0, max_steps=4))
    trainer = DistillationTrainer(tiny_model(spec, seed=3), args, train_dataset=data, eval_dataset=data)
    trainer.state.max_steps = 4
    at = {}
    for step in (0, 4):
        trainer.state.global_step = step
        at[step] = trainer.evaluate()
    assert at[0]["eval_loss"] == pytest.approx(at[4]["eval_loss"], abs=1e-7)
    assert at[0]["eval_loss_kd"] == pytest.approx(at[4]["eval_loss_kd"], abs=1e-7) and at[0]["eval_loss_kd"] > 0
    model = trainer.model.eval()
    with torch.no_grad():
        rows = trainer._prepare_inputs(
            DataCollatorWithPadding(tiny_tokenizer())(
                [{k: data[i][k] for k in ("input_ids", "attention_mask", "labels", "teacher_logits")} for i in range(8)]
            )
        )
        logits = model(input_ids=rows["input_ids"], attention_mask=rows["attention_mask"]).logits
        gold = torch.nn.functional.binary_cross_entropy_with_logits(logits, rows["labels"].float())
        kd = kd_bernoulli_loss(logits, rows["teacher_logits"], 1.0)
    assert at[0]["eval_loss"] == pytest.approx(float(gold), abs=1e-5)
    assert at[0]["eval_loss_kd"] == pytest.approx(float(kd), abs=1e-5)


def test_loss_log_averages_each_part_over_the_steps_it_occurred_in():
    log = LossLog()
    for step_parts in ({"a": 1.0, "b": 4.0}, {"a": 3.0}):
        for name, value in step_parts.items():  # two micro-batches of half the step each
            log.add(name, torch.tensor(value / 2))
            log.add(name, torch.tensor(value / 2))
        log.add_mean("alpha", 0.25)
        log.end_step()
    assert log.pop() == {"a": 2.0, "b": 4.0, "alpha": 0.25}
    assert log.pop() == {}


def test_training_logs_named_parts_from_one_accumulator(tmp_path):
    spec = SPECS["multi_label"]
    trainer = DistillationTrainer(
        tiny_model(spec),
        DistillationConfig(**_kw(tmp_path, gradient_accumulation_steps=2)),
        train_dataset=_cached(spec, n=16),
    )
    trainer.train()
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert logged and all({"loss_hard", "loss_kd", "alpha"} <= set(h) for h in logged)
    for h in logged:  # loss = alpha * hard + (1 - alpha) * kd with alpha = 0.5
        assert h["loss"] == pytest.approx(0.5 * h["loss_hard"] + 0.5 * h["loss_kd"], rel=1e-3, abs=1e-4)


# -- 4. reuse in other HF projects (only the trainer comes from hf_emo) ---------------------------------------
def _plain_model(num_labels=3, names=("joy", "anger", "fear"), problem_type="multi_label_classification", seed=0):
    from transformers import BertForSequenceClassification

    torch.manual_seed(seed)
    kw = dict(num_labels=num_labels, problem_type=problem_type)
    if names:
        kw.update(id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    return BertForSequenceClassification(tiny_bert_config(**kw))


def _plain_rows(multi_label=True):
    tok = tiny_tokenizer()
    texts = ["i am happy today", "this is awful", "i hate it", "great day", "i am afraid", "not good"] * 2
    labels = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]] * 2
    rows = Dataset.from_dict(
        {
            "text": texts,
            "labels" if multi_label else "label": labels
            if multi_label
            else [max(range(3), key=lab.__getitem__) for lab in labels],
        }
    )
    return rows.map(lambda b: tok(b["text"]), batched=True), tok


def test_plain_hf_model_and_training_arguments_with_a_label_i_teacher(tmp_path):
    rows, tok = _plain_rows()
    student, teacher = _plain_model(), _plain_model(names=None, seed=1)  # teacher: LABEL_0..2 only
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        report_to="none",
        learning_rate=1e-2,
        use_cpu=True,
        save_strategy="no",
        logging_steps=1,
    )
    trainer = DistillationTrainer(
        model=student,
        args=args,
        teacher_model=teacher,
        train_dataset=rows,
        eval_dataset=rows,
        processing_class=tok,
        data_collator=DataCollatorWithPadding(tok),
    )
    assert isinstance(trainer.args, DistillationConfig) and trainer.args.learning_rate == 1e-2
    assert trainer.args.temperature == 1.0 and trainer.args.max_steps == 2  # the method's defaults filled in
    spec = trainer.task_spec
    assert (spec.problem_type, spec.label_names) == ("multi_label", ("joy", "anger", "fear"))
    trainer.train()
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_loss_kd", "eval_f1_micro"} <= set(metrics)
    # single-label from an unset problem_type and the HF `label` column, as transformers decides it
    rows1, _ = _plain_rows(multi_label=False)
    single = EmotionTrainer(
        model=_plain_model(problem_type=None),
        args=args,
        train_dataset=rows1,
        data_collator=DataCollatorWithPadding(tok),
    )
    assert single.task_spec.problem_type == "single_label"
    single.train()


def test_a_wrong_args_type_is_one_sentence_naming_the_config_class():
    with pytest.raises(TypeError, match=r"DistillationTrainer takes its settings as a DistillationConfig .*got dict"):
        DistillationTrainer(model=_plain_model(), args={"learning_rate": 1e-3})


def test_push_to_hub_uploads_the_project_card(tmp_path, monkeypatch):
    import transformers.trainer as hf_trainer

    uploaded = {}

    class FakeApi:
        def create_repo(self, repo_id, **kw):
            return type("Url", (), {"repo_id": f"someone/{Path(repo_id).name}"})()

        def upload_folder(self, repo_id, folder_path, **kw):
            uploaded["repo"] = repo_id
            uploaded["files"] = sorted(p.name for p in Path(folder_path).iterdir())
            uploaded["card"] = (Path(folder_path) / "README.md").read_text()

    monkeypatch.setattr(hf_trainer, "hf_api", lambda *a, **k: FakeApi())
    rows, tok = _plain_rows()
    args = TrainingArguments(
        output_dir=str(tmp_path / "student"),
        max_steps=1,
        per_device_train_batch_size=4,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        hub_token="hf_" + "x" * 30,
    )
    trainer = DistillationTrainer(
        model=_plain_model(),
        args=args,
        teacher_model=_plain_model(seed=1),
        train_dataset=rows,
        eval_dataset=rows,
        data_collator=DataCollatorWithPadding(tok),
    )
    trainer.train()
    trainer.evaluate()
    trainer.push_to_hub()
    card = uploaded["card"]
    assert uploaded["repo"] == "someone/student" and "README.md" in uploaded["files"]
    assert "Knowledge distillation" in card and "hinton2015distilling" in card and "`DistillationTrainer`" in card
    assert "Validation-set metrics" in card and "f1_micro" in card
    assert "hf_xxxx" not in card and str(tmp_path) not in card


# -- 5. import hygiene ----------------------------------------------------------------------------------------
def test_import_hf_emo_loads_neither_torch_nor_transformers():
    code = (
        "import sys, hf_emo; heavy = [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules]; "
        "print(heavy); assert not heavy; assert hf_emo.DistillationTrainer.__name__ == 'DistillationTrainer'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_public_name_resolves_and_dead_code_is_gone():
    import hf_emo
    import hf_emo.losses as losses

    for name in hf_emo.__all__:
        assert getattr(hf_emo, name) is not None, name
    assert not hasattr(losses, "consistency_kd_loss")
    assert "loss_is_scaled_for_ga" not in vars(EmotionTrainer)  # Trainer's own rule applies (see compute_loss)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hf_emo.nope  # noqa: B018
    assert isinstance(MultiTaskModel, type) and ce_loss and TaskSpec


def test_evaluate_modules_add_to_the_task_metrics(tmp_path):
    evaluate = pytest.importorskip("evaluate")
    import datasets

    class ExactRows(evaluate.Metric):  # a real evaluate module, defined locally (evaluate.load needs the Hub)
        def _info(self):
            return evaluate.MetricInfo(
                description="rows predicted exactly",
                citation="",
                inputs_description="",
                features=datasets.Features(
                    {
                        "predictions": datasets.Sequence(datasets.Value("int64")),
                        "references": datasets.Sequence(datasets.Value("int64")),
                    }
                ),
            )

        def _compute(self, predictions, references):
            return {
                "exact_rows": sum(p == r for p, r in zip(predictions, references)) / len(references),
                "subset_accuracy": -1.0,
            }  # collides with hf_emo's own key: kept under the module's name

    spec = SPECS["multi_label"]
    data = toy_dataset(spec)
    trainer = EmotionTrainer(
        tiny_model(spec),
        EmotionConfig(**_kw(tmp_path)),
        train_dataset=data,
        eval_dataset=data,
        extra_metrics=[ExactRows()],
    )
    metrics = trainer.evaluate()
    assert metrics["eval_exact_rows"] == pytest.approx(metrics["eval_subset_accuracy"])
    assert metrics["eval_exact_rows_subset_accuracy"] == -1.0


def test_a_new_method_is_a_config_a_trainer_and_one_registration(tmp_path):
    """What a new KD-style method needs: its config, its trainer (name, tags, citation, describe) and one
    registration with the pipeline; its card follows (tests/test_pipeline.py runs one through hf-emo)."""
    from dataclasses import dataclass, field

    from hf_emo.method import MethodDescription

    @dataclass
    class LogitMatchingConfig(DistillationConfig):
        match_weight: float = field(default=1.0)

    class LogitMatchingTrainer(DistillationTrainer):
        _name = "Logit matching"
        _citations = ("@misc{ba2014deep, title = {Do Deep Nets Really Need to be Deep?}, year = {2014}}",)
        config_class = LogitMatchingConfig

        @classmethod
        def describe(cls, args, **facts):
            return MethodDescription(
                cls.__name__,
                cls._name,
                f"MSE between logits, weight {args.match_weight}.",
                tags=cls._tag_names,
                citations=cls._citations,
            )

    spec = SPECS["multi_label"]
    trainer = LogitMatchingTrainer(tiny_model(spec), TrainingArguments(**_kw(tmp_path)), train_dataset=_cached(spec))
    assert isinstance(trainer.args, LogitMatchingConfig)
    trainer.create_model_card()
    card = (tmp_path / "README.md").read_text()
    assert "(logit matching)" in card and "ba2014deep" in card and "weight 1.0" in card
    from hf_emo.jobs.methods import METHODS, DistillationJob, method_for_config, register_method

    try:  # one registration makes it a method of the pipeline, found by its config
        register_method("logit-matching", DistillationJob, LogitMatchingTrainer)
        assert method_for_config(trainer.args).trainer is LogitMatchingTrainer
        assert method_for_config(DistillationConfig(**_kw(tmp_path))).trainer is DistillationTrainer
    finally:
        METHODS.pop("logit-matching", None)


@pytest.mark.parametrize("problem_type", ["multi_label", "single_label", "regression"])
def test_an_evaluate_f1_module_gets_the_average_its_task_needs(tmp_path, problem_type):
    """evaluate's f1 (here a local copy of its compute: sklearn's f1_score, average='binary' by default) failed on
    every multi-class and multi-label task; the trainer passes the task's averaging, and a (module, kwargs) pair
    chooses its own. A module without ``average`` (regression: pearson-like) is called as it is."""
    evaluate = pytest.importorskip("evaluate")
    import datasets
    import numpy as np
    from sklearn.metrics import f1_score

    from hf_emo.metrics import decisions, extra_metric_arguments

    class LocalF1(evaluate.Metric):  # evaluate.load("f1") needs the Hub; its _compute is this
        def _info(self):
            feature = datasets.Sequence(datasets.Value("int32")) if problem_type == "multi_label" else \
                datasets.Value("int32")  # fmt: skip
            return evaluate.MetricInfo(
                description="f1",
                citation="",
                inputs_description="",
                features=datasets.Features({"predictions": feature, "references": feature}),
            )

        def _compute(self, predictions, references, labels=None, pos_label=1, average="binary", sample_weight=None):
            return {
                "f1": float(
                    f1_score(
                        references,
                        predictions,
                        labels=labels,
                        pos_label=pos_label,
                        average=average,
                        sample_weight=sample_weight,
                    )
                )
            }

    class MeanError(evaluate.Metric):
        def _info(self):
            return evaluate.MetricInfo(description="", citation="", inputs_description="", features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float32")),
                 "references": datasets.Sequence(datasets.Value("float32"))}))  # fmt: skip

        def _compute(self, predictions, references):
            return {"mean_error": float(np.mean(np.asarray(predictions) - np.asarray(references)))}

    spec = SPECS[problem_type]
    data = toy_dataset(spec)
    # two instances of one module need their own experiment_id (evaluate keys its cache files by name and id)
    modules = (
        [MeanError()]
        if problem_type == "regression"
        else [LocalF1(experiment_id="task"), (LocalF1(experiment_id="weighted"), {"average": "weighted"})]
    )
    trainer = EmotionTrainer(tiny_model(spec), EmotionConfig(**_kw(tmp_path)), train_dataset=data, eval_dataset=data,
                             extra_metrics=modules)  # fmt: skip
    metrics = trainer.evaluate()
    if problem_type == "regression":
        assert "eval_mean_error" in metrics and extra_metric_arguments(MeanError(), spec) == {}
        return
    task = trainer.task_spec  # the trainer's task (from the model's config): its metric decides the averaging
    average = extra_metric_arguments(LocalF1(), task)["average"]
    suffix = task.metric.rsplit("_", 1)[-1]
    assert average == (suffix if suffix in ("micro", "macro", "weighted", "samples") else "macro")
    pred = trainer.predict(data)
    chosen, gold = decisions(spec, pred.predictions, 0.5), np.asarray(pred.label_ids).astype(int)
    assert metrics["eval_f1"] == pytest.approx(f1_score(gold, chosen, average=average))
    assert metrics["eval_local_f1_f1"] == pytest.approx(f1_score(gold, chosen, average="weighted"))  # the pair's own
