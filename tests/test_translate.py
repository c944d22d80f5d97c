"""translate.py on a tiny MarianMT model built from a config: batching, on-disk cache, language routing."""

import pytest
import torch
from datasets import Dataset

from hf_emo import translate as tr
from tests.conftest import WORDS, tiny_tokenizer

EN = [
    "The weather is very nice today and I am happy to see you.",
    "I really hate waiting for the bus in the rain every morning.",
]
RO = [
    "Vremea este foarte frumoasă astăzi și sunt fericit să te văd.",
    "Chiar urăsc să aștept autobuzul în ploaie în fiecare dimineață.",
]


@pytest.fixture
def tiny_marian(tmp_path):
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(0)
    tok = tiny_tokenizer()
    cfg = MarianConfig(
        vocab_size=len(WORDS) + 5,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=0,
        eos_token_id=3,
        decoder_start_token_id=0,
        forced_eos_token_id=None,
    )
    d = tmp_path / "tiny-marian"
    MarianMTModel(cfg).save_pretrained(d)
    tok.save_pretrained(d)
    return d


def _counting(monkeypatch):
    calls = []
    real = tr._generate

    def spy(model, tokenizer, texts, max_length, gen):
        calls.append(list(texts))
        return real(model, tokenizer, texts, max_length, gen)

    monkeypatch.setattr(tr, "_generate", spy)
    return calls


def test_translate_texts_batches_dedupes_and_caches(tiny_marian, tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    texts = ["happy day", "sad news", "happy day", "very bad market today", "i love the team"]
    kw = dict(batch_size=2, num_beams=1, max_new_tokens=4, cache_dir=tmp_path / "cache")
    first = tr.translate_texts(texts, str(tiny_marian), **kw)
    assert len(first) == 5 and all(isinstance(t, str) for t in first)
    assert first[0] == first[2]
    assert sorted(t for c in calls for t in c) == sorted(set(texts))  # each distinct text once
    assert max(len(c) for c in calls) <= 2
    calls.clear()
    again = tr.translate_texts(texts + ["good win"], str(tiny_marian), **kw)
    assert again[:5] == first
    assert calls == [["good win"]]  # only the new text reaches the model
    calls.clear()
    tr.translate_texts(texts, str(tiny_marian), **{**kw, "num_beams": 2})  # other settings: another cache key
    assert sum(len(c) for c in calls) == 4


def test_translations_match_the_model_output(tiny_marian, tmp_path):
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_marian)
    tok = tiny_tokenizer()
    got = tr.translate_texts(
        ["happy day", "sad news today"], model, tok, num_beams=1, max_new_tokens=4, use_cache=False
    )
    enc = tok(["happy day", "sad news today"], padding=True, return_tensors="pt")
    enc.pop("token_type_ids")
    ref = tok.batch_decode(model.generate(**enc, num_beams=1, max_new_tokens=4), skip_special_tokens=True)
    assert got == [r.strip() for r in ref]
    with pytest.raises(ValueError, match="tokenizer"):
        tr.translate_texts(["x"], model, use_cache=False)


def test_language_detection_offline():
    assert tr.detect_languages(EN + RO) == ["en", "en", "ro", "ro"]
    with pytest.raises(ValueError, match="backend"):
        tr.detect_languages(EN, backend="cld3")


def test_translate_column_routes_only_non_english_rows(tiny_marian, tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    ds = Dataset.from_dict({"text": [EN[0], RO[0], EN[1], RO[1]], "labels": [0, 1, 0, 1]})
    templ = str(tiny_marian.parent / "tiny-{src}-{tgt}")
    (tiny_marian.parent / "tiny-ro-en").symlink_to(tiny_marian)
    out = tr.translate_column(ds, "text", model=templ, num_beams=1, max_new_tokens=4, cache_dir=tmp_path / "c")
    assert out["lang"] == ["en", "ro", "en", "ro"]
    assert out["text_en"][0] == EN[0] and out["text_en"][2] == EN[1]
    assert sorted(t for c in calls for t in c) == sorted(RO)
    assert out["labels"] == [0, 1, 0, 1] and out["text"] == ds["text"]
    with pytest.raises(ValueError, match="no column 'body'"):
        tr.translate_column(ds, "body", model=templ)
    bad = Dataset.from_dict({"text": ["ok text here", "  "]})
    with pytest.raises(ValueError, match="empty"):
        tr.translate_column(bad, "text", model=templ)


def test_source_lang_translates_every_row(tiny_marian, tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    ds = Dataset.from_dict({"text": ["happy day", "sad news"]})
    out = tr.translate_column(
        ds,
        "text",
        "en",
        model=str(tiny_marian),
        source_lang="ro",
        lang_column=None,
        num_beams=1,
        max_new_tokens=3,
        cache_dir=tmp_path / "c",
    )
    assert "lang" not in out.column_names and len(out["en"]) == 2
    assert sum(len(c) for c in calls) == 2
