"""Decoder-only baselines on a tiny random Llama: masking, LoRA / QLoRA training, scoring, generation, save/load."""

import json
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from transformers import DataCollatorForSeq2Seq, DataCollatorWithPadding

from hf_emo.data import TaskSpec
from hf_emo.generative import (
    CompletionTokens,
    PromptFormat,
    build_decoder,
    generate_labels,
    label_scores,
    load_decoder_tokenizer,
    load_generative,
    prompt_ids,
    tokenize_prompt_completion,
)
from hf_emo.generative.scoring import completion_log_likelihoods
from hf_emo.losses import causal_lm_loss
from hf_emo.inference import predict
from hf_emo.trainers import GenerativeConfig, GenerativeTrainer
from tests.conftest import answer_without_hf_emo

WORDS = (
    "below is an instruction that describes a task paired with input provides further context write response "
    "appropriately completes the request please use one word to describe emotion expressed in given tweet "
    "choose of for each list answer yes or no does express it joy fear sadness i am very happy sad today awful "
    "great scared"
).split()
SINGLE = TaskSpec("tiny_emotion", "single_label", ("joy", "fear", "sadness"), "en")
MULTI = TaskSpec("tiny_multi", "multi_label", ("joy", "fear", "sadness"), "en")
TEXTS = [
    "i am very happy today",
    "i am scared",
    "awful sad day",
    "great great",
    "very scared today",
    "happy happy",
    "sad today",
    "i am awful",
]
SINGLE_Y = [0, 1, 2, 0, 1, 0, 2, 2]
MULTI_Y = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 1], [1, 0, 0], [0, 0, 1], [0, 1, 1]]


