"""Tokenisation of hf_emo data sets for a model: optional text prefix (E5's ``"query: "``), truncation only.

Padding is left to ``DataCollatorWithPadding`` at batch time (dynamic padding).
"""

from __future__ import annotations

import datasets

KEEP = ("labels", "weight", "teacher_logits")


def tokenize_dataset(
    ds: datasets.Dataset | datasets.DatasetDict,
    tokenizer,
    *,
    max_length: int | None = None,
    text_prefix: str = "",
    text_column: str = "text",
    keep: tuple[str, ...] = KEEP,
):
    """Add ``input_ids`` / ``attention_mask`` (and the tokenizer's other outputs); drop every other column
    except ``keep``."""

    def fn(batch):
        texts = [text_prefix + t for t in batch[text_column]]
        return tokenizer(texts, truncation=max_length is not None, max_length=max_length)

    def one(d: datasets.Dataset) -> datasets.Dataset:
        drop = [c for c in d.column_names if c not in keep]
        return d.map(fn, batched=True, remove_columns=drop, desc="tokenizing")

    if isinstance(ds, datasets.DatasetDict):
        return datasets.DatasetDict({k: one(v) for k, v in ds.items()})
    return one(ds)
