"""Pretraining distillation (Avram et al. 2022): student init, the three-term loss by hand, several teachers,
masked / causal objectives, gradient accumulation, and fine-tuning the student afterwards."""

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from transformers import (
    AutoModelForSequenceClassification,
    BertConfig,
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    LlamaConfig,
    LlamaForCausalLM,
)

from hf_emo.losses import kd_kl_loss, token_cosine_loss
from hf_emo.models import init_student_from_teacher
from hf_emo.trainers import PretrainingDistillationConfig, PretrainingDistillationTrainer
from tests.conftest import WORDS, tiny_tokenizer

TEXTS = [
    "i am happy today",
    "this is a great day",
    "i hate this awful news",
    "you win the market",
    "the team is very sad",
    "fear and joy today",
    "it is not bad",
    "love this great team",
] * 2


def _bert_teacher(seed=0, layers=4):
    torch.manual_seed(seed)
    return BertForMaskedLM(
        BertConfig(
            vocab_size=len(WORDS) + 5,
            hidden_size=32,
            num_hidden_layers=layers,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        )
    )


def _llama_teacher(seed=0, layers=4):
    torch.manual_seed(seed)
    return LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(WORDS) + 5,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=layers,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=64,
            pad_token_id=0,
        )
    )


def _rows():
    tok = tiny_tokenizer()
    return Dataset.from_dict({"text": TEXTS}).map(lambda b: tok(b["text"]), batched=True, remove_columns=["text"]), tok


def _args(tmp_path, **kw):
    base = dict(
        output_dir=str(tmp_path),
        max_steps=2,
        learning_rate=1e-3,
        per_device_train_batch_size=8,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=0,
        use_cpu=True,
        train_sampling_strategy="sequential",
        dataloader_pin_memory=False,
    )
    base.update(kw)
    return PretrainingDistillationConfig(**base)


# -- the student ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,stack", [(_bert_teacher, "bert.encoder.layer"), (_llama_teacher, "model.layers")])
def test_student_copies_the_embeddings_and_every_other_layer(make, stack, tmp_path):
    teacher = make(layers=4)
    student = init_student_from_teacher(teacher)
    assert student.config.num_hidden_layers == 2 and teacher.config.num_hidden_layers == 4
    t_layers, s_layers = teacher.get_submodule(stack), student.get_submodule(stack)
    for s_i, t_i in enumerate([0, 2]):
        for (n, p), (_, q) in zip(s_layers[s_i].named_parameters(), t_layers[t_i].named_parameters()):
            assert torch.equal(p, q), n
    assert torch.equal(student.get_input_embeddings().weight, teacher.get_input_embeddings().weight)
    student.save_pretrained(tmp_path / "s")
    reloaded = type(student).from_pretrained(tmp_path / "s")
    assert reloaded.config.num_hidden_layers == 2
    with pytest.raises(ValueError, match="increasing indices"):
        init_student_from_teacher(teacher, layers=[3, 1])