@pytest.fixture
def decoder_dir(tmp_path):
    """A 2-layer, hidden-32 Llama and a word-level tokenizer without a pad token (as Llama's own)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {"<s>": 0, "</s>": 1, "<unk>": 2}
    for w in [*WORDS, "#", ":", ",", ".", "(", ")"]:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Replace("~", "")  # a verbaliser of '~' tokenises to nothing
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=None,
        tie_word_embeddings=False,
    )
    d = tmp_path / "tiny-llama"
    LlamaForCausalLM(cfg).save_pretrained(d)
    fast.save_pretrained(d)
    return d


def _data(spec, tokenizer, fmt, n=8):
    raw = Dataset.from_dict(
        {"text": TEXTS[:n], "labels": (MULTI_Y if spec.problem_type == "multi_label" else SINGLE_Y)[:n]}
    )
    return tokenize_prompt_completion(raw, tokenizer, fmt, max_text_tokens=16)


def _args(tmp_path, **kw):
    base = dict(
        output_dir=str(tmp_path / "out"),
        max_steps=12,
        learning_rate=2e-2,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=0,
        use_cpu=True,
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        dataloader_pin_memory=False,
    )
    base.update(kw)
    return GenerativeConfig(**base)


def _trainer(decoder_dir, tmp_path, spec=SINGLE, **kw):
    args = _args(tmp_path, **kw)
    tokenizer = load_decoder_tokenizer(str(decoder_dir))
    torch.manual_seed(0)
    model = build_decoder(
        str(decoder_dir),
        spec,
        tokenizer,
        label_mode=args.label_mode,
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        load_in_4bit=args.load_in_4bit,
    )
    fmt = PromptFormat(spec)
    if args.label_mode == "completion":
        data = _data(spec, tokenizer, fmt)
        collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    else:
        data = Dataset.from_dict(
            {"text": TEXTS, "labels": MULTI_Y if spec.problem_type == "multi_label" else SINGLE_Y}
        ).map(lambda b: tokenizer(b["text"]), batched=True)
        if spec.problem_type == "multi_label":
            data = data.map(lambda r: {"labels": [float(x) for x in r["labels"]]})
        collator = DataCollatorWithPadding(tokenizer)
    return (
        GenerativeTrainer(
            model, args, processing_class=tokenizer, train_dataset=data, eval_dataset=data, data_collator=collator
        ),
        data,
        tokenizer,
        fmt,
    )


# -- data: the prompt is masked, the completion and EOS are learned -------------------------------------------
@pytest.mark.parametrize("spec", [SINGLE, MULTI])
def test_prompt_tokens_are_masked_and_completion_plus_eos_are_labels(decoder_dir, spec):
    tokenizer = load_decoder_tokenizer(str(decoder_dir))
    assert tokenizer.pad_token_id == tokenizer.eos_token_id  # no pad token of its own: EOS pads
    fmt = PromptFormat(spec)
    row = _data(spec, tokenizer, fmt)[1]
    prompt = prompt_ids(fmt, tokenizer, TEXTS[1], 16)
    completion = CompletionTokens.build(fmt, tokenizer).completion((MULTI_Y if spec is MULTI else SINGLE_Y)[1])
    assert (
        row["input_ids"] == prompt + completion
        and row["input_ids"][: len(prompt)] == tokenizer(fmt.prompt(TEXTS[1]))["input_ids"]
    )
    assert row["labels"] == [-100] * len(prompt) + completion and completion[-1] == tokenizer.eos_token_id
    text = tokenizer.decode(completion[:-1])
    assert fmt.parse(text) == ([0.0, 1.0, 0.0] if spec is MULTI else 1)


def test_causal_lm_loss_counts_completion_tokens_and_accumulates_exactly():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 6, 11, generator=g)
    labels = torch.randint(0, 11, (4, 6), generator=g)
    labels[:, :3] = -100
    labels[1, 5] = -100
    mask = labels[:, 1:].ne(-100)
    expected = F.cross_entropy(
        logits[:, :-1].reshape(-1, 11)[mask.reshape(-1)], labels[:, 1:].reshape(-1)[mask.reshape(-1)]
    )
    assert torch.allclose(causal_lm_loss(logits, labels), expected)
    n = int(mask.sum())
    parts = causal_lm_loss(logits[:2], labels[:2], n) + causal_lm_loss(logits[2:], labels[2:], n)
    assert torch.allclose(parts, expected)


# -- training ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["completion", "sequence_classification"])
def test_lora_trains_only_the_adapter_and_the_loss_falls(decoder_dir, tmp_path, mode):
    trainer, *_ = _trainer(decoder_dir, tmp_path, label_mode=mode, max_steps=30, learning_rate=5e-2)
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or (mode != "completion" and "score" in n) for n in trainable)
    if mode != "completion":
        assert any("score" in n for n in trainable)  # the new head is trained (modules_to_save)
    frozen_before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if not p.requires_grad}
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert np.mean(losses[-3:]) < 0.95 * np.mean(losses[:3]), losses
    assert all(torch.equal(p, frozen_before[n]) for n, p in trainer.model.named_parameters() if not p.requires_grad)


def test_qlora_nf4_trains_on_cpu_where_bitsandbytes_runs(decoder_dir, tmp_path):
    from hf_emo.generative.decoder import four_bit_problem

    if four_bit_problem():
        pytest.skip(four_bit_problem())
    trainer, *_ = _trainer(decoder_dir, tmp_path, load_in_4bit=True, max_steps=8)
    base = trainer.model.get_base_model()
    assert any(type(m).__name__ == "Linear4bit" for m in base.modules())
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses[-1] < losses[0], losses


def test_gradient_accumulation_gives_the_loss_of_one_batch(decoder_dir, tmp_path):
    one, data, tokenizer, _ = _trainer(
        decoder_dir, tmp_path, per_device_train_batch_size=8, max_steps=1, train_sampling_strategy="sequential"
    )
    acc, *_ = _trainer(
        decoder_dir,
        tmp_path / "acc",
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        max_steps=1,
        train_sampling_strategy="sequential",
    )
    one.train()
    acc.train()
    l1 = next(h["loss"] for h in one.state.log_history if "loss" in h)
    l2 = next(h["loss"] for h in acc.state.log_history if "loss" in h)
    assert l1 == pytest.approx(l2, rel=1e-4)


# -- scoring and generation -------------------------------------------------------------------------------------
def test_label_scores_equal_hand_computed_log_probabilities(decoder_dir):
    tokenizer = load_decoder_tokenizer(str(decoder_dir))
    model = build_decoder(str(decoder_dir), SINGLE, tokenizer, lora_r=4).eval()
    fmt = PromptFormat(SINGLE)
    scores = label_scores(model, tokenizer, fmt, TEXTS[:3], batch_size=2, max_text_tokens=16)
    probs = np.exp(scores)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)
    tokens = CompletionTokens.build(fmt, tokenizer)
    for i, text in enumerate(TEXTS[:3]):
        prompt = prompt_ids(fmt, tokenizer, text, 16)
        by_hand = []
        for c in range(3):
            seq = prompt + [*tokens.verbalisers[c], tokens.eos]
            with torch.no_grad():
                lp = F.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), -1)
            by_hand.append(sum(float(lp[k - 1, seq[k]]) for k in range(len(prompt), len(seq))))
        assert np.allclose(scores[i], np.array(by_hand) - np.logaddexp.reduce(by_hand), atol=1e-4)
    ll = completion_log_likelihoods(model, [prompt], [[*tokens.verbalisers[0], tokens.eos]], tokenizer.pad_token_id)
    assert float(ll[0]) == pytest.approx(by_hand[0], abs=1e-4)


def _tiny_gemma3(vocab_size: int):
    """A 2-layer Gemma 3 whose first layer attends through a 4-token sliding window (gemma-3-270m's layout)."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    cfg = Gemma3TextConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention"],
        max_position_embeddings=256,
        pad_token_id=1,
        eos_token_id=1,
        bos_token_id=0,
    )
    return Gemma3ForCausalLM(cfg).eval()


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
def test_label_log_likelihoods_from_one_prompt_pass_equal_every_pair_scored_apart(decoder_dir, arch):
    """The prompt runs once and the completions on its repeated KV cache: the same log-likelihoods as scoring every
    (prompt, completion) pair in full, for prompts of different lengths and completions of 1 to 4 tokens."""
    from hf_emo.generative.scoring import label_log_likelihoods

    tokenizer = load_decoder_tokenizer(str(decoder_dir))
    model = (
        build_decoder(str(decoder_dir), SINGLE, tokenizer, lora_r=4).eval()
        if arch == "llama"
        else _tiny_gemma3(len(tokenizer))
    )
    fmt = PromptFormat(SINGLE)
    prompts = [prompt_ids(fmt, tokenizer, t, 16) for t in TEXTS[:3]]
    assert len({len(p) for p in prompts}) > 1  # left padding is exercised
    completions = [[5, 1], [6, 7, 8, 1], [9]]
    fast = label_log_likelihoods(model, prompts, completions, tokenizer.pad_token_id)
    pairs = [(p, c) for p in prompts for c in completions]
    slow = completion_log_likelihoods(model, [p for p, _ in pairs], [c for _, c in pairs], tokenizer.pad_token_id)
    assert fast.shape == (3, 3)
    assert torch.allclose(fast, slow.view(3, 3), atol=1e-4)
    for b, p in enumerate(prompts):  # and one pair without any padding at all
        seq = p + completions[1]
        with torch.no_grad():
            lp = F.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), -1)
        assert float(fast[b, 1]) == pytest.approx(
            sum(float(lp[k - 1, seq[k]]) for k in range(len(p), len(seq))), abs=1e-4
        )


