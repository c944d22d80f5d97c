"""The batched forward pass over raw texts that prediction, evaluation and teacher caching share."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import torch

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _pad(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    n = max(len(r["input_ids"]) for r in rows)
    out = {}
    for key in MODEL_INPUTS:
        if key not in rows[0]:
            continue
        fill = pad_id if key == "input_ids" else 0
        out[key] = torch.tensor([list(r[key]) + [fill] * (n - len(r[key])) for r in rows], dtype=torch.long)
    return out


def dataset_batches(
    dataset,
    tokenizer=None,
    *,
    text_column: str = "text",
    text_prefix: str = "",
    max_length: int = 512,
    batch_size: int = 64,
    pad_id: int = 0,
    desc: str = "batches",
) -> Iterator[dict[str, torch.Tensor]]:
    """Padded model-input batches of a ``datasets.Dataset``, in row order, with a progress bar: from its
    ``input_ids`` / ``attention_mask`` columns when ``tokenizer`` is ``None``, else by tokenising ``text_column``
    (with ``text_prefix``, cut at ``max_length``). The one loop behind teacher-logit and encoder-feature caching."""
    from tqdm.auto import tqdm

    for i in tqdm(range(0, len(dataset), batch_size), desc=desc, disable=len(dataset) <= batch_size):
        rows: dict[str, Any] = dataset[i : i + batch_size]
        if tokenizer is None:
            keys = [c for c in MODEL_INPUTS if c in rows]
            yield _pad([{c: rows[c][j] for c in keys} for j in range(len(rows["input_ids"]))], pad_id)
        else:
            yield dict(
                tokenizer(
                    [text_prefix + t for t in rows[text_column]],
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                )
            )


def inference_settings(
    model, *, max_length: int | None = None, text_prefix: str | None = None, device: str | torch.device | None = None
) -> tuple[str, int, torch.device]:
    """How ``model`` reads raw text: its ``config.text_prefix`` (or ``text_prefix``), its ``config.max_seq_length``
    (or ``max_length``, else 512) and the device it runs on (``device``, else where its weights are)."""
    prefix = text_prefix if text_prefix is not None else (getattr(model.config, "text_prefix", "") or "")
    limit = max_length or getattr(model.config, "max_seq_length", None) or 512
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    return prefix, limit, dev


@contextmanager
def eval_mode(model) -> Iterator[Any]:
    """``model`` in eval mode inside the block; its train/eval mode as it was afterwards, also after an error."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_batches(
    model,
    dataset,
    tokenizer=None,
    *,
    text_column: str = "text",
    max_length: int | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    pad_id: int = 0,
    desc: str = "batches",
) -> Iterator[dict[str, torch.Tensor]]:
    """:func:`dataset_batches` for ``model``, on its device and read as it reads text (:func:`inference_settings`):
    the model is moved there and put in eval mode for the loop, and its train/eval mode is restored afterwards."""
    prefix, limit, dev = inference_settings(model, max_length=max_length, device=device)
    with eval_mode(model.to(dev)):
        for batch in dataset_batches(
            dataset,
            tokenizer,
            text_column=text_column,
            text_prefix=prefix,
            max_length=limit,
            batch_size=batch_size,
            pad_id=pad_id,
            desc=desc,
        ):
            yield {k: v.to(dev) for k, v in batch.items()}


def batched_logits(
    model,
    tokenizer,
    texts: list[str],
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    text_prefix: str | None = None,
    device: str | torch.device | None = None,
    desc: str = "predicting",
) -> np.ndarray | dict[str, np.ndarray]:
    """Logits of ``model`` for ``texts`` (``(N, C)``), or ``{task: (N, C_task)}`` for a multi-task model.

    Texts get the model's ``config.text_prefix`` (or ``text_prefix``) and are cut at ``config.max_seq_length``
    (or ``max_length``, else 512). The model runs in eval mode under ``torch.inference_mode`` on ``device`` (default:
    where its weights are); its train/eval mode is restored afterwards."""
    from tqdm.auto import tqdm

    prefix, limit, dev = inference_settings(model, max_length=max_length, text_prefix=text_prefix, device=device)
    chunks: list = []
    with eval_mode(model), torch.inference_mode():
        for i in tqdm(range(0, len(texts), batch_size), desc=desc, disable=len(texts) <= batch_size):
            enc = tokenizer(
                [prefix + t for t in texts[i : i + batch_size]],
                truncation=True,
                max_length=limit,
                padding=True,
                return_tensors="pt",
            )
            out = model(**{k: v.to(dev) for k, v in enc.items()})
            task_logits = getattr(out, "task_logits", None)
            if task_logits is not None:
                chunks.append({t: lg.float().cpu().numpy() for t, lg in task_logits.items()})
            else:
                chunks.append(out.logits.float().cpu().numpy())
    if chunks and isinstance(chunks[0], dict):
        return {t: np.concatenate([c[t] for c in chunks]) for t in chunks[0]}
    return np.concatenate(chunks) if chunks else np.zeros((0, model.config.num_labels), np.float32)
