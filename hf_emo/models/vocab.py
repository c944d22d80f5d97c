"""Vocabulary pruning: keep the pieces a corpus uses, remap the embeddings (and the LM head) and the tokenizer.

A multilingual encoder spends most of its parameters on its embedding table: multilingual-e5-small has 96M of its
118M in 250k pieces, of which one language's text uses a few tens of thousands. Pruning keeps the special tokens
and every piece that the tokenizer produces on the corpus, in their old order. On the corpus, the pruned tokenizer
segments every text exactly as before (a WordPiece greedy match, a Unigram best path or a word-level lookup only
uses pieces that occur in it), and the pruned model gives the same outputs, restricted to the kept pieces for an LM
head. A text outside the corpus may need a removed piece: it then falls back to shorter pieces (WordPiece, Unigram)
or ``unk``.

BPE vocabularies (GPT-2, Llama, SmolLM2) are refused: their merges build pieces from other pieces, so removing one
can break the segmentation of words that never use it directly.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

import torch
from torch import nn

SUPPORTED_TOKENIZER_MODELS = ("WordPiece", "Unigram", "WordLevel")


def corpus_piece_ids(tokenizer, texts: Iterable[str], batch_size: int = 1000) -> Counter:
    """How often each piece id occurs when ``tokenizer`` encodes ``texts`` (special tokens included)."""
    counts: Counter = Counter()
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == batch_size:
            for ids in tokenizer(batch)["input_ids"]:
                counts.update(ids)
            batch = []
    if batch:
        for ids in tokenizer(batch)["input_ids"]:
            counts.update(ids)
    return counts


def prune_vocabulary(
    model: nn.Module | None, tokenizer, texts: Iterable[str], *, min_count: int = 1, models: Iterable[nn.Module] = ()
) -> tuple[Any, list[int]]:
    """Keep the special tokens and the pieces occurring at least ``min_count`` times in ``texts``.

    ``model`` (and every model in ``models``, e.g. teachers sharing the tokenizer) is changed in place: its input
    embeddings, a tied or untied output layer over the vocabulary (with its bias), and ``vocab_size`` / special
    token ids in its configs. Returns the new tokenizer (a ``PreTrainedTokenizerFast`` that saves and reloads with
    ``AutoTokenizer``) and the kept old ids in their (ascending) new order.
    """
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    if not getattr(tokenizer, "is_fast", False) or not hasattr(tokenizer, "backend_tokenizer"):
        raise ValueError(f"vocabulary pruning needs a fast (tokenizers) tokenizer, got {type(tokenizer).__name__}")
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    kind = spec["model"]["type"]
    if kind not in SUPPORTED_TOKENIZER_MODELS:
        raise ValueError(
            f"vocabulary pruning supports {', '.join(SUPPORTED_TOKENIZER_MODELS)} tokenizers; this one "
            f"is {kind}, whose merges build pieces from pieces, so removing one can break words that "
            "never use it directly"
        )
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    old_size = len(tokenizer)
    targets = ([model] if model is not None else []) + list(models)
    for target in targets:  # before anything changes
        rows = target.get_input_embeddings().weight.shape[0]
        if rows < old_size:
            raise ValueError(
                f"{type(target).__name__}'s embedding table has {rows} rows, fewer than the "
                f"tokenizer's {old_size} pieces: not the tokenizer of this model"
            )
    counts = corpus_piece_ids(tokenizer, texts)
    if not counts:
        raise ValueError("the pruning corpus is empty: no text to count pieces in")
    forced = set(tokenizer.all_special_ids) | {t["id"] for t in spec.get("added_tokens", [])}
    if tokenizer.unk_token_id is not None:
        forced.add(tokenizer.unk_token_id)
    kept = sorted(forced | {i for i, n in counts.items() if n >= min_count})
    new_id = {old: new for new, old in enumerate(kept)}

    # -- the tokenizer
    m = spec["model"]
    if kind in ("WordPiece", "WordLevel"):  # a {piece: id} table
        m["vocab"] = {piece: new_id[i] for piece, i in m["vocab"].items() if i in new_id}
    else:  # Unigram: the id is the position in the list of (piece, score)
        m["vocab"] = [m["vocab"][i] for i in kept]
        if m.get("unk_id") is not None:
            m["unk_id"] = new_id[m["unk_id"]]
    for added in spec.get("added_tokens", []):
        added["id"] = new_id[added["id"]]
    _remap_ids(spec.get("post_processor"), new_id)
    backend = Tokenizer.from_str(json.dumps(spec))
    special = {k: v for k, v in tokenizer.special_tokens_map.items() if k != "additional_special_tokens"}
    pruned_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        model_max_length=tokenizer.model_max_length,
        padding_side=tokenizer.padding_side,
        **special,
    )

    # -- the models
    for target in targets:
        _prune_model(target, kept, new_id, old_size)
    return pruned_tokenizer, kept


def _remap_ids(node: Any, new_id: dict[int, int]) -> None:
    """Post-processor special-token ids (TemplateProcessing ``ids``, Roberta/Bert ``sep`` / ``cls`` pairs)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "ids" and isinstance(value, list):
                node[key] = [new_id[i] for i in value]
            elif key in ("sep", "cls") and isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
                node[key] = [value[0], new_id[value[1]]]
            else:
                _remap_ids(value, new_id)
    elif isinstance(node, list):
        for value in node:
            _remap_ids(value, new_id)