def test_multi_label_yes_no_scores_equal_a_full_recomputation(decoder_dir):
    tokenizer = load_decoder_tokenizer(str(decoder_dir))
    model = build_decoder(str(decoder_dir), MULTI, tokenizer, lora_r=4).eval()
    fmt = PromptFormat(MULTI)
    tokens = CompletionTokens.build(fmt, tokenizer)
    scores = label_scores(model, tokenizer, fmt, TEXTS[:3], batch_size=3, max_text_tokens=16)  # left padding
    yes, no = tokens.answers
    for i, text in enumerate(TEXTS[:3]):
        seq = prompt_ids(fmt, tokenizer, text, 16)
        for c, piece in enumerate(tokens.verbalisers):
            seq = seq + list(piece)
            with torch.no_grad():
                lp = F.log_softmax(model(input_ids=torch.tensor([seq])).logits[0, -1].float(), -1)
            assert float(scores[i, c]) == pytest.approx(float(lp[yes] - lp[no]), abs=1e-4)
            seq.append(yes if lp[yes] >= lp[no] else no)


def test_batched_generation_equals_one_by_one_and_invalid_outputs_are_counted(decoder_dir):
    tokenizer = load_decoder_tokenizer(str(decoder_dir))
    model = build_decoder(str(decoder_dir), SINGLE, tokenizer, lora_r=4).eval()
    fmt = PromptFormat(SINGLE)
    batched = generate_labels(model, tokenizer, fmt, TEXTS[:4], batch_size=4, max_text_tokens=16)
    single = [generate_labels(model, tokenizer, fmt, [t], batch_size=1, max_text_tokens=16).texts[0] for t in TEXTS[:4]]
    assert batched.texts == single
    assert batched.invalid_rate == sum(x is None for x in batched.labels) / 4  # untrained: mostly invalid
    assert batched.invalid_rate > 0 and all(x is None or x in (0, 1, 2) for x in batched.labels)
    fuzzy = generate_labels(model, tokenizer, fmt, TEXTS[:4], batch_size=4, max_text_tokens=16, fuzzy=True)
    assert fuzzy.labels == batched.labels and all(x in (0, 1, 2) for x in fuzzy.mapped)  # mapped kept apart


