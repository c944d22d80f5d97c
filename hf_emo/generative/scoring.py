"""Predictions of a generative classifier: label probabilities by likelihood, or strictly parsed generations.

* Single-label: every label's completion (verbaliser + EOS) is scored by its summed token log-probability given
  the prompt (the prompt runs once; the completions run on its KV cache); a softmax over the labels gives
  probabilities that sum to 1.
* Multi-label: the completion answers every label in the task's order (``joy: yes, anger: no, ...``). Each label's
  score is ``log p(yes) - log p(no)`` at its answer slot, read in one left-to-right pass that writes the more likely
  answer before moving to the next label (the KV cache makes it one prompt pass plus a few tokens per label). A
  sigmoid of the score is ``p(yes) / (p(yes) + p(no))``, so thresholds, ROC-AUC and loyalty work as for encoders.

The returned arrays are logits in hf_emo's sense: :func:`hf_emo.metrics.probabilities` turns them into
probabilities (softmax for single-label, sigmoid for multi-label).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import torch

from ..models.modeling_hf_emo import (  # noqa: F401  (the scoring passes, shipped with every adapter)
    _device,
    completion_log_likelihoods,
    label_log_likelihoods,
    label_logits,
    left_pad,
    yes_no_scores,
)
from .prompts import PromptFormat
from .tokens import CompletionTokens, prompt_ids


def label_scores(
    model,
    tokenizer,
    fmt: PromptFormat,
    texts: list[str],
    *,
    batch_size: int = 8,
    max_text_tokens: int | None = 128,
    desc: str = "scoring labels",
) -> np.ndarray:
    """``(N, C)`` logits of every label for every text (see the module): log-likelihoods for single-label, yes/no
    log-odds for multi-label. The model runs in eval mode; its mode is restored after."""
    from tqdm.auto import tqdm

    tokens = CompletionTokens.build(fmt, tokenizer)
    was_training = model.training
    model.eval()
    out = []
    try:
        for i in tqdm(range(0, len(texts), batch_size), desc=desc, disable=len(texts) <= batch_size):
            prompts = [prompt_ids(fmt, tokenizer, t, max_text_tokens) for t in texts[i : i + batch_size]]
            logits = label_logits(model, prompts, tokens.verbalisers, tokens.answers, tokens.eos, fmt.multi_label,
                                  tokenizer.pad_token_id)  # fmt: skip
            out.append(logits.cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, fmt.spec.num_labels), np.float32)


@dataclass
class Generations:
    """Free generation read strictly: ``texts`` as generated, ``labels`` (a class id / 0-1 vector, or ``None`` for
    an output that is not a label), and ``invalid_rate``. ``mapped`` holds the fuzzy matches, when asked for."""

    texts: list[str]
    labels: list
    invalid_rate: float
    mapped: list | None = None


@torch.inference_mode()
def generate_labels(
    model,
    tokenizer,
    fmt: PromptFormat,
    texts: list[str],
    *,
    batch_size: int = 8,
    max_text_tokens: int | None = 128,
    max_new_tokens: int | None = None,
    fuzzy: bool = False,
    desc: str = "generating labels",
) -> Generations:
    """Greedy generation from left-padded prompts, parsed strictly (:meth:`PromptFormat.parse`). With ``fuzzy``
    (Wang et al. 2024 used Levenshtein matching) an invalid single-label output is also mapped to the closest label
    name, reported separately in ``mapped``; never silently."""
    from tqdm.auto import tqdm

    tokens = CompletionTokens.build(fmt, tokenizer)
    limit = max_new_tokens or tokens.longest_completion() + 2
    device = _device(model)
    was_training = model.training
    model.eval()
    generated: list[str] = []
    try:
        for i in tqdm(range(0, len(texts), batch_size), desc=desc, disable=len(texts) <= batch_size):
            prompts = [prompt_ids(fmt, tokenizer, t, max_text_tokens) for t in texts[i : i + batch_size]]
            ids, mask, _ = left_pad(prompts, tokenizer.pad_token_id, device)
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=limit,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            generated += tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)
    finally:
        model.train(was_training)
    labels = [fmt.parse(g) for g in generated]
    invalid = sum(x is None for x in labels) / max(1, len(labels))
    mapped = None
    if fuzzy:
        if fmt.multi_label:
            raise ValueError("fuzzy mapping applies to single-label outputs only")
        mapped = [x if x is not None else _closest(g, fmt.verbalisers) for g, x in zip(generated, labels)]
    return Generations(generated, labels, invalid, mapped)


def decisions_as_logits(spec, labels: list) -> np.ndarray:
    """Parsed generations (:attr:`Generations.labels` or ``mapped``) as ``(N, C)`` logits that a metric at threshold
    0.5 reads as exactly that decision; an invalid output (``None``) is no label / a wrong class, never a guess."""
    out = np.full((len(labels), spec.num_labels), -20.0, dtype=np.float32)
    for i, y in enumerate(labels):
        if y is None:
            continue
        if spec.problem_type == "multi_label":
            out[i] = np.where(np.asarray(y) >= 0.5, 20.0, -20.0)
        else:
            out[i, int(y)] = 20.0
    return out


def _closest(text: str, names: tuple[str, ...]) -> int:
    scores = [difflib.SequenceMatcher(None, text.strip().lower(), n.lower()).ratio() for n in names]
    return int(np.argmax(scores))