def _prune_model(model: nn.Module, kept: list[int], new_id: dict[int, int], old_size: int) -> None:
    index = torch.tensor(kept, dtype=torch.long)
    embeddings = model.get_input_embeddings()
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    tied = output is not None and output.weight is embeddings.weight
    old_bias = getattr(output, "bias", None) if output is not None else None
    with torch.no_grad():
        embeddings.weight = nn.Parameter(
            embeddings.weight.index_select(0, index.to(embeddings.weight.device)).clone(),
            requires_grad=embeddings.weight.requires_grad,
        )
        embeddings.num_embeddings = len(kept)
        if getattr(embeddings, "padding_idx", None) is not None:
            embeddings.padding_idx = new_id.get(embeddings.padding_idx)
        if output is not None:
            if tied:
                output.weight = embeddings.weight
            else:
                output.weight = nn.Parameter(
                    output.weight.index_select(0, index.to(output.weight.device)).clone(),
                    requires_grad=output.weight.requires_grad,
                )
            if hasattr(output, "out_features"):
                output.out_features = len(kept)
            if old_bias is not None:
                new_bias = nn.Parameter(
                    old_bias.index_select(0, index.to(old_bias.device)).clone(), requires_grad=old_bias.requires_grad
                )
                for module in model.modules():  # BERT's MLM head holds the decoder's bias twice
                    if getattr(module, "bias", None) is old_bias:
                        module.bias = new_bias
    configs = {id(c): c for c in (getattr(m, "config", None) for m in model.modules()) if c is not None}
    for config in configs.values():  # each config once: a model and its base model share one
        _update_config(config, len(kept), new_id, old_size)


TOKEN_ID_FIELDS = (
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    "sep_token_id",
    "cls_token_id",
    "decoder_start_token_id",
)


def _update_config(config, size: int, new_id: dict[int, int], old_size: int) -> None:
    if getattr(config, "vocab_size", None) is not None and config.vocab_size >= old_size:
        config.vocab_size = size
    for name in TOKEN_ID_FIELDS:
        value = getattr(config, name, None)
        if isinstance(value, int):
            setattr(config, name, new_id.get(value))
    nested = getattr(config, "encoder", None)  # hf_emo's PooledClassifierConfig keeps the encoder's config as a dict
    if isinstance(nested, dict) and nested.get("vocab_size", 0) >= old_size:
        nested = dict(nested)
        nested["vocab_size"] = size
        for name in TOKEN_ID_FIELDS:
            if isinstance(nested.get(name), int):
                nested[name] = new_id.get(nested[name])
        config.encoder = nested
