"""Prompt templates and label verbalisers of the generative baselines: data, not code.

A template is a string with a ``{text}`` slot (and optionally ``{labels}``, the task's label names joined by ", ").
Single-label completions are one verbaliser; multi-label completions list every label in the task's order with
its answer, ``joy: yes, anger: no, ...``, so that one pass scores each label as a yes/no question (see
:mod:`hf_emo.generative.scoring`) and free generation can be parsed strictly.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from ..data.spec import TaskSpec
from ..models.modeling_hf_emo import ANSWERS

# Wang et al. 2024 (Table 3) fine-tune BLOOMZ with this Alpaca-style prompt, verbatim (their task's labels are
# emotions although the sentence says "sentiment"; the completion is an emotion label name).
WANG2024_SINGLE_LABEL = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\nPlease use one word to describe the sentiment expressed in the given tweet.\n"
    "Tweet: {text}\n\n### Response:\n"
)
# The same prompt put as one yes/no question per label, for multi-label tasks (hf_emo's adaptation).
WANG2024_MULTI_LABEL = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\nFor each emotion in the list ({labels}), answer yes or no: is it expressed in the given "
    "tweet?\nTweet: {text}\n\n### Response:\n"
)
TEMPLATES = {"wang2024": WANG2024_SINGLE_LABEL, "wang2024_multi_label": WANG2024_MULTI_LABEL}


def template_slots(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@dataclass(frozen=True)
class PromptFormat:
    """How one task is put to a decoder: the prompt template, the label verbalisers (default: the label names) and,
    for multi-label tasks, the yes/no answers. ``template`` may be a name in :data:`TEMPLATES`."""

    spec: TaskSpec
    template: str = "auto"
    verbalisers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.spec.problem_type == "regression":
            raise ValueError(
                f"task {self.spec.name!r} is a regression task: the generative baselines classify; "
                "use an encoder (EmotionTrainer) for regression"
            )
        template = self.template
        if template == "auto":
            template = "wang2024_multi_label" if self.spec.problem_type == "multi_label" else "wang2024"
        template = TEMPLATES.get(template, template)
        slots = template_slots(template)
        if "text" not in slots:
            raise ValueError(f"prompt template has no {{text}} slot: {template[:80]!r}")
        unknown = slots - {"text", "labels"}
        if unknown:
            raise ValueError(
                f"prompt template has unknown slot(s) {sorted(unknown)}; the slots are {{text}} and {{labels}}"
            )
        object.__setattr__(self, "template", template)
        names = self.verbalisers or self.spec.label_names
        if len(names) != self.spec.num_labels:
            raise ValueError(
                f"{len(names)} verbalisers for the {self.spec.num_labels} labels of task "
                f"{self.spec.name!r}: {list(self.spec.label_names)}"
            )
        empty = [i for i, v in enumerate(names) if not str(v).strip()]
        if empty:
            raise ValueError(f"verbaliser(s) of label(s) {[self.spec.label_names[i] for i in empty]} are empty")
        if len(set(names)) != len(names):
            raise ValueError(f"verbalisers must differ: {list(names)}")
        object.__setattr__(self, "verbalisers", tuple(str(v) for v in names))

    @property
    def multi_label(self) -> bool:
        return self.spec.problem_type == "multi_label"

    def prompt(self, text: str) -> str:
        return self.template.format(text=text, labels=", ".join(self.verbalisers))

    def completion(self, label) -> str:
        """The target text (without EOS) for a gold label: a class id, or a 0/1 vector for multi-label."""
        if self.multi_label:
            return ", ".join(
                f"{v}: {ANSWERS[0] if float(y) >= 0.5 else ANSWERS[1]}" for v, y in zip(self.verbalisers, label)
            )
        return self.verbalisers[int(label)]

    def parse(self, generated: str) -> list[float] | int | None:
        """A generated completion read strictly: the class id, the 0/1 vector, or ``None`` when it is not one."""
        text = generated.strip()
        if not self.multi_label:
            return self.verbalisers.index(text) if text in self.verbalisers else None
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != len(self.verbalisers):
            return None
        out = []
        for v, part in zip(self.verbalisers, parts):
            name, sep, answer = part.rpartition(":")
            if not sep or name.strip() != v or answer.strip() not in ANSWERS:
                return None
            out.append(1.0 if answer.strip() == ANSWERS[0] else 0.0)
        return out

    def to_dict(self) -> dict:
        return {"template": self.template, "verbalisers": list(self.verbalisers), "answers": list(ANSWERS)}