def test_evaluate_and_predict_give_label_metrics_and_logits(decoder_dir, tmp_path):
    trainer, data, *_ = _trainer(decoder_dir, tmp_path, spec=MULTI, max_steps=2)
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_f1_micro", "eval_subset_accuracy"} <= set(metrics)
    pred = trainer.predict(data)
    assert pred.predictions.shape == (8, 3) and pred.label_ids.shape == (8, 3)
    gen, *_ = _trainer(decoder_dir, tmp_path / "g", scoring="generate", max_steps=1)
    m = gen.evaluate()
    assert 0.0 <= m["eval_invalid_rate"] <= 1.0 and "eval_accuracy" in m


def test_save_and_reload_the_adapter_gives_identical_predictions(decoder_dir, tmp_path):
    trainer, data, tokenizer, fmt = _trainer(decoder_dir, tmp_path, max_steps=4)
    trainer.train()
    out = tmp_path / "saved"
    trainer.save_model(str(out))
    files = {p.name for p in out.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "hf_emo_generative.json", "tokenizer.json"} <= files
    assert "model.safetensors" not in files  # the adapter, not the base weights
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(
        decoder_dir
    ) or not str(tmp_path).startswith(str(__import__("pathlib").Path.home()))
    before = label_scores(trainer.model, tokenizer, fmt, TEXTS, batch_size=4, max_text_tokens=16)
    model, tokenizer2, fmt2 = load_generative(str(out))
    after = label_scores(model, tokenizer2, fmt2, TEXTS, batch_size=4, max_text_tokens=16)
    assert np.array_equal(before, after)
    card = trainer.method_description()
    assert card.name == "Generative baseline" and "hu2022lora" in card.citations


