"""Cached encoder features for a frozen encoder (TBED-MTL §4: BERT's outputs are computed once and reused).

:func:`cache_encoder_features` runs a :class:`~hf_emo.models.MultiTaskModel`'s encoder once over a dataset and stores
the pooled outputs in a ``features`` column; :class:`~hf_emo.trainers.MultiTaskTrainer` then trains the shared layer
and the heads on those vectors every epoch without touching the encoder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from datasets import Dataset, DatasetDict, Sequence, Value

from .data.cache import disk_cached
from .models.forward import model_batches

TOKEN_COLUMNS = ("input_ids", "attention_mask", "token_type_ids")


__all__ = ["cache_encoder_features"]


@torch.inference_mode()
def cache_encoder_features(
    model,
    dataset: Dataset | DatasetDict,
    tokenizer=None,
    *,
    text_column: str = "text",
    max_length: int | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    column: str = "features",
    drop_token_columns: bool = True,
    desc: str = "encoder features",
    cache_dir: str | Path | None = None,
) -> Dataset | DatasetDict:
    """Add ``column``: the model's pooled encoder output ``(H,)`` per row, computed once in eval mode.

    Rows are read from ``input_ids`` / ``attention_mask``, or tokenised from ``text_column`` with ``tokenizer`` (and
    the model's ``config.text_prefix``). ``drop_token_columns`` removes the token columns afterwards, so batches
    carry only the vectors (collate them with ``transformers.default_data_collator``). With ``cache_dir`` the result
    is also stored on disk, keyed by the encoder (its path, pooling, prefix, length limit) and the dataset's
    fingerprint, and later calls load it instead of running the encoder again (runs over several seeds).
    """
    if isinstance(dataset, DatasetDict):
        return DatasetDict(
            {
                k: cache_encoder_features(
                    model,
                    v,
                    tokenizer,
                    text_column=text_column,
                    max_length=max_length,
                    batch_size=batch_size,
                    device=device,
                    column=column,
                    drop_token_columns=drop_token_columns,
                    desc=f"{desc} [{k}]",
                    cache_dir=cache_dir,
                )
                for k, v in dataset.items()
            }
        )
    if cache_dir is not None:
        return disk_cached(
            cache_dir,
            _cache_ident(model, dataset, tokenizer is not None, text_column, max_length, column, drop_token_columns),
            lambda: cache_encoder_features(
                model,
                dataset,
                tokenizer,
                text_column=text_column,
                max_length=max_length,
                batch_size=batch_size,
                device=device,
                column=column,
                drop_token_columns=drop_token_columns,
                desc=desc,
            ),
        )
    if tokenizer is None and "input_ids" not in dataset.column_names:
        raise ValueError(
            f"dataset has no 'input_ids' column (columns: {dataset.column_names}): tokenise it, or pass "
            "tokenizer= to tokenise its text column"
        )
    if tokenizer is not None and text_column not in dataset.column_names:
        raise ValueError(f"dataset has no text column {text_column!r} (columns: {dataset.column_names})")
    pad_id = getattr(model.encoder.config, "pad_token_id", None) or 0
    chunks = []
    for batch in model_batches(
        model,
        dataset,
        tokenizer,
        text_column=text_column,
        max_length=max_length,
        batch_size=batch_size,
        device=device,
        pad_id=pad_id,
        desc=desc,
    ):
        pooled, _ = model.encode(**batch)
        chunks.append(pooled.float().cpu().numpy())
    values = np.concatenate(chunks).astype(np.float32)
    if column in dataset.column_names:
        dataset = dataset.remove_columns(column)
    dataset = dataset.add_column(column, values.tolist(), feature=Sequence(Value("float32")))
    if drop_token_columns:
        dataset = dataset.remove_columns([c for c in TOKEN_COLUMNS if c in dataset.column_names])
    return dataset


def _cache_ident(model, dataset: Dataset, tokenised_here: bool, *parts) -> dict:
    enc = model.encoder.config
    return {
        "encoder": getattr(enc, "_name_or_path", ""),
        "layers": enc.num_hidden_layers,
        "hidden": enc.hidden_size,
        "pooling": model.config.pooling,
        "prefix": model.config.text_prefix,
        "max_length": model.config.max_seq_length,
        "rows": len(dataset),
        "fingerprint": getattr(dataset, "_fingerprint", None),
        "tokenised_here": tokenised_here,
        "parts": [str(p) for p in parts],
    }
