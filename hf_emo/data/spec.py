"""``TaskSpec``: everything hf_emo needs to know about one labelled text task."""

from __future__ import annotations

from dataclasses import dataclass, field

PROBLEM_TYPES = ("multi_label", "single_label", "regression")

# problem type -> transformers' ``config.problem_type``
HF_PROBLEM_TYPE = {
    "multi_label": "multi_label_classification",
    "single_label": "single_label_classification",
    "regression": "regression",
}


def problem_type_name(value: str | None) -> str | None:
    """hf_emo's name of a problem type, given in hf_emo's words (``multi_label``, ``single_label``, ``regression``)
    or in transformers' (``multi_label_classification``, ``single_label_classification``, ``regression``);
    ``None`` stays ``None``. Anything else is refused, naming both vocabularies."""
    if value is None:
        return None
    hf = {v: k for k, v in HF_PROBLEM_TYPE.items()}
    name = value if value in PROBLEM_TYPES else hf.get(value)
    if name is None:
        raise ValueError(f"problem_type must be one of {PROBLEM_TYPES} (or transformers' {tuple(hf)}), got {value!r}")
    return name


@dataclass(frozen=True)
class TaskSpec:
    """A task: its label space, language, how its text is built, its default metric and its splits.

    ``split_sizes`` are the row counts ``load_task`` produces (carved splits included); they are part of
    the spec so that reports and tests can state and check them.
    """

    name: str
    problem_type: str
    label_names: tuple[str, ...]
    language: str
    text_fields: tuple[str, ...] = ("text",)
    text_sep: str = "\n"
    metric: str = "f1_micro"
    split_sizes: dict[str, int] = field(default_factory=dict)
    split_note: str = ""
    hub_id: str | None = None
    hub_config: str | None = None
    description: str = ""
    citation: str = ""

    def __post_init__(self) -> None:
        if self.problem_type not in PROBLEM_TYPES:
            raise ValueError(f"task {self.name!r}: problem_type {self.problem_type!r} not in {PROBLEM_TYPES}")
        if not self.label_names:
            raise ValueError(f"task {self.name!r}: label_names is empty")
        if len(set(self.label_names)) != len(self.label_names):
            raise ValueError(f"task {self.name!r}: duplicate label names in {list(self.label_names)}")

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    @property
    def hf_problem_type(self) -> str:
        return HF_PROBLEM_TYPE[self.problem_type]

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.label_names))

    @property
    def label2id(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.label_names)}

    def join_text(self, row: dict) -> str:
        """Join the spec's text fields of a raw row (empty parts are skipped)."""
        parts = [str(row.get(f) or "").strip() for f in self.text_fields]
        return self.text_sep.join(p for p in parts if p)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "problem_type": self.problem_type,
            "label_names": list(self.label_names),
            "language": self.language,
            "text_fields": list(self.text_fields),
            "text_sep": self.text_sep,
            "metric": self.metric,
            "split_sizes": dict(self.split_sizes),
            "split_note": self.split_note,
            "hub_id": self.hub_id,
            "hub_config": self.hub_config,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TaskSpec":
        keys = {f for f in cls.__dataclass_fields__}
        d = {k: v for k, v in d.items() if k in keys}
        for k in ("label_names", "text_fields"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)