# -- the loss ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("objective", ["mlm", "clm"])
def test_loss_is_the_three_terms_weighted_as_configured(objective, tmp_path):
    rows, tok = _rows()
    teacher = _bert_teacher() if objective == "mlm" else _llama_teacher()
    student = init_student_from_teacher(teacher)
    torch.manual_seed(1)
    for p in student.parameters():  # a student that differs from its teacher
        p.data.add_(0.05 * torch.randn_like(p))
    collate = DataCollatorForLanguageModeling(tok, mlm=objective == "mlm", mlm_probability=0.3)
    trainer = PretrainingDistillationTrainer(
        student, _args(tmp_path), teacher_model=teacher, train_dataset=rows, data_collator=collate
    )
    assert trainer.objective == objective
    torch.manual_seed(2)
    batch = trainer._prepare_inputs(collate([rows[i] for i in range(8)]))
    student.train()
    loss = trainer.compute_loss(student, batch)
    s_out = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True)
    with torch.no_grad():
        t_out = teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True)
    labels, mask = batch["labels"], batch["attention_mask"]
    s_logits, t_logits, targets = s_out.logits, t_out.logits, labels
    if objective == "clm":
        s_logits, t_logits, targets = s_logits[:, :-1], t_logits[:, :-1], labels[:, 1:]
    sel = targets.ne(-100)
    assert (sel.sum() < mask.sum()) if objective == "mlm" else True  # MLM: the masked positions only
    lm = F.cross_entropy(s_logits[sel], targets[sel])
    p_t = F.softmax(t_logits[sel] / 2, -1)
    kd = (p_t * (F.log_softmax(t_logits[sel] / 2, -1) - F.log_softmax(s_logits[sel] / 2, -1))).sum(-1).mean() * 4
    cos = (
        (1 - F.cosine_similarity(s_out.hidden_states[-1], t_out.hidden_states[-1], dim=-1)) * mask
    ).sum() / mask.sum()
    assert torch.allclose(loss, 0.625 * kd + 0.25 * lm + 0.125 * cos, atol=1e-5)
    assert torch.allclose(kd_kl_loss(s_logits[sel], t_logits[sel], 2.0), kd, atol=1e-5)  # T^2 scaling inside
    assert torch.allclose(token_cosine_loss(s_out.hidden_states[-1], t_out.hidden_states[-1], mask), cos, atol=1e-6)


def test_two_identical_teachers_give_the_one_teacher_loss(tmp_path):
    rows, tok = _rows()
    teacher = _bert_teacher()
    student = init_student_from_teacher(teacher)
    collate = DataCollatorForLanguageModeling(tok, mlm_probability=0.3)
    one = PretrainingDistillationTrainer(
        student, _args(tmp_path), teacher_model=teacher, train_dataset=rows, data_collator=collate
    )
    two = PretrainingDistillationTrainer(
        student, _args(tmp_path), teacher_model=[teacher, _bert_teacher()], train_dataset=rows, data_collator=collate
    )
    torch.manual_seed(3)
    batch = one._prepare_inputs(collate([rows[i] for i in range(8)]))
    student.train()
    assert torch.allclose(one.compute_loss(student, batch), two.compute_loss(student, batch), atol=1e-6)


def test_gradient_accumulation_equals_one_large_batch(tmp_path):
    rows, tok = _rows()
    results = []
    for bs, acc in ((8, 1), (4, 2)):
        teacher = _llama_teacher()
        student = init_student_from_teacher(teacher)
        trainer = PretrainingDistillationTrainer(
            student,
            _args(tmp_path / f"{bs}", per_device_train_batch_size=bs, gradient_accumulation_steps=acc, max_steps=1),
            teacher_model=teacher,
            train_dataset=rows,
            data_collator=DataCollatorForLanguageModeling(tok, mlm=False),
        )
        trainer.train()
        results.append(
            (
                next(h["loss"] for h in trainer.state.log_history if "loss" in h),
                torch.cat([p.detach().flatten() for p in student.parameters()]),
            )
        )
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-4)
    assert torch.allclose(results[0][1], results[1][1], atol=1e-6)


def test_resume_equals_a_straight_run_with_random_masking(tmp_path):
    """MLM masks are drawn from torch's RNG at collation: a resumed run restores it and repeats the straight run."""
    rows, tok = _rows()

    def run(out, **kw):
        teacher = _bert_teacher()
        student = init_student_from_teacher(teacher)
        args = _args(
            out,
            max_steps=4,
            per_device_train_batch_size=4,
            save_strategy="steps",
            save_steps=2,
            train_sampling_strategy="random",
            logging_steps=1,
            **kw,
        )
        trainer = PretrainingDistillationTrainer(
            student,
            args,
            teacher_model=teacher,
            train_dataset=rows,
            data_collator=DataCollatorForLanguageModeling(tok, mlm_probability=0.3),
        )
        return trainer, student

    straight, s1 = run(tmp_path / "a")
    straight.train()
    resumed, s2 = run(tmp_path / "a")  # a fresh trainer on the straight run's folder, from its step-2 checkpoint
    resumed.train(resume_from_checkpoint=str(tmp_path / "a" / "checkpoint-2"))
    for (n, p), (_, q) in zip(s1.named_parameters(), s2.named_parameters()):
        assert torch.equal(p, q), n
    last = [
        {k: h[k] for k in ("loss", "loss_kd", "loss_lm", "loss_cosine")}
        for h in straight.state.log_history
        if "loss_kd" in h
    ][-2:]
    again = [
        {k: h[k] for k in ("loss", "loss_kd", "loss_lm", "loss_cosine")}
        for h in resumed.state.log_history
        if "loss_kd" in h
    ][-2:]
    assert last == again


