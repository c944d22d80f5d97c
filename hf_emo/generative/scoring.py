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
import torch.nn.functional as F

from .prompts import PromptFormat
from .tokens import CompletionTokens, prompt_ids


def _left_pad(rows: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = max(len(r) for r in rows)
    ids = torch.full((len(rows), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, n - len(r) :] = torch.tensor(r, dtype=torch.long)
        mask[i, n - len(r) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), positions.to(device)


def _device(model) -> torch.device:
    return next(p.device for p in model.parameters())


def _cache_argument(model) -> str:
    """transformers 5.x renamed ``past_key_values`` to ``cache``; older architectures still take the old name."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _returned_cache(out):
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values


@torch.inference_mode()
def completion_log_likelihoods(
    model, prompts: list[list[int]], completions: list[list[int]], pad_id: int
) -> torch.Tensor:
    """``sum_j log p(c_j | prompt, c_<j)`` of each (prompt, completion) pair, in one left-padded batch whose
    logits are kept for the completion positions only."""
    seqs = [p + c for p, c in zip(prompts, completions)]
    ids, mask, positions = _left_pad(seqs, pad_id, _device(model))
    keep = max(len(c) for c in completions) + 1
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits.float()
    logp = F.log_softmax(logits[:, :-1], dim=-1)  # position k predicts token k + 1 of the kept tail
    targets = ids[:, -keep + 1 :]
    token_lp = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (n, keep - 1)
    lengths = torch.tensor([len(c) for c in completions], device=ids.device)
    cols = torch.arange(keep - 1, device=ids.device)
    in_completion = cols.unsqueeze(0) >= (keep - 1 - lengths).unsqueeze(1)
    return (token_lp * in_completion).sum(-1)


@torch.inference_mode()
def label_log_likelihoods(model, prompts: list[list[int]], completions: list[list[int]], pad_id: int) -> torch.Tensor:
    """``(B, C)``: ``sum_j log p(c_j | prompt, c_<j)`` of every one of the C ``completions`` after every prompt,
    as :func:`completion_log_likelihoods` of all B x C pairs, but each prompt runs once: its KV cache is repeated C
    times and the completions (right-padded; causal attention never reads the padding) run on it."""
    device = _device(model)
    n_prompts, n_labels = len(prompts), len(completions)
    ids, mask, positions = _left_pad(prompts, pad_id, device)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    first = F.log_softmax(out.logits[:, -1].float(), dim=-1)
    total = first[:, torch.tensor([c[0] for c in completions], device=device)]  # (B, C): each first token
    tail = max(len(c) for c in completions) - 1
    if tail == 0:
        return total
    inputs = torch.full((n_labels, tail), pad_id, dtype=torch.long)
    targets = torch.zeros((n_labels, tail), dtype=torch.long)
    valid = torch.zeros((n_labels, tail), dtype=torch.bool)
    for c, comp in enumerate(completions):  # token k of the tail input predicts token k + 1 of the completion
        inputs[c, : len(comp) - 1] = torch.tensor(comp[:-1])
        targets[c, : len(comp) - 1] = torch.tensor(comp[1:])
        valid[c, : len(comp) - 1] = True
    inputs, targets, valid = (t.repeat(n_prompts, 1).to(device) for t in (inputs, targets, valid))  # row b*C + c
    past = _returned_cache(out)
    past.batch_repeat_interleave(n_labels)
    tail_mask = torch.cat([mask.repeat_interleave(n_labels, dim=0), valid.long()], dim=1)
    tail_positions = (positions[:, -1] + 1).repeat_interleave(n_labels).unsqueeze(1) + torch.arange(tail, device=device)
    logits = model(
        input_ids=inputs,
        attention_mask=tail_mask,
        position_ids=tail_positions,
        use_cache=True,
        **{_cache_argument(model): past},
    ).logits.float()
    token_lp = F.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    token_lp = torch.where(valid, token_lp, torch.zeros_like(token_lp))  # padding rows may hold anything
    return total + token_lp.sum(-1).view(n_prompts, n_labels)


@torch.inference_mode()
def yes_no_scores(model, prompts: list[list[int]], tokens: CompletionTokens, pad_id: int) -> torch.Tensor:
    """Multi-label: ``log p(yes) - log p(no)`` per label, ``(B, C)``, answering the labels in order (see module)."""
    device = _device(model)
    ids, mask, positions = _left_pad(prompts, pad_id, device)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    name = _cache_argument(model)
    past, next_pos = _returned_cache(out), positions[:, -1] + 1
    yes, no = tokens.answers
    previous = None
    scores = []
    for piece in tokens.verbalisers:
        new = torch.tensor(piece, device=device).expand(len(prompts), -1)
        if previous is not None:
            new = torch.cat([previous.unsqueeze(1), new], dim=1)
        mask = torch.cat([mask, torch.ones_like(new)], dim=1)
        step_positions = next_pos.unsqueeze(1) + torch.arange(new.shape[1], device=device)
        out = model(
            input_ids=new,
            attention_mask=mask,
            position_ids=step_positions,
            use_cache=True,
            logits_to_keep=1,
            **{name: past},
        )
        past, next_pos = _returned_cache(out), next_pos + new.shape[1]
        lp = F.log_softmax(out.logits[:, -1].float(), dim=-1)
        score = lp[:, yes] - lp[:, no]
        previous = torch.where(
            score >= 0, torch.full_like(score, yes, dtype=torch.long), torch.full_like(score, no, dtype=torch.long)
        )
        scores.append(score)
    return torch.stack(scores, dim=1)


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
            if fmt.multi_label:
                out.append(yes_no_scores(model, prompts, tokens, tokenizer.pad_token_id).cpu().numpy())
                continue
            completions = [[*piece, tokens.eos] for piece in tokens.verbalisers]
            ll = label_log_likelihoods(model, prompts, completions, tokenizer.pad_token_id)
            out.append(F.log_softmax(ll, dim=-1).cpu().numpy())
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
            ids, mask, _ = _left_pad(prompts, tokenizer.pad_token_id, device)
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
