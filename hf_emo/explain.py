"""Zero-shot trigger-word detection (Wang et al. 2024 §3.4): which words of a text carry its emotion.

A word's score is the cosine similarity between the last hidden state of the ``<s>`` / ``[CLS]`` token and the
states of the word's sub-word tokens (the maximum over them). A threshold, tuned on a validation set, turns the
scores into binary trigger labels; Wang et al. 2024 reports token-level F1 and mean average precision (MAP).

Gold trigger annotations exist in EXALT (WASSA 2024), which is not available here: the metrics are tested on
constructed data, and evaluating on EXALT needs its release (a word-level 0/1 list per text).
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

__all__ = [
    "WordScores",
    "explain_texts",
    "trigger_scores",
    "trigger_f1",
    "trigger_map",
    "tune_trigger_threshold",
    "render_terminal",
    "render_html",
]

_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]", re.UNICODE)


@dataclass
class WordScores:
    """The words of one text (with their character spans) and each word's trigger score in [-1, 1]."""

    text: str
    words: list[str]
    spans: list[tuple[int, int]]
    scores: list[float]

    def triggers(self, threshold: float) -> list[str]:
        return [w for w, s in zip(self.words, self.scores) if s >= threshold]


def split_words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Words and punctuation marks with their character spans (the unit the metrics count)."""
    ms = list(_WORD.finditer(text))
    return [m.group() for m in ms], [m.span() for m in ms]


@torch.inference_mode()
def trigger_scores(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    text_prefix: str | None = None,
    device=None,
) -> list[WordScores]:
    """Per-word trigger scores of ``texts`` under ``model`` (any HF classifier that returns hidden states).

    The model's ``config.text_prefix`` (e.g. E5's ``"query: "``) is prepended unless ``text_prefix`` is given; its
    tokens and the special tokens are not scored. Needs a fast tokenizer (character offsets).
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("trigger_scores needs a fast tokenizer (it maps tokens to words by character offsets)")
    from .models.forward import eval_mode, inference_settings

    prefix, limit, dev = inference_settings(model, max_length=max_length, text_prefix=text_prefix, device=device)
    out: list[WordScores] = []
    with eval_mode(model):
        for i in range(0, len(texts), batch_size):
            chunk = list(texts[i : i + batch_size])
            enc = tokenizer(
                [prefix + t for t in chunk],
                truncation=True,
                max_length=limit,
                padding=True,
                return_offsets_mapping=True,
                return_special_tokens_mask=True,
                return_tensors="pt",
            )
            offsets = enc.pop("offset_mapping")
            special = enc.pop("special_tokens_mask")
            hidden = model(**{k: v.to(dev) for k, v in enc.items()}, output_hidden_states=True).hidden_states[-1]
            hidden = hidden.float()
            sims = torch.nn.functional.cosine_similarity(hidden[:, :1], hidden, dim=-1).cpu().numpy()
            for b, text in enumerate(chunk):
                words, spans = split_words(text)
                scores = np.full(len(words), -np.inf)
                for tok_i, (s, e) in enumerate(offsets[b].tolist()):
                    if special[b, tok_i] or not enc["attention_mask"][b, tok_i] or e <= len(prefix) or e == s:
                        continue
                    s, e = max(s, len(prefix)) - len(prefix), e - len(prefix)
                    for w, (ws, we) in enumerate(spans):
                        if ws < e and s < we:
                            scores[w] = max(scores[w], sims[b, tok_i])
                # a word cut off by max_length gets the lowest possible score
                out.append(WordScores(text, words, spans, [float(x) if np.isfinite(x) else -1.0 for x in scores]))
    return out


