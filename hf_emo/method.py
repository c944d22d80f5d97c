"""``MethodDescription``: what a trainer says about the method it ran, for cards, reports and ``metrics.json``.

Each Trainer builds its own (``trainer.method_description()``, from its class's ``describe(args, **facts)``); the
jobs store it in ``metrics.json`` under ``run.method`` and the card reads it from there, so no module ever guesses
the method from which metric keys a run happens to have.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .citations import BIBTEX

__all__ = ["MethodDescription"]


@dataclass(frozen=True)
class MethodDescription:
    """``trainer``: the class name; ``name``: the method in a few words; ``summary``: the method sentence(s) of the
    card; ``settings``: the settings that define the run; ``tags``: Hub tags; ``citations``: the method's papers first,
    each a key of :data:`hf_emo.citations.BIBTEX` or a BibTeX entry itself (a new method can carry its paper's)."""

    trainer: str
    name: str
    summary: str
    settings: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "citations", tuple(dict.fromkeys(self.citations)))  # each paper once
        unknown = [k for k in self.citations if k not in BIBTEX and not k.lstrip().startswith("@")]
        if unknown:
            raise ValueError(f"{self.trainer}: citation key(s) {unknown} are not in hf_emo.citations.BIBTEX")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tags"], out["citations"] = list(self.tags), list(self.citations)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "metrics.json") -> "MethodDescription":
        """Read ``run.method`` back; a run written before trainers described themselves (a bare class name) is
        refused with the file named, rather than carded as some other method."""
        if not isinstance(data, dict) or "trainer" not in data or "summary" not in data:
            raise ValueError(
                f"{where}: run.method is {data!r}, not a method description; the run was written by an "
                "older hf_emo: re-run it to get a card"
            )
        return cls(
            trainer=data["trainer"],
            name=data.get("name", data["trainer"]),
            summary=data["summary"],
            settings=dict(data.get("settings") or {}),
            tags=tuple(data.get("tags") or ()),
            citations=tuple(data.get("citations") or ()),
        )

    def bibtex(self, dataset_citations: tuple[str, ...] = ()) -> str:
        """The method's BibTeX entries, then the data sets' (duplicates once)."""
        entries = [BIBTEX.get(k, k.strip()) for k in self.citations]
        entries += [c.strip() for c in dataset_citations if c and c.strip().startswith("@")]
        return "\n\n".join(dict.fromkeys(entries))
