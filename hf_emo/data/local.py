"""``load_local``: a user's own CSV / TSV / JSON / JSONL files with any label space, no code changes."""

from __future__ import annotations

import math
from pathlib import Path

import datasets

from .build import rows_to_dataset
from .errors import DataError
from .spec import PROBLEM_TYPES, TaskSpec


def _read_table(path: str) -> tuple[list[dict], list[str]]:
    """Rows and column names of a CSV / TSV / JSON / JSONL file, read with pandas (keeps multi-line quoted fields)."""
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"data file {path} does not exist")
    suffix = p.suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        df = pd.read_csv(p, sep="\t" if suffix in {".tsv", ".txt"} else ",", keep_default_na=False,
                         na_values=["", "nan", "NaN"], dtype=object)
    elif suffix == ".jsonl":
        df = pd.read_json(p, lines=True, dtype=False)
    elif suffix == ".json":
        try:
            df = pd.read_json(p, dtype=False)
        except ValueError:
            df = pd.read_json(p, lines=True, dtype=False)
    else:
        raise DataError(f"unsupported file type {suffix!r}; use .csv, .tsv, .json or .jsonl", file=path)
    return df.to_dict("records"), [str(c) for c in df.columns]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def load_local(
    data_files: dict[str, str] | str,
    *,
    text_column: str,
    label_columns: str | list[str],
    problem_type: str,
    label_names: list[str] | None = None,
    label_sep: str | None = None,
    task_name: str = "custom",
    language: str = "und",
) -> datasets.DatasetDict:
    """Load a user's own files into the hf_emo format (``text``, ``labels``, ``task``).

    ``label_columns`` is one column (a label name, or ``label_sep``-joined names for multi-label, or a
    number for regression) or a list of columns (one 0/1 column per label for multi-label, one numeric
    column per dimension for regression; the column names are then the label names). Label names are
    inferred in sorted order when not given. The resulting ``TaskSpec`` is attached as ``ds.task_spec``.
    """
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem_type {problem_type!r} not in {PROBLEM_TYPES}")
    files = {"train": data_files} if isinstance(data_files, str) else dict(data_files)
    if not files:
        raise ValueError("data_files is empty")
    multi_col = isinstance(label_columns, (list, tuple))
    if multi_col and problem_type == "single_label":
        raise ValueError("a single-label task takes one label column, not a list")
    if not multi_col and problem_type == "regression" and label_names and len(label_names) != 1:
        raise ValueError("a single regression column gives one dimension; pass a list of columns for several")

    tables = {}
    for split, path in files.items():
        rows, cols = _read_table(path)
        needed = [text_column, *(label_columns if multi_col else [label_columns])]
        missing = [c for c in needed if c not in cols]
        if missing:
            raise DataError(f"missing column(s) {missing}; the file has {cols}", file=path)
        tables[split] = rows

    if multi_col:
        names = list(label_names) if label_names else list(label_columns)
        if len(names) != len(label_columns):
            raise ValueError(f"{len(label_names)} label_names for {len(label_columns)} label columns")
    elif label_names:
        names = list(label_names)
    elif problem_type == "regression":
        names = [label_columns]
    else:
        found: set[str] = set()
        for split, rows in tables.items():
            for i, r in enumerate(rows, start=2):
                v = r[label_columns]
                if _missing(v):
                    raise DataError("missing label value", file=files[split], row=i, column=label_columns)
                parts = str(v).split(label_sep) if (label_sep and problem_type == "multi_label") else [str(v)]
                found.update(p.strip() for p in parts if p.strip())
        names = sorted(found)
    spec = TaskSpec(task_name, problem_type, tuple(names), language, metric={
        "multi_label": "f1_micro", "single_label": "f1_macro", "regression": "pearson_mean"}[problem_type],
        split_sizes={s: len(r) for s, r in tables.items()}, split_note="user files: " + ", ".join(
            f"{s}={p}" for s, p in files.items()))

    out = {}
    for split, rows in tables.items():
        prepared = []
        for i, r in enumerate(rows, start=2 if Path(files[split]).suffix.lower() in {".csv", ".tsv", ".txt"} else 1):
            if multi_col:
                lab = [r[c] for c in label_columns]
                for c, v in zip(label_columns, lab):
                    if _missing(v) or (isinstance(v, str) and not v.strip()):
                        raise DataError("missing or NaN label value", file=files[split], row=i, column=c)
                try:
                    lab = [float(v) for v in lab]
                except (TypeError, ValueError):
                    raise DataError(f"non-numeric label value in {lab}", file=files[split], row=i,
                                    column=str(label_columns)) from None
            else:
                lab = r[label_columns]
                if isinstance(lab, str) and problem_type == "single_label" and lab.strip().lstrip("-").isdigit() \
                        and lab.strip() not in names:
                    lab = int(lab)
                if problem_type == "regression" and not _missing(lab):
                    lab = [lab]
            prepared.append({"text": r[text_column], "labels": lab, "_row": i, "_text_column": text_column,
                             "_label_column": label_columns if not multi_col else None})
        out[split] = rows_to_dataset(prepared, spec, file=files[split], label_sep=label_sep)
    dd = datasets.DatasetDict(out)
    dd.task_spec = spec
    return dd