def _flat(scores: Sequence[Sequence[float]], gold: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    if len(scores) != len(gold):
        raise ValueError(f"{len(scores)} score lists but {len(gold)} gold lists")
    for i, (s, g) in enumerate(zip(scores, gold)):
        if len(s) != len(g):
            raise ValueError(f"text {i}: {len(s)} scored words but {len(g)} gold labels")
    s = np.concatenate([np.asarray(x, float) for x in scores]) if scores else np.zeros(0)
    g = np.concatenate([np.asarray(x, int) for x in gold]) if gold else np.zeros(0, int)
    return s, g


def trigger_f1(scores: Sequence[Sequence[float]], gold: Sequence[Sequence[int]], threshold: float) -> dict[str, float]:
    """Token-level precision, recall and F1 of ``score >= threshold`` against the gold 0/1 trigger labels, counted
    over every word of every text (micro)."""
    s, g = _flat(scores, gold)
    pred = s >= threshold
    tp = float(np.sum(pred & (g == 1)))
    p = tp / max(float(pred.sum()), 1.0)
    r = tp / max(float((g == 1).sum()), 1.0)
    f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return {"precision": p, "recall": r, "f1": f1}


def trigger_map(scores: Sequence[Sequence[float]], gold: Sequence[Sequence[int]]) -> float:
    """Mean over texts of the average precision of the words ranked by score (texts without a gold trigger are
    skipped, as AP is undefined for them)."""
    from sklearn.metrics import average_precision_score

    _flat(scores, gold)
    aps = [
        average_precision_score(np.asarray(g, int), np.asarray(s, float))
        for s, g in zip(scores, gold)
        if np.any(np.asarray(g) == 1)
    ]
    return float(np.mean(aps)) if aps else 0.0


def tune_trigger_threshold(scores: Sequence[Sequence[float]], gold: Sequence[Sequence[int]]) -> tuple[float, float]:
    """``(threshold, F1)``: the threshold among the observed scores that maximises token-level F1 on a validation
    set (Wang et al. 2024 picks it per model on held-out data)."""
    s, g = _flat(scores, gold)
    if not len(s):
        raise ValueError("no scored words to tune a threshold on")
    best = (float(s.max()), -1.0)
    for t in np.unique(s):
        f1 = trigger_f1([s], [g], float(t))["f1"]
        if f1 > best[1]:
            best = (float(t), f1)
    return best


def _level(score: float, lo: float, hi: float) -> float:
    return 0.0 if hi <= lo else min(max((score - lo) / (hi - lo), 0.0), 1.0)


def render_terminal(item: WordScores, threshold: float, color: bool | None = None) -> str:
    """The text with trigger words highlighted: a red background whose strength follows the score (ANSI), or
    ``[word]`` brackets without colour (``NO_COLOR`` or a pipe)."""
    if color is None:
        color = os.environ.get("NO_COLOR") is None and os.isatty(1)
    lo, hi = threshold, max([threshold, *item.scores])
    parts, last = [], 0
    for w, (s, e), sc in zip(item.words, item.spans, item.scores):
        parts.append(item.text[last:s])
        if sc >= threshold:
            if color:
                shade = 224 - 6 * round(4 * _level(sc, lo, hi))  # 224 (light) .. 200 (strong red), xterm-256
                parts.append(f"\x1b[48;5;{shade}m\x1b[30m{w}\x1b[0m")
            else:
                parts.append(f"[{w}]")
        else:
            parts.append(w)
        last = e
    parts.append(item.text[last:])
    return "".join(parts)


def render_html(
    items: Sequence[WordScores],
    threshold: float | Sequence[float],
    title: str = "hf_emo trigger words",
    labels: Sequence[str] | None = None,
) -> str:
    """A standalone HTML page: one paragraph per text, every word shaded by its score (the trigger words above
    ``threshold`` in red, the others in a faint grey) with the score in its tooltip. ``threshold`` is one value or
    one per text."""
    thresholds = [float(threshold)] * len(items) if np.isscalar(threshold) else [float(t) for t in threshold]
    if len(thresholds) != len(items):
        raise ValueError(f"{len(thresholds)} thresholds for {len(items)} texts")
    rows = []
    for k, it in enumerate(items):
        threshold = thresholds[k]
        lo, hi = min(it.scores, default=0.0), max(it.scores, default=1.0)
        parts, last = [], 0
        for w, (s, e), sc in zip(it.words, it.spans, it.scores):
            parts.append(html.escape(it.text[last:s]))
            a = _level(sc, lo, hi)
            bg = f"rgba(220,40,40,{0.25 + 0.6 * a:.2f})" if sc >= threshold else f"rgba(120,120,120,{0.15 * a:.2f})"
            parts.append(
                f'<span class="w{" trig" if sc >= threshold else ""}" style="background:{bg}" '
                f'title="{sc:.3f}">{html.escape(w)}</span>'
            )
            last = e
        parts.append(html.escape(it.text[last:]))
        label = f'<span class="lab">{html.escape(labels[k])}</span> ' if labels else ""
        rows.append(f"<p>{label}{''.join(parts)}</p>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title><style>"
        "body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.9}"
        ".w{padding:1px 2px;border-radius:3px}.trig{font-weight:600}.lab{color:#555;font-size:.85em}"
        "</style></head><body><h1>" + html.escape(title) + "</h1><p>Word shade: cosine similarity to the first "
        "token's last hidden state (Wang et al. 2024 §3.4); red words are at or above the threshold "
        f"({', '.join(sorted({f'{t:.3f}' for t in thresholds}))}).</p>" + "\n".join(rows) + "</body></html>\n"
    )


def explain_texts(
    model_name_or_path: str, texts: Sequence[str], *, threshold: float | None = None, batch_size: int = 32
) -> tuple[list[WordScores], list[str], list[float]]:
    """``(word scores, label line, trigger threshold)`` per text for a fine-tuned classifier (folder or Hub id).

    The label line names the labels ``predict`` chooses (at the model's tuned threshold(s)) with their
    probabilities; the trigger threshold is ``threshold``, else the model's ``hf_emo_trigger_threshold``, else per
    text the mean + one standard deviation of its word scores."""
    from .inference import predict
    from .models import load_classifier, load_tokenizer

    model, tokenizer = load_classifier(model_name_or_path), load_tokenizer(model_name_or_path)
    pred = predict(model, tokenizer, texts, batch_size=batch_size)
    names, problem = pred.label_names, pred.problem_type
    default = threshold if threshold is not None else getattr(model.config, "hf_emo_trigger_threshold", None)
    items = trigger_scores(model, tokenizer, texts, batch_size=batch_size)
    labels, thresholds = [], []
    for item, probs, chosen in zip(items, pred.probabilities, pred.labels):
        thresholds.append(default if default is not None else float(np.mean(item.scores) + np.std(item.scores)))
        if problem == "multi_label":  # the labels predict() chose at the model's tuned threshold(s)
            shown = [f"{n} {v:.2f}" for n, v in zip(names, probs) if n in chosen]
        else:
            shown = [f"{names[int(probs.argmax())]} {probs.max():.2f}"]
        labels.append(", ".join(shown) or "(no label)")
    return items, labels, thresholds
