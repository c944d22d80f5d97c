"""Readers for the local copies of the registered data sets (formats: ``../shared/data/README.md``).

Each reader takes the data set's folder and returns ``{split: [row, ...]}`` where a row is
``{"text", "labels", "_row", **extra}`` in the raw label form ``rows_to_dataset`` accepts. Splits the
upstream data lacks are carved in ``registry.py``, not here.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from .errors import DataError


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"expected data file {path} is missing")
    return path


def _csv_rows(path: Path, required: list[str], **kw) -> list[dict]:
    with open(_need(path), newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, **kw)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"missing column(s) {missing}; found {reader.fieldnames}", file=str(path))
        return list(reader)


def read_redv2(root: Path) -> dict[str, list[dict]]:
    """REDv2: JSON lists; gold = ``agreed_labels`` (7 flags, order Sadness..Joy); keeps ``procentual_labels``."""
    out = {}
    for split, fname in (("train", "train.json"), ("validation", "valid.json"), ("test", "test.json")):
        path = _need(root / fname)
        data = json.loads(path.read_text(encoding="utf-8"))
        out[split] = [
            {"text": r.get("text"), "labels": r["agreed_labels"], "_row": i, "soft_labels": r.get("procentual_labels")}
            for i, r in enumerate(data, start=1)
        ]
    return out


def read_redv1(root: Path) -> dict[str, list[dict]]:
    """REDv1: CSV with multi-line quoted fields; ``Tweet`` and ``Emotion`` columns."""
    out = {}
    for split, fname in (("train", "train.csv"), ("validation", "val.csv"), ("test", "test.csv")):
        rows = _csv_rows(root / fname, ["Tweet", "Emotion"])
        out[split] = [
            {
                "text": r["Tweet"],
                "labels": r["Emotion"],
                "_row": i + 1,
                "_text_column": "Tweet",
                "_label_column": "Emotion",
            }
            for i, r in enumerate(rows, start=1)
        ]
    return out


def read_laroseda(root: Path) -> dict[str, list[dict]]:
    """LaRoSeDa: ``{"reviews": [...]}``; text = title + content; stars 1-2 negative, 4-5 positive."""
    out = {}
    for split, fname in (("train", "laroseda_train.json"), ("test", "laroseda_test.json")):
        path = _need(root / "data_splitted" / fname)
        rows = []
        for i, r in enumerate(json.loads(path.read_text(encoding="utf-8"))["reviews"], start=1):
            star = str(r.get("starRating", "")).strip()
            if star not in {"1", "2", "4", "5"}:
                raise DataError(
                    f"starRating {star!r} is neither negative (1-2) nor positive (4-5)",
                    file=str(path),
                    row=i,
                    column="starRating",
                )
            rows.append(
                {
                    "title": r.get("title"),
                    "content": r.get("content"),
                    "labels": "negative" if star in {"1", "2"} else "positive",
                    "stars": int(star),
                    "_row": i,
                }
            )
        out[split] = rows
    return out


def read_dair_emotion(root: Path) -> dict[str, list[dict]]:
    """dair-ai emotion: ``text;label`` lines, no header; blank lines skipped (``val.txt`` starts with one)."""
    out = {}
    for split, fname in (("train", "train.txt"), ("validation", "val.txt"), ("test", "test.txt")):
        path = _need(root / fname)
        rows = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            if ";" not in line:
                raise DataError("line has no ';' between text and label", file=str(path), row=i)
            text, label = line.rsplit(";", 1)
            rows.append({"text": text, "labels": label, "_row": i})
        out[split] = rows
    return out


def read_sst2(root: Path) -> dict[str, list[dict]]:
    """SST-2 (GLUE): ``train.tsv`` and ``dev.tsv`` (``sentence<TAB>label``); the labelled dev set is the test split."""
    out = {}
    for split, fname in (("train", "train.tsv"), ("test", "dev.tsv")):
        rows = _csv_rows(root / fname, ["sentence", "label"], delimiter="\t", quoting=csv.QUOTE_NONE)
        out[split] = [
            {
                "text": r["sentence"],
                "labels": int(r["label"]),
                "_row": i + 1,
                "_text_column": "sentence",
                "_label_column": "label",
            }
            for i, r in enumerate(rows, start=1)
        ]
    return out


def read_ag_news(root: Path) -> dict[str, list[dict]]:
    """AG News test split (7600 rows): CSV ``class(1-4), title, description`` with no header."""
    path = _need(root / "test.csv")
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, rec in enumerate(csv.reader(fh), start=1):
            if len(rec) != 3:
                raise DataError(f"expected 3 fields (class, title, description), got {len(rec)}", file=str(path), row=i)
            cls = int(rec[0])
            if not 1 <= cls <= 4:
                raise DataError(f"class {cls} outside 1..4", file=str(path), row=i, column="class")
            # The Zhang et al. files escape newlines as a backslash.
            rows.append({"title": rec[1], "description": rec[2].replace("\\", " "), "labels": cls - 1, "_row": i})
    return {"all": rows}


SEMEVAL_LABELS = (
    "anger",
    "anticipation",
    "disgust",
    "fear",
    "joy",
    "love",
    "optimism",
    "pessimism",
    "sadness",
    "surprise",
    "trust",
)


def read_semeval2018_ec(root: Path) -> dict[str, list[dict]]:
    """SemEval-2018 E-c English: TSV with ``ID``, ``Tweet`` and 11 binary columns; the labelled dev set is the
    test split."""
    out = {}
    for split, fname in (("train", "2018-E-c-En-train.txt"), ("test", "2018-E-c-En-dev.txt")):
        rows = _csv_rows(root / fname, ["ID", "Tweet", *SEMEVAL_LABELS], delimiter="\t", quoting=csv.QUOTE_NONE)
        out[split] = [
            {
                "text": r["Tweet"],
                "labels": [int(r[c]) for c in SEMEVAL_LABELS],
                "id": r["ID"],
                "_row": i + 1,
                "_text_column": "Tweet",
            }
            for i, r in enumerate(rows, start=1)
        ]
    return out


def read_emobank(root: Path) -> dict[str, list[dict]]:
    """EmoBank: ``emobank.csv`` with ``id, split, V, A, D, text``; splits train / dev / test."""
    path = root / "emobank.csv"
    rows = _csv_rows(path, ["id", "split", "V", "A", "D", "text"])
    out: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    names = {"train": "train", "dev": "validation", "test": "test"}
    for i, r in enumerate(rows, start=1):
        if r["split"] not in names:
            raise DataError(f"unknown split {r['split']!r}", file=str(path), row=i + 1, column="split")
        out[names[r["split"]]].append(
            {"text": r["text"], "labels": [r["V"], r["A"], r["D"]], "id": r["id"], "_row": i + 1}
        )
    return out


XED_LABELS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")


def read_xed_en_ro(root: Path) -> dict[str, list[dict]]:
    """XED en-ro parallel TSV: Romanian ``text`` + English ``en_text``, labels 1-8, split later by ``movie_id``."""
    path = root / "xed_en_ro_parallel.tsv"
    cols = ["movie_id", "en_text", "ro_text", "labels", "pivot_lang", "alignment", "en_text_source", "pair_id"]
    rows = _csv_rows(path, cols, delimiter="\t")
    out = []
    for i, r in enumerate(rows, start=1):
        try:
            ids = [int(x) for x in r["labels"].split(",") if x.strip()]
        except ValueError:
            raise DataError(
                f"labels {r['labels']!r} are not comma-separated ids 1-8", file=str(path), row=i + 1, column="labels"
            ) from None
        bad = [x for x in ids if not 1 <= x <= len(XED_LABELS)]
        if bad:
            raise DataError(f"label id(s) {bad} outside 1..8", file=str(path), row=i + 1, column="labels")
        out.append(
            {
                "text": r["ro_text"],
                "en_text": r["en_text"],
                "labels": [XED_LABELS[x - 1] for x in ids],
                "movie_id": r["movie_id"],
                "pivot_lang": r["pivot_lang"],
                "alignment": r["alignment"],
                "en_text_source": r["en_text_source"],
                "pair_id": r["pair_id"],
                "_row": i + 1,
                "_text_column": "ro_text",
            }
        )
    return {"all": out}


def alnum_key(text: str) -> str:
    """Lower-cased letters and digits only: the key that matches an XED line across tokenisation and punctuation."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def detokenize_xed(text: str) -> str:
    """Undo XED's English tokenisation (``word .`` -> ``word.``, ``do n't`` -> ``don't``) so the text reads like the
    parallel set's raw subtitles; the NER masks (``[PERSON]``) stay."""
    text = re.sub(r" ([.,!?;:%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text, flags=re.IGNORECASE)
    return text.strip()


def read_xed_en(root: Path) -> dict[str, list[dict]]:
    """XED English (``raw/en-annotated.tsv``, ``text<TAB>ids``) minus every line of the en-ro parallel set.

    Wang et al.'s teacher must not have seen the parallel lines' labels (about 81% of them are in the English set):
    a line is dropped when its letters-and-digits key equals the key of any parallel English line. The text is
    detokenised (:func:`detokenize_xed`). Splits are carved later (no official split).
    """
    path = _need(root / "raw" / "en-annotated.tsv")
    parallel = {
        alnum_key(r["en_text"]) for r in _csv_rows(root / "xed_en_ro_parallel.tsv", ["en_text"], delimiter="\t")
    }
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for i, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            text, sep, ids = line.rpartition("\t")
            if not sep:
                raise DataError("expected `text<TAB>label ids`", file=str(path), row=i)
            try:
                labels = [int(x) for x in ids.split(",") if x.strip()]
            except ValueError:
                raise DataError(
                    f"labels {ids!r} are not comma-separated ids 1-8", file=str(path), row=i, column="labels"
                ) from None
            bad = [x for x in labels if not 1 <= x <= len(XED_LABELS)]
            if bad:
                raise DataError(f"label id(s) {bad} outside 1..8", file=str(path), row=i, column="labels")
            if alnum_key(text) in parallel:
                continue
            out.append(
                {"text": detokenize_xed(text), "labels": [XED_LABELS[x - 1] for x in sorted(set(labels))], "_row": i}
            )
    return {"all": out}


def read_xed_language(root: Path) -> dict[str, list[dict]]:
    """Language identification pairs from XED en-ro (Matei Fig. 2's discriminator): every parallel row gives
    its English line (label ``en``) and its Romanian line (label ``ro``); distinct (text, language) only."""
    rows = read_xed_en_ro(root)["all"]
    out, seen = [], set()
    for r in rows:
        for text, lang in ((r["en_text"], "en"), (r["text"], "ro")):
            key = (text, lang)
            if key in seen or not text.strip():
                continue
            seen.add(key)
            out.append({"text": text, "labels": lang, "movie_id": r["movie_id"], "_row": r["_row"]})
    return {"all": out}
