"""The registry of tasks (``TASKS``) and ``load_task``.

Local copies are read from ``data_dir`` (``HF_EMO_DATA_DIR``, else ``../shared/data`` when it exists).
Without a local copy, a task with a known Hub id is loaded from the Hub. Splits the upstream data lacks
are carved with a fixed seed; the resulting sizes are recorded in each ``TaskSpec.split_sizes``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import datasets
import numpy as np

from . import readers
from .build import rows_to_dataset
from .spec import TaskSpec

SEED = 42

_RED_CITE = (
    "@inproceedings{ciobotaru-etal-2022-red,\n  title={{RED} v2: Enhancing {RED} Dataset for Multi-Label "
    "Emotion Detection},\n  author={Ciobotaru, Alexandra and Constantinescu, Mihai Vlad and Dinu, Liviu P. "
    "and Dumitrescu, Stefan},\n  booktitle={Proceedings of LREC 2022},\n  year={2022}\n}"
)


@dataclass(frozen=True)
class HubSource:
    """How to read the task from a Hub data set when there is no local copy."""

    id: str
    config: str | None
    splits: dict[str, str]  # our split name -> Hub split name
    to_row: Callable[[dict], dict]


@dataclass(frozen=True)
class Carve:
    """Splits to carve with ``SEED``: sizes (int rows or float fraction) taken from ``source`` in order."""

    source: str
    sizes: tuple[tuple[str, int | float], ...]
    stratify: bool = True
    group_column: str | None = None


@dataclass(frozen=True)
class _Entry:
    spec: TaskSpec
    folder: str
    reader: Callable[[Path], dict[str, list[dict]]]
    carve: Carve | None = None
    extra: dict[str, datasets.Value] | None = None
    hub: HubSource | None = None


def _entries() -> list[_Entry]:
    V = datasets.Value
    return [
        _Entry(
            TaskSpec(
                "redv2",
                "multi_label",
                ("Sadness", "Surprise", "Fear", "Anger", "Neutral", "Trust", "Joy"),
                "ro",
                metric="f1_micro",
                split_sizes={"train": 4088, "validation": 543, "test": 818},
                split_note="official train / valid / test",
                citation=_RED_CITE,
                description="Romanian Emotions Dataset v2: multi-label emotions in Romanian tweets (agreed labels).",
            ),
            "redv2",
            readers.read_redv2,
            extra={"soft_labels": datasets.Sequence(V("float32"), length=7)},
        ),
        _Entry(
            TaskSpec(
                "redv1",
                "single_label",
                ("Bucurie", "Furie", "Neutru", "Frica", "Tristete"),
                "ro",
                metric="f1_macro",
                split_sizes={"train": 3237, "validation": 405, "test": 405},
                split_note="official train / val / test",
                citation=_RED_CITE,
                description="Romanian Emotions Dataset v1: single-label emotions in Romanian tweets.",
            ),
            "redv1",
            readers.read_redv1,
        ),
        _Entry(
            TaskSpec(
                "laroseda",
                "single_label",
                ("negative", "positive"),
                "ro",
                text_fields=("title", "content"),
                metric="f1_macro",
                split_sizes={"train": 11000, "validation": 1000, "test": 3000},
                split_note="official test; validation = 1000 reviews carved out of train (stratified, seed 42)",
                hub_id="universityofbucharest/laroseda",
                description="Large Romanian Sentiment Data Set: product reviews, stars 1-2 negative, 4-5 positive.",
            ),
            "laroseda",
            readers.read_laroseda,
            carve=Carve("train", (("validation", 1000),)),
            extra={"stars": V("int32")},
            hub=HubSource(
                "universityofbucharest/laroseda",
                None,
                {"train": "train", "test": "test"},
                lambda r: {
                    "title": r["title"],
                    "content": r["content"],
                    "labels": "negative" if int(r["starRating"]) <= 2 else "positive",
                    "stars": int(r["starRating"]),
                },
            ),
        ),
        _Entry(
            TaskSpec(
                "dair_emotion",
                "single_label",
                ("sadness", "joy", "love", "anger", "fear", "surprise"),
                "en",
                metric="accuracy",
                split_sizes={"train": 16000, "validation": 2000, "test": 2000},
                split_note="official split config",
                hub_id="dair-ai/emotion",
                hub_config="split",
                description="dair-ai emotion (CARER): single-label emotions in English tweets.",
            ),
            "dair-ai-emotion",
            readers.read_dair_emotion,
            hub=HubSource(
                "dair-ai/emotion",
                "split",
                {"train": "train", "validation": "validation", "test": "test"},
                lambda r: {"text": r["text"], "labels": int(r["label"])},
            ),
        ),
        _Entry(
            TaskSpec(
                "sst2",
                "single_label",
                ("negative", "positive"),
                "en",
                text_fields=("text",),
                metric="accuracy",
                split_sizes={"train": 66349, "validation": 1000, "test": 872},
                split_note="test = GLUE dev (the GLUE test set is unlabelled); validation = 1000 sentences carved out "
                "of train (stratified, seed 42)",
                hub_id="stanfordnlp/sst2",
                description="Stanford Sentiment Treebank, binary (GLUE SST-2).",
            ),
            "sst2",
            readers.read_sst2,
            carve=Carve("train", (("validation", 1000),)),
            hub=HubSource(
                "stanfordnlp/sst2",
                None,
                {"train": "train", "test": "validation"},
                lambda r: {"text": r["sentence"], "labels": int(r["label"])},
            ),
        ),
        _Entry(
            TaskSpec(
                "ag_news",
                "single_label",
                ("World", "Sports", "Business", "Sci/Tech"),
                "en",
                text_fields=("title", "description"),
                metric="f1_macro",
                split_sizes={"train": 6080, "validation": 760, "test": 760},
                split_note="only the 7600-row AG News test split is available here: re-split 80/10/10 "
                "(stratified, seed 42) into train / validation / test",
                hub_id="fancyzhx/ag_news",
                description="AG News topic classification (substitute for MOROCO, whose texts are unavailable).",
            ),
            "ag_news_test",
            readers.read_ag_news,
            carve=Carve("all", (("test", 760), ("validation", 760))),
            hub=HubSource(
                "fancyzhx/ag_news",
                None,
                {"all": "test"},
                lambda r: {"title": r["text"], "description": "", "labels": int(r["label"])},
            ),
        ),
        _Entry(
            TaskSpec(
                "semeval2018_ec",
                "multi_label",
                readers.SEMEVAL_LABELS,
                "en",
                metric="jaccard_samples",
                split_sizes={"train": 6154, "validation": 684, "test": 886},
                split_note="test = official dev (the test file has no gold labels); validation = 10% of train "
                "(seed 42)",
                hub_id="SemEvalWorkshop/sem_eval_2018_task_1",
                hub_config="subtask5.english",
                description="SemEval-2018 Task 1 E-c (English): multi-label emotions in tweets.",
            ),
            "semeval2018-ec-en",
            readers.read_semeval2018_ec,
            carve=Carve("train", (("validation", 0.1),), stratify=False),
            extra={"id": V("string")},
            hub=HubSource(
                "SemEvalWorkshop/sem_eval_2018_task_1",
                "subtask5.english",
                {"train": "train", "test": "validation"},
                lambda r: {"text": r["Tweet"], "labels": [int(r[c]) for c in readers.SEMEVAL_LABELS], "id": r["ID"]},
            ),
        ),
        _Entry(
            TaskSpec(
                "emobank",
                "regression",
                ("V", "A", "D"),
                "en",
                metric="pearson_mean",
                split_sizes={"train": 8062, "validation": 1000, "test": 1000},
                split_note="official train / dev / test",
                description="EmoBank: valence, arousal, dominance (1-5) of English sentences.",
            ),
            "emobank",
            readers.read_emobank,
            extra={"id": V("string")},
        ),
        _Entry(
            TaskSpec(
                "xed_en_ro",
                "multi_label",
                readers.XED_LABELS,
                "ro",
                metric="f1_micro",
                split_sizes={"train": 12492, "validation": 1696, "test": 2029},
                split_note="no official split: movies (movie_id) shuffled with seed 42, 10% of the movies to test, "
                "then 10% of the rest to validation; one English line never crosses splits",
                description="XED English-Romanian parallel subtitles; Romanian `text`, English `en_text`, "
                "labels projected from the English annotation.",
            ),
            "xed-en-ro",
            readers.read_xed_en_ro,
            carve=Carve("all", (("test", 0.1), ("validation", 0.1)), stratify=False, group_column="movie_id"),
            extra={
                k: V("string") for k in ("en_text", "movie_id", "pivot_lang", "alignment", "en_text_source", "pair_id")
            },
        ),
        _Entry(
            TaskSpec(
                "xed_en",
                "multi_label",
                readers.XED_LABELS,
                "en",
                metric="f1_micro",
                split_sizes={"train": 9146, "validation": 1017, "test": 1130},
                split_note="XED English (raw/en-annotated.tsv) minus every line of the en-ro parallel set (Wang et "
                "al. 2024's teacher must not see them); no official split: 10% test, then 10% of the rest to "
                "validation (seed 42)",
                description="XED English movie subtitles (detokenised, NER-masked), multi-label; the English teacher's "
                "and stage-1 student's training data for the en-ro consistency distillation.",
            ),
            "xed-en-ro",
            readers.read_xed_en,
            carve=Carve("all", (("test", 0.1), ("validation", 0.1)), stratify=False),
        ),
        _Entry(
            TaskSpec(
                "xed_language",
                "single_label",
                ("en", "ro"),
                "en+ro",
                metric="accuracy",
                split_sizes={"train": 14426, "validation": 1248, "test": 1679},
                split_note="each XED en-ro parallel row gives its English and its Romanian line (distinct texts); "
                "movies (movie_id) shuffled with seed 42: 10% to test, then 10% of the rest to validation",
                description="Language identification, English vs Romanian subtitle lines of XED en-ro: the language "
                "discriminator of Matei's multi-task cross-lingual setting (Fig. 2).",
            ),
            "xed-en-ro",
            readers.read_xed_language,
            carve=Carve("all", (("test", 0.1), ("validation", 0.1)), stratify=False, group_column="movie_id"),
            extra={"movie_id": V("string")},
        ),
    ]


_ENTRIES: dict[str, _Entry] = {e.spec.name: e for e in _entries()}
TASKS: dict[str, TaskSpec] = {name: e.spec for name, e in _ENTRIES.items()}


def default_data_dir() -> Path | None:
    """``HF_EMO_DATA_DIR`` if set; else the first ``shared/data`` found beside the working directory or the package."""
    env = os.environ.get("HF_EMO_DATA_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *Path.cwd().parents[:2], *here.parents[1:4]):
        cand = base.parent / "shared" / "data" if base.name != "shared" else base / "data"
        if cand.is_dir():
            return cand
    return None


def _carve(rows: list[dict], c: Carve, spec: TaskSpec) -> dict[str, list[dict]]:
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    out: dict[str, list[dict]] = {}
    rest = rows
    for split, size in c.sizes:
        idx = np.arange(len(rest))
        if c.group_column:
            groups = np.array([r[c.group_column] for r in rest])
            gss = GroupShuffleSplit(n_splits=1, test_size=size, random_state=SEED)
            keep, take = next(gss.split(idx, groups=groups))
        else:
            strat = None
            if c.stratify and spec.problem_type == "single_label":
                strat = [str(r["labels"]) for r in rest]
            keep, take = train_test_split(idx, test_size=size, random_state=SEED, stratify=strat)
        out[split] = [rest[i] for i in sorted(take)]
        rest = [rest[i] for i in sorted(keep)]
    out["train"] = rest
    return out


def _from_hub(entry: _Entry) -> dict[str, list[dict]]:
    hub = entry.hub
    out = {}
    for ours, theirs in hub.splits.items():
        ds = datasets.load_dataset(hub.id, hub.config, split=theirs)
        out[ours] = [{**hub.to_row(r), "_row": i} for i, r in enumerate(ds, start=1)]
    return out


def task_source(name: str, data_dir: str | os.PathLike | None = None) -> str:
    """Where ``load_task(name)`` reads from: the local folder, or ``hub:<id>``."""
    entry = _entry(name)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if root is not None and (root / entry.folder).is_dir():
        return str(root / entry.folder)
    if entry.hub is not None:
        return f"hub:{entry.hub.id}"
    raise FileNotFoundError(
        f"task {name!r}: no local copy at {root / entry.folder if root else '(no data dir)'} and no Hub id is known; "
        f"set HF_EMO_DATA_DIR to the folder that holds {entry.folder}/"
    )


def _entry(name: str) -> _Entry:
    if name not in _ENTRIES:
        raise KeyError(f"unknown task {name!r}; registered tasks: {sorted(_ENTRIES)}")
    return _ENTRIES[name]


def load_task(name: str, data_dir: str | os.PathLike | None = None) -> datasets.DatasetDict:
    """Load a registered task as a ``DatasetDict`` with ``train`` / ``validation`` / ``test`` splits.

    Columns: ``text`` (the spec's text fields joined), ``labels`` (int for single-label, float vector
    otherwise), ``task``, plus the task's extra columns (e.g. ``en_text`` for XED).
    """
    entry = _entry(name)
    spec = entry.spec
    source = task_source(name, data_dir)
    raw = _from_hub(entry) if source.startswith("hub:") else entry.reader(Path(source))
    c = entry.carve
    if c is not None and c.source in raw and (c.source == "all" or "validation" not in raw):
        carved = _carve(raw.pop(c.source), c, spec)
        raw.update(carved)
    if spec.text_fields != ("text",):
        for rows in raw.values():
            for r in rows:
                r["text"] = spec.join_text(r)
    return datasets.DatasetDict(
        {
            split: rows_to_dataset(raw[split], spec, file=f"{source} [{split}]", extra=entry.extra)
            for split in ("train", "validation", "test")
        }
    )