def test_mismatched_teachers_are_refused_naming_both_sizes(tmp_path):
    rows, tok = _rows()
    student = init_student_from_teacher(_bert_teacher())
    wide = BertForMaskedLM(
        BertConfig(
            vocab_size=len(WORDS) + 5,
            hidden_size=48,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    )
    with pytest.raises(ValueError, match="hidden size 48, the student 32"):
        PretrainingDistillationTrainer(student, _args(tmp_path), teacher_model=wide, train_dataset=rows)
    other_vocab = BertForMaskedLM(
        BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    )
    with pytest.raises(ValueError, match="vocabulary of 99 pieces, the student"):
        PretrainingDistillationTrainer(student, _args(tmp_path), teacher_model=other_vocab, train_dataset=rows)
    with pytest.raises(ValueError, match="needs teacher_model"):
        PretrainingDistillationTrainer(student, _args(tmp_path), train_dataset=rows)


# -- end to end: distil, then fine-tune the student ---------------------------------------------------------------
def test_distilled_student_saves_as_a_masked_lm_and_fine_tunes_as_a_classifier(tmp_path):
    from hf_emo import EmotionConfig, EmotionTrainer
    from hf_emo.data import TaskSpec

    rows, tok = _rows()
    teacher = _bert_teacher()
    student = init_student_from_teacher(teacher)
    trainer = PretrainingDistillationTrainer(
        student,
        _args(tmp_path / "d", max_steps=3),
        teacher_model=teacher,
        train_dataset=rows,
        data_collator=DataCollatorForLanguageModeling(tok),
    )
    trainer.train()
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert all({"loss_kd", "loss_lm", "loss_cosine"} <= set(h) for h in logged)
    trainer.save_model(str(tmp_path / "student"))
    assert not any("teacher" in p.name for p in (tmp_path / "student").iterdir())
    trainer.create_model_card()
    card = (tmp_path / "d" / "README.md").read_text()
    assert "Pretraining distillation" in card or "pretraining distillation" in card
    assert "avram2022distilling" in card and "0.625" in card
    spec = TaskSpec("sent", "single_label", ("neg", "pos"), "en")
    clf = AutoModelForSequenceClassification.from_pretrained(tmp_path / "student", num_labels=2)
    assert clf.config.num_hidden_layers == 2
    labelled = rows.add_column("labels", [i % 2 for i in range(len(rows))])
    EmotionTrainer(
        clf,
        EmotionConfig(output_dir=str(tmp_path / "ft"), max_steps=2, report_to="none", use_cpu=True, save_strategy="no"),
        task_spec=spec,
        train_dataset=labelled,
        processing_class=tok,
    ).train()


def _saved_llama_teacher(folder):
    """A tiny Llama teacher with a word-level tokenizer, saved as a HF folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    _llama_teacher().save_pretrained(folder)
    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "<s>", "</s>", *WORDS])}  # within the teacher's 5 spare
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    ).save_pretrained(folder)
    return folder


PRETRAIN_ARGS = [
    "--block_size",
    "16",
    "--max_steps",
    "2",
    "--per_device_train_batch_size",
    "4",
    "--logging_steps",
    "1",
    "--report_to",
    "none",
    "--save_strategy",
    "no",
    "--use_cpu",
    "true",
]


def test_cli_pretrain_distils_on_the_romanian_training_texts(data_dir, tmp_path, monkeypatch):
    import json

    from hf_emo.cli import main

    teacher_dir = _saved_llama_teacher(tmp_path / "teacher")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "student"
    assert (
        main(
            [
                "pretrain",
                "--teacher",
                str(teacher_dir),
                "--corpus_tasks",
                "redv2",
                "--max_corpus_rows",
                "64",
                *PRETRAIN_ARGS,
                "--output_dir",
                str(out),
            ]
        )
        == 0
    )
    record = json.loads((out / "metrics.json").read_text())
    run = record["run"]
    assert run["objective"] == "clm" and run["student_layers"] == [0, 2] and run["corpus"]["split"] == "train"
    assert run["corpus"]["texts"] == 64 and run["method"]["trainer"] == "PretrainingDistillationTrainer"
    assert {"loss_kd", "loss_lm", "loss_cosine"} <= set(record["train_end"])
    assert (out / "model.safetensors").is_file() and (out / "training_curves.png").is_file()
    assert [h["step"] for h in run["loss_history"]] == [1, 2] and "loss_kd" in run["loss_history"][0]
    assert "avram2022distilling" in (out / "README.md").read_text()


# -- corpora: files, saved datasets, streaming ---------------------------------------------------------------------
def _corpus_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join([*TEXTS, "", "   "]) + "\n", encoding="utf-8")  # blank lines are dropped
    return path


def test_text_corpus_from_a_file_streamed_or_not_holds_the_same_texts(tmp_path):
    from hf_emo.data.corpus import load_text_corpus

    path = _corpus_file(tmp_path)
    whole = load_text_corpus(str(path), seed=1)
    streamed = load_text_corpus(str(path), seed=1, streaming=True)
    assert sorted(whole["text"]) == sorted(r["text"] for r in streamed) == sorted(TEXTS)
    assert len(load_text_corpus(str(path), seed=1, max_rows=5)) == 5
    assert len(list(load_text_corpus(str(path), seed=1, max_rows=5, streaming=True))) == 5
    Dataset.from_dict({"body": TEXTS}).save_to_disk(str(tmp_path / "saved"))
    saved = load_text_corpus(str(tmp_path / "saved"), text_column="body", seed=1)
    assert sorted(saved["text"]) == sorted(TEXTS)


def test_blocks_are_the_same_tokenised_on_the_fly():
    from hf_emo.data.corpus import group_blocks

    tok = tiny_tokenizer()
    tok.eos_token = "[SEP]"
    texts = Dataset.from_dict({"text": TEXTS})
    eager = group_blocks(texts, tok, 8)
    lazy = group_blocks(texts.to_iterable_dataset(), tok, 8)
    assert [r["input_ids"] for r in lazy] == eager["input_ids"]
    assert all(len(ids) == 8 for ids in eager["input_ids"])
    joined = [t for text in TEXTS for t in tok(text)["input_ids"] + [tok.eos_token_id]]
    assert [t for ids in eager["input_ids"] for t in ids] == joined[: len(joined) // 8 * 8]


def test_bad_corpus_inputs_name_the_problem(tmp_path, capsys):
    from hf_emo.data import DataError
    from hf_emo.data.corpus import load_text_corpus

    Dataset.from_dict({"body": TEXTS}).to_json(str(tmp_path / "c.jsonl"))
    with pytest.raises(DataError, match=r"c.jsonl.*no text column 'text'; the corpus has \['body'\]"):
        load_text_corpus(str(tmp_path / "c.jsonl"))
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "a.txt").write_text("x\n")
    (tmp_path / "mixed" / "b.csv").write_text("text\ny\n")
    with pytest.raises(DataError, match="share one of the formats"):
        load_text_corpus(str(tmp_path / "mixed"))
    from tests.conftest import cli_error

    teacher_dir = _saved_llama_teacher(tmp_path / "teacher")
    args = [
        "pretrain",
        "--teacher",
        str(teacher_dir),
        "--corpus",
        str(_corpus_file(tmp_path)),
        "--streaming",
        "true",
        *PRETRAIN_ARGS[:2],
        "--output_dir",
        str(tmp_path / "out"),
        "--use_cpu",
        "true",
        "--report_to",
        "none",
    ]
    assert "set --max_steps" in cli_error(capsys, args)


def test_cli_pretrain_prunes_the_vocabulary_to_the_corpus(tmp_path, monkeypatch):
    import json

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hf_emo.cli import main

    teacher_dir = _saved_llama_teacher(tmp_path / "teacher")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "student"
    assert (
        main(
            [
                "pretrain",
                "--teacher",
                str(teacher_dir),
                "--corpus",
                str(_corpus_file(tmp_path)),
                "--prune_vocabulary",
                "true",
                *PRETRAIN_ARGS,
                "--output_dir",
                str(out),
            ]
        )
        == 0
    )
    vocabulary = json.loads((out / "metrics.json").read_text())["run"]["vocabulary"]
    used = {w for text in TEXTS for w in text.split() if w in WORDS}  # the others are <unk>, a special token
    assert vocabulary["before"] == 4 + len(WORDS) and vocabulary["after"] == 4 + len(used)
    student = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert student.config.vocab_size == len(tokenizer) == vocabulary["after"]
    assert student.get_input_embeddings().weight.shape[0] == vocabulary["after"]
    assert tokenizer.convert_ids_to_tokens(tokenizer("i am happy")["input_ids"]) == ["i", "am", "happy"]


def test_cli_pretrain_streams_a_corpus_file(tmp_path, monkeypatch):
    import json

    from hf_emo.cli import main

    teacher_dir = _saved_llama_teacher(tmp_path / "teacher")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "student"
    assert (
        main(
            [
                "pretrain",
                "--teacher",
                str(teacher_dir),
                "--corpus",
                str(_corpus_file(tmp_path)),
                "--streaming",
                "true",
                *PRETRAIN_ARGS,
                "--output_dir",
                str(out),
            ]
        )
        == 0
    )
    corpus = json.loads((out / "metrics.json").read_text())["run"]["corpus"]
    assert corpus["streaming"] and corpus["blocks_read"] == 2 * 4 and corpus["source"] == "corpus.txt"
    assert (out / "model.safetensors").is_file()


@pytest.mark.parametrize("name,objective", [("distil", "mlm"), ("distil_embedded", "clm")])
def test_recipe_configs_parse(name, objective):
    from pathlib import Path

    from hf_emo.jobs.arguments import parse_config_args
    from hf_emo.jobs.pretraining import PretrainingRunArguments

    root = Path(__file__).resolve().parents[1]
    run, config = parse_config_args(
        ["--config", str(root / f"recipes/distil_romanian_berts/configs/{name}.yaml")],
        (PretrainingRunArguments, PretrainingDistillationConfig),
    )
    assert (
        config.objective == objective
        and (config.kd_weight, config.lm_weight, config.cosine_weight) == (0.625, 0.25, 0.125)
        and config.temperature == 2.0
    )
    if name == "distil":  # Avram et al. 2022's settings; the Romanian Wikipedia, the open part of their corpus
        assert (run.corpus, run.corpus_config) == ("wikimedia/wikipedia", "20231101.ro")
        assert (
            config.learning_rate,
            config.weight_decay,
            config.warmup_steps,
            config.max_grad_norm,
            config.num_train_epochs,
        ) == (5e-4, 1e-4, 0.05, 5.0, 3)
        assert config.per_device_train_batch_size * config.gradient_accumulation_steps == 256
    else:  # the project's own Romanian training texts
        assert run.corpus is None and "redv2" in run.corpus_tasks


def test_recipe_scripts_pick_the_profile(tmp_path):
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for tool in ("hf-emo", "accelerate"):
        b = tmp_path / tool
        b.write_text(f'#!/usr/bin/env bash\necho {tool} "$@"\n')
        b.chmod(0o755)
    env = {"HF_EMO_BIN": str(tmp_path / "hf-emo"), "PATH": "/usr/bin:/bin", "OUT": str(tmp_path / "runs")}
    run = lambda *a: subprocess.run(["bash", *a], capture_output=True, text=True, env=env, check=True).stdout  # noqa
    assert "hf-emo pretrain" in run(str(root / "recipes/distil_romanian_berts/00_distil.sh"), "--profile", "embedded")
    paper = run(str(root / "recipes/distil_romanian_berts/00_distil.sh"), "--profile", "paper")
    assert paper.startswith("accelerate launch") and "distil.yaml" in paper and "-m hf_emo.cli pretrain" in paper
    fine = run(str(root / "recipes/distil_romanian_berts/01_finetune.sh"), "--profile", "embedded")
    assert fine.count("hf-emo train") == 2 and "--model_name_or_path runs/distil_smollm2_embedded" in fine


def test_recipe_embedded_profile_runs_end_to_end_with_a_step_cap(data_dir, tmp_path):
    """00_distil.sh --profile embedded for real (the real hf-emo), on a tiny teacher and two steps."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    teacher_dir = _saved_llama_teacher(tmp_path / "teacher")
    hf_emo = Path(sys.executable).parent / "hf-emo"
    if not hf_emo.is_file():
        pytest.skip("the hf-emo entry point is not installed beside this Python")
    out = tmp_path / "student"
    env = {**os.environ, "HF_EMO_BIN": str(hf_emo)}
    subprocess.run(
        [
            "bash",
            str(root / "recipes/distil_romanian_berts/00_distil.sh"),
            "--profile",
            "embedded",
            "--teacher",
            str(teacher_dir),
            "--max_corpus_rows",
            "64",
            "--block_size",
            "16",
            "--max_steps",
            "2",
            "--logging_steps",
            "1",
            "--use_cpu",
            "true",
            "--output_dir",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    run = json.loads((out / "metrics.json").read_text())["run"]
    assert run["objective"] == "clm" and [h["step"] for h in run["loss_history"]] == [1, 2]
    assert run["corpus"]["texts"] == 64 and (out / "model.safetensors").is_file()


def test_a_step_whose_masking_drew_no_position_has_a_finite_zero_lm_and_kd_loss(tmp_path):
    """MLM can mask no token of a whole optimizer step on short texts: the sums were divided by a count of 0 and every
    weight became NaN without a word (the non-finite loss check found it in the test above)."""
    rows, tok = _rows()
    teacher = _bert_teacher()
    trainer = PretrainingDistillationTrainer(
        init_student_from_teacher(teacher), _args(tmp_path, max_steps=1), teacher_model=teacher, train_dataset=rows,
        data_collator=DataCollatorForLanguageModeling(tok),
    )  # fmt: skip
    batch = DataCollatorForLanguageModeling(tok)([rows[i] for i in range(4)])
    batch["labels"] = torch.full_like(batch["labels"], -100)  # nothing masked
    counts = trainer._get_num_items_in_batch([batch], torch.device("cpu"))
    assert counts[0] == 1  # no position: divide by 1, not 0
    loss = trainer.compute_loss(trainer.model.train(), batch, num_items_in_batch=counts)
    assert torch.isfinite(loss) and trainer.loss_log.pop() is not None


def test_a_teacher_without_its_language_model_head_is_refused_naming_a_missing_weight(tmp_path):
    """A bare encoder as the teacher trained against a freshly initialised head, with only transformers' load report
    on stderr (issue 37)."""
    from transformers import BertModel

    from hf_emo.trainers.pretraining_distillation_trainer import _load_lm
    from tests.conftest import tiny_bert_config

    BertModel(tiny_bert_config()).save_pretrained(tmp_path / "bare")
    with pytest.raises(
        ValueError, match=r"has no trained language-model head \(\d+ of its weights are missing, e\.g\. cls"
    ):
        _load_lm(str(tmp_path / "bare"), "mlm")
    _bert_teacher().save_pretrained(tmp_path / "mlm")
    assert _load_lm(str(tmp_path / "mlm"), "mlm").config.model_type == "bert"  # with its head: fine
