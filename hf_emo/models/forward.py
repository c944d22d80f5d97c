"""The batched forward pass over raw texts that prediction, evaluation and teacher caching share."""

from __future__ import annotations

import numpy as np
import torch


def batched_logits(model, tokenizer, texts: list[str], *, batch_size: int = 32, max_length: int | None = None,
                   text_prefix: str | None = None, device: str | torch.device | None = None,
                   desc: str = "predicting") -> np.ndarray | dict[str, np.ndarray]:
    """Logits of ``model`` for ``texts`` (``(N, C)``), or ``{task: (N, C_task)}`` for a multi-task model.

    Texts get the model's ``config.text_prefix`` (or ``text_prefix``) and are cut at ``config.max_seq_length``
    (or ``max_length``, else 512). The model runs in eval mode under ``torch.inference_mode`` on ``device`` (default:
    where its weights are); its train/eval mode is restored afterwards."""
    from tqdm.auto import tqdm

    prefix = text_prefix if text_prefix is not None else (getattr(model.config, "text_prefix", "") or "")
    limit = max_length or getattr(model.config, "max_seq_length", None) or 512
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    chunks: list = []
    try:
        with torch.inference_mode():
            for i in tqdm(range(0, len(texts), batch_size), desc=desc, disable=len(texts) <= batch_size):
                enc = tokenizer([prefix + t for t in texts[i:i + batch_size]], truncation=True, max_length=limit,
                                padding=True, return_tensors="pt")
                out = model(**{k: v.to(dev) for k, v in enc.items()})
                task_logits = getattr(out, "task_logits", None)
                if task_logits is not None:
                    chunks.append({t: lg.float().cpu().numpy() for t, lg in task_logits.items()})
                else:
                    chunks.append(out.logits.float().cpu().numpy())
    finally:
        model.train(was_training)
    if chunks and isinstance(chunks[0], dict):
        return {t: np.concatenate([c[t] for c in chunks]) for t in chunks[0]}
    return np.concatenate(chunks) if chunks else np.zeros((0, model.config.num_labels), np.float32)