# -- bad inputs ---------------------------------------------------------------------------------------------------
def test_bad_inputs_are_clear_errors(decoder_dir, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"no \{text\} slot"):
        PromptFormat(SINGLE, "Classify: {labels}")
    with pytest.raises(ValueError, match=r"unknown slot\(s\) \['tweet'\]"):
        PromptFormat(SINGLE, "{text} {tweet}")
    tokenizer = load_decoder_tokenizer(str(decoder_dir))
    with pytest.raises(ValueError, match=r"label\(s\) \['sadness'\] tokenise to nothing"):
        CompletionTokens.build(PromptFormat(SINGLE, verbalisers=("joy", "fear", "~")), tokenizer)
    with pytest.raises(ValueError, match="regression task"):
        PromptFormat(TaskSpec("vad", "regression", ("v",), "en"))
    with pytest.raises(ValueError, match="has no pad token: set pad_token"):
        load_decoder_tokenizer(str(decoder_dir), pad_token=None)
    import hf_emo.generative.decoder as decoder

    monkeypatch.setattr(decoder, "four_bit_problem", lambda: "no backend for this device")
    with pytest.raises(ValueError, match="load_in_4bit needs bitsandbytes: no backend for this device"):
        build_decoder(str(decoder_dir), SINGLE, tokenizer, load_in_4bit=True)
    with pytest.raises(ValueError, match="no default LoRA target modules for model_type 'mamba'"):
        decoder.lora_target_modules("mamba")
    with pytest.raises(ValueError, match="scoring=generate needs label_mode=completion"):
        _args(tmp_path, label_mode="sequence_classification", scoring="generate")


