"""Prompt and completion token ids, built the same way for training, scoring and generation.

Prompt and completion are tokenised separately and concatenated, so the boundary is exact: the labels mask every
prompt token (-100) and keep every completion token and the final EOS.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models.modeling_hf_emo import completion_pieces
from ..models.modeling_hf_emo import prompt_ids as portable_prompt_ids
from .prompts import ANSWERS, PromptFormat


@dataclass(frozen=True)
class CompletionTokens:
    """The token ids of one task's completions for one tokenizer, checked once."""

    fmt: PromptFormat
    verbalisers: tuple[tuple[int, ...], ...]  # single-label: each label's ids; multi-label: each label's piece
    answers: tuple[int, int]  # multi-label: the ids of " yes" and " no"
    eos: int

    @classmethod
    def build(cls, fmt: PromptFormat, tokenizer) -> "CompletionTokens":
        pieces, answer_ids = completion_pieces(tokenizer, list(fmt.verbalisers), fmt.multi_label)
        pieces = tuple(pieces)
        if fmt.multi_label:
            if any(len(a) != 1 for a in answer_ids) or answer_ids[0] == answer_ids[1]:
                raise ValueError(
                    f"the answers {[f' {a}' for a in ANSWERS]} must each be one token of this tokenizer "
                    f"(they are {answer_ids}); multi-label scoring reads one token per answer"
                )
            answers = (answer_ids[0][0], answer_ids[1][0])
        else:
            answers = (-1, -1)
        empty = [fmt.spec.label_names[i] for i, p in enumerate(pieces) if not p]
        if empty:
            raise ValueError(f"label(s) {empty} tokenise to nothing: give them verbalisers the tokenizer can write")
        if not fmt.multi_label and len(set(pieces)) != len(pieces):
            raise ValueError(f"two labels tokenise to the same ids: {dict(zip(fmt.verbalisers, pieces))}")
        return cls(fmt, pieces, answers, tokenizer.eos_token_id)

    def completion(self, label) -> list[int]:
        """The completion ids of a gold label (a class id, or a 0/1 vector), ending with EOS."""
        if self.fmt.multi_label:
            out: list[int] = []
            for piece, y in zip(self.verbalisers, label):
                out += [*piece, self.answers[0] if float(y) >= 0.5 else self.answers[1]]
            return out + [self.eos]
        return [*self.verbalisers[int(label)], self.eos]

    def longest_completion(self) -> int:
        if self.fmt.multi_label:
            return sum(len(p) + 1 for p in self.verbalisers) + 1
        return max(len(p) for p in self.verbalisers) + 1


def prompt_ids(fmt: PromptFormat, tokenizer, text: str, max_text_tokens: int | None = None) -> list[int]:
    """The prompt's ids (with the tokenizer's own special tokens, e.g. BOS); the text is cut to ``max_text_tokens``
    pieces first, so the instruction and the response marker are never cut off."""
    return portable_prompt_ids(fmt.template, list(fmt.verbalisers), tokenizer, text, max_text_tokens)


def tokenize_prompt_completion(
    dataset,
    tokenizer,
    fmt: PromptFormat,
    *,
    max_text_tokens: int | None = 128,
    text_column: str = "text",
    label_column: str = "labels",
    num_proc: int | None = None,
):
    """``input_ids`` / ``attention_mask`` / ``labels`` for causal-LM training: prompt ids then completion ids + EOS;
    ``labels`` copies the completion and masks the prompt with -100. The gold labels move to ``gold`` (for
    evaluation); the text column stays."""
    from datasets import DatasetDict

    if isinstance(dataset, DatasetDict):
        return DatasetDict(
            {
                k: tokenize_prompt_completion(
                    v,
                    tokenizer,
                    fmt,
                    max_text_tokens=max_text_tokens,
                    text_column=text_column,
                    label_column=label_column,
                    num_proc=num_proc,
                )
                for k, v in dataset.items()
            }
        )
    for column in (text_column, label_column):
        if column not in dataset.column_names:
            raise ValueError(f"dataset has no {column!r} column (columns: {dataset.column_names})")
    tokens = CompletionTokens.build(fmt, tokenizer)

    def encode(row):
        prompt = prompt_ids(fmt, tokenizer, row[text_column], max_text_tokens)
        completion = tokens.completion(row[label_column])
        return {
            "input_ids": prompt + completion,
            "attention_mask": [1] * (len(prompt) + len(completion)),
            "labels": [-100] * len(prompt) + completion,
            "gold": row[label_column],
        }

    keep = {text_column}
    drop = [c for c in dataset.column_names if c not in keep]
    return dataset.map(encode, remove_columns=drop, num_proc=num_proc, desc="prompts and completions")
