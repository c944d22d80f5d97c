"""A collator for pairs read by two tokenizers: the student's columns and the teacher's ``teacher_*`` columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

TEACHER_PREFIX = "teacher_"
TEACHER_INPUTS = ("teacher_input_ids", "teacher_attention_mask", "teacher_token_type_ids")


@dataclass
class PairedDataCollator:
    """Pad the student's ``input_ids`` / ``attention_mask`` with ``tokenizer`` and the teacher's
    ``teacher_input_ids`` / ``teacher_attention_mask`` (another language, another vocabulary) with
    ``teacher_tokenizer``; every other column (labels, weight, teacher_logits, ...) is batched as usual."""

    tokenizer: PreTrainedTokenizerBase
    teacher_tokenizer: PreTrainedTokenizerBase | None = None
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        teacher = [{k[len(TEACHER_PREFIX) :]: f[k] for k in TEACHER_INPUTS if k in f} for f in features]
        student = [{k: v for k, v in f.items() if k not in TEACHER_INPUTS} for f in features]
        batch = dict(DataCollatorWithPadding(self.tokenizer, pad_to_multiple_of=self.pad_to_multiple_of)(student))
        if any(teacher):
            if not all(teacher):
                raise ValueError("some examples of the batch have teacher inputs and some do not")
            if self.teacher_tokenizer is None:
                raise ValueError("the batch has teacher_input_ids: pass teacher_tokenizer= to pad them")
            padded = self.teacher_tokenizer.pad(
                teacher, pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt"
            )
            batch.update({TEACHER_PREFIX + k: v for k, v in padded.items()})
        return batch


def tokenize_teacher_side(
    dataset, teacher_tokenizer, text_column: str, *, prefix: str = "", max_length: int | None = None
):
    """Add ``teacher_input_ids`` / ``teacher_attention_mask``: ``text_column`` (the translation) tokenised for the
    teacher, with its text prefix."""
    if text_column not in dataset.column_names:
        raise ValueError(f"dataset has no column {text_column!r} (columns: {dataset.column_names})")

    def enc(batch):
        out = teacher_tokenizer(
            [prefix + t for t in batch[text_column]], truncation=max_length is not None, max_length=max_length
        )
        return {TEACHER_PREFIX + k: v for k, v in out.items() if TEACHER_PREFIX + k in TEACHER_INPUTS}

    return dataset.map(enc, batched=True, desc=f"teacher tokens: {text_column}")
