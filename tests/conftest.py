"""Shared fixtures: tiny models built from a config (fast), and paths to the real data and models."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

WORDS = ("happy sad angry afraid calm joy fear news sport good bad very not i am you it is the a this that "
         "day today great awful love hate market team win lose fericit trist supărat frică bucurie").split()


def tiny_tokenizer():
    from transformers import BertTokenizer

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}
    return BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=64)


def tiny_bert_config(**kw):
    from transformers import BertConfig

    tok_size = len(WORDS) + 5
    base = dict(vocab_size=tok_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=64, max_position_embeddings=64, hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0)
    base.update(kw)
    return BertConfig(**base)


@pytest.fixture
def tiny_encoder_dir(tmp_path) -> Path:
    """A folder holding a 2-layer, hidden-32 BERT encoder and its WordPiece tokenizer."""
    from transformers import BertModel

    torch.manual_seed(0)
    d = tmp_path / "tiny-bert"
    BertModel(tiny_bert_config()).save_pretrained(d)
    tiny_tokenizer().save_pretrained(d)
    return d


@pytest.fixture
def data_dir() -> Path:
    from hf_emo.data import default_data_dir

    d = default_data_dir()
    if d is None or not d.is_dir():
        pytest.skip("no local data directory (set HF_EMO_DATA_DIR or put shared/data beside the checkout)")
    return d


def have_package(name: str) -> bool:
    return importlib.util.find_spec(name) is not None