# -- the job ------------------------------------------------------------------------------------------------------
def _csv(tmp_path, rows):
    import csv

    paths = {}
    for split, n in (("train", 8), ("validation", 8), ("test", 8)):
        p = tmp_path / f"{split}.csv"
        with open(p, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            for t, y in rows[:n]:
                w.writerow([t, y])
        paths[split] = str(p)
    return paths


@pytest.mark.parametrize("mode", ["completion", "sequence_classification"])
def test_cli_generative_job_trains_scores_and_saves_an_adapter(decoder_dir, tmp_path, capsys, mode, monkeypatch):
    from hf_emo.cli import main

    monkeypatch.chdir(tmp_path)  # paths under the working directory are written relative to it

    files = _csv(tmp_path, [(t, SINGLE.label_names[y]) for t, y in zip(TEXTS, SINGLE_Y)])
    out = tmp_path / "run"
    rc = main(
        [
            "generative",
            "--model_name_or_path",
            str(decoder_dir),
            "--task",
            "none",
            "--train_file",
            files["train"],
            "--validation_file",
            files["validation"],
            "--test_file",
            files["test"],
            "--problem_type",
            "single_label",
            "--label_mode",
            mode,
            "--max_steps",
            "3",
            "--lora_r",
            "4",
            "--per_device_train_batch_size",
            "4",
            "--learning_rate",
            "1e-2",
            "--report_to",
            "none",
            "--save_strategy",
            "no",
            "--use_cpu",
            "true",
            "--output_dir",
            str(out),
            "--max_text_tokens",
            "16",
        ]
    )
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0 and metrics["run"]["method"]["trainer"] == "GenerativeTrainer"
    assert metrics["run"]["label_mode"] == mode and metrics["run"]["trainable_parameters"] > 0
    assert (out / "adapter_model.safetensors").is_file() and not (out / "model.safetensors").exists()
    manifest = json.loads((out / "run_files.json").read_text())
    assert "adapter_model.safetensors" in manifest["files"] and "hf_emo_generative.json" in manifest["files"]
    assert "LoRA" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--format", "json", "i am happy today"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["text"] == "i am happy today" and set(rows[0]["scores"]) == {"joy", "fear", "sadness"}
    # push --dry-run: the adapter, the prompt and the card; never the base weights
    staged = tmp_path / "staged"
    assert main(["push", "--output-dir", str(out), "--repo-id", "me/tiny-emotion", "--dry-run", str(staged)]) == 0
    names = {p.name for p in staged.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "hf_emo_generative.json", "README.md"} <= names
    assert "model.safetensors" not in names and "training_args.bin" not in names
    card = (staged / "README.md").read_text()
    assert "library_name: peft" in card and 'load_generative("me/tiny-emotion")' in card
    assert "### Response:" in card and "(generative baseline)" in card and "hu2022lora" in card
    assert str(tmp_path) not in card
    for name in ("adapter_config.json", "hf_emo_generative.json"):  # the uploaded copies name no local path
        assert str(tmp_path) not in (staged / name).read_text()
    for f in out.iterdir():  # nor does a text file of the run folder that a user might upload by hand (peft's README)
        if f.suffix in (".json", ".md", ".txt", ".py", ".jinja"):
            assert str(tmp_path) not in f.read_text(encoding="utf-8"), f.name
    assert f"pipeline_tag: {'text-generation' if mode == 'completion' else 'text-classification'}" in card
    # the card's call, where only transformers and peft are installed, gives hf-emo predict's answer
    code = re.search(r"```python\n(.*?)```", card, re.S).group(1).replace('"me/tiny-emotion"', json.dumps(str(staged)))
    answer = answer_without_hf_emo(code, TEXTS[:5], cwd=tmp_path)
    expected = predict(str(out), texts=TEXTS[:5])
    assert [a["labels"] for a in answer] == expected.labels
    got = np.array([[a["scores"][n] for n in expected.label_names] for a in answer])
    np.testing.assert_allclose(got, expected.probabilities, atol=1e-6, rtol=0)


def test_a_gemma_base_passes_its_notice_and_terms_on(tmp_path):
    from hf_emo.cards import licence_of

    licence, note = licence_of("gemma-3-270m")
    assert licence == "gemma" and "NOTICE" in note and "Section 3.2" in note
    assert licence_of("HuggingFaceTB/SmolLM2-135M-Instruct") == ("apache-2.0", "")


def test_predict_reads_an_adapter_folder(decoder_dir, tmp_path):
    from hf_emo.inference import predict

    trainer, data, tokenizer, fmt = _trainer(decoder_dir, tmp_path, spec=MULTI, max_steps=2)
    trainer.train()
    trainer.save_model(str(tmp_path / "adapter"))
    pred = predict(str(tmp_path / "adapter"), texts=TEXTS[:3], threshold=0.5)
    expected = label_scores(trainer.model, tokenizer, fmt, TEXTS[:3], max_text_tokens=16)
    assert np.allclose(pred.logits, expected, atol=1e-5) and pred.label_names == ["joy", "fear", "sadness"]
    assert all(set(labels) <= {"joy", "fear", "sadness"} for labels in pred.labels)
    # a multi-label adapter, loaded on a local copy of its base model, where hf_emo is not installed
    adapter = str(tmp_path / "adapter")
    code = (
        "from transformers.dynamic_module_utils import get_class_from_dynamic_module\n"
        f"Classifier = get_class_from_dynamic_module('modeling_hf_emo.GenerativeEmotionClassifier', {adapter!r})\n"
        f"classify = Classifier.from_pretrained({adapter!r}, base_model={str(decoder_dir)!r})\n"
        "print(classify(['x']))\n"
    )
    answer = answer_without_hf_emo(code, TEXTS[:3])
    assert [a["labels"] for a in answer] == predict(str(tmp_path / "adapter"), texts=TEXTS[:3]).labels


def test_activation_checkpointing_keeps_the_adapter_gradients(decoder_dir, tmp_path):
    """Trainer re-enables checkpointing from the config; with PEFT it must not be the reentrant variant."""
    trainer, *_ = _trainer(decoder_dir, tmp_path, activation_checkpointing=True, max_steps=3)
    assert trainer.args.activation_checkpointing_kwargs == {"use_reentrant": False}
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    trainer.train()
    moved = [n for n, p in trainer.model.named_parameters() if "lora_B" in n and not torch.equal(p, before[n])]
    assert len(moved) == len(before)
