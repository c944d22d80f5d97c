"""Vocabulary pruning: the kept pieces, identical segmentation and outputs on the corpus, save/reload, refusals."""

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

from hf_emo.models import prune_vocabulary
from tests.conftest import WORDS, tiny_tokenizer

CORPUS = ["i am happy today", "this is a great day", "the team is very sad"]


def _bert(vocab_size: int, seed: int = 0) -> BertForMaskedLM:
    torch.manual_seed(seed)
    return BertForMaskedLM(
        BertConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        )
    )


def _unigram_tokenizer() -> PreTrainedTokenizerFast:
    """A SentencePiece-style Unigram tokenizer (as XLM-R / e5): whole words and their letters as pieces."""
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [(f"▁{w}", -2.0) for w in WORDS] + [(c, -5.0) for c in sorted(set("".join(WORDS)))] + [("▁", -4.0)]
    backend = Tokenizer(models.Unigram(pieces, unk_id=3))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )


@pytest.mark.parametrize("make_tokenizer", [tiny_tokenizer, _unigram_tokenizer])
def test_pruned_model_gives_the_same_outputs_on_the_corpus(make_tokenizer, tmp_path):
    tokenizer = make_tokenizer()
    model = _bert(len(tokenizer)).eval()
    before = tokenizer(CORPUS, padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = model(**before, output_hidden_states=True)
    new_tokenizer, kept = prune_vocabulary(model, tokenizer, CORPUS)
    used = {i for ids in tokenizer(CORPUS)["input_ids"] for i in ids}
    assert set(kept) == used | set(tokenizer.all_special_ids) | {tokenizer.unk_token_id} and kept == sorted(kept)
    assert len(new_tokenizer) == len(kept) < len(tokenizer)
    after = new_tokenizer(CORPUS, padding=True, return_tensors="pt")
    remap = {old: new for new, old in enumerate(kept)}
    assert after["input_ids"].tolist() == [[remap[i] for i in row] for row in before["input_ids"].tolist()]
    assert [new_tokenizer.convert_ids_to_tokens(r) for r in after["input_ids"].tolist()] == [
        tokenizer.convert_ids_to_tokens(r) for r in before["input_ids"].tolist()
    ]  # the same segmentation
    with torch.no_grad():
        out = model(**after, output_hidden_states=True)
    assert torch.allclose(out.hidden_states[-1], ref.hidden_states[-1], atol=1e-6)
    assert torch.allclose(out.logits, ref.logits[..., kept], atol=1e-5)  # the LM head restricted to kept pieces
    assert model.config.vocab_size == len(kept) and model.get_output_embeddings().weight.shape[0] == len(kept)
    model.save_pretrained(tmp_path)
    new_tokenizer.save_pretrained(tmp_path)
    again = BertForMaskedLM.from_pretrained(tmp_path).eval()
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded(CORPUS)["input_ids"] == new_tokenizer(CORPUS)["input_ids"]
    with torch.no_grad():
        assert torch.allclose(again(**after).logits, out.logits, atol=1e-6)


def test_a_pooled_classifier_and_its_teachers_are_pruned_alike(tmp_path):
    from hf_emo.models import PooledClassifier

    tokenizer = tiny_tokenizer()
    student = PooledClassifier.from_encoder(_save_encoder(tmp_path, len(tokenizer)), num_labels=3).eval()
    teacher = _bert(len(tokenizer), seed=1).eval()
    batch = tokenizer(CORPUS, padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = student(**batch).logits
    new_tokenizer, kept = prune_vocabulary(student, tokenizer, CORPUS, models=[teacher])
    assert teacher.get_input_embeddings().weight.shape[0] == len(kept)
    assert student.config.encoder["vocab_size"] == len(kept)
    with torch.no_grad():
        assert torch.allclose(
            student(**new_tokenizer(CORPUS, padding=True, return_tensors="pt")).logits, ref, atol=1e-6
        )
    student.save_pretrained(tmp_path / "pruned")
    assert PooledClassifier.from_pretrained(tmp_path / "pruned").get_input_embeddings().weight.shape[0] == len(kept)


def _save_encoder(tmp_path, vocab_size):
    from transformers import BertModel

    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        )
    ).save_pretrained(tmp_path / "enc")
    return str(tmp_path / "enc")


def test_bpe_and_bad_inputs_are_refused():
    backend = Tokenizer(models.BPE({"a": 0, "b": 1, "ab": 2, "<unk>": 3}, [("a", "b")], unk_token="<unk>"))
    bpe = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")
    with pytest.raises(ValueError, match="supports WordPiece, Unigram, WordLevel tokenizers; this one is BPE"):
        prune_vocabulary(_bert(4), bpe, ["ab"])
    with pytest.raises(ValueError, match="corpus is empty"):
        prune_vocabulary(_bert(len(tiny_tokenizer())), tiny_tokenizer(), [])
    with pytest.raises(ValueError, match="fewer than the tokenizer's"):
        prune_vocabulary(_bert(5), tiny_tokenizer(), CORPUS)
