"""``load_local``: a user's own CSV / TSV / JSON / JSONL files with any label space, no code changes."""

from __future__ import annotations

import math
from pathlib import Path

import datasets

from .build import rows_to_dataset
from .errors import DataError
from .spec import TaskSpec, problem_type_name


def _read_text(p: Path, path: str) -> str:
    raw = p.read_bytes()
    if not raw.strip():
        raise DataError("the file is empty", file=path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); re-save the file as UTF-8",
            file=path,
            row=line,
        ) from None


def _read_delimited(text: str, path: str, delimiter: str) -> tuple[list[dict], list[str]]:
    """CSV / TSV with the csv module: quoted fields may hold newlines; a row with more or fewer fields than the
    header (an unquoted comma in the text) and a repeated header row are errors naming the row."""
    import csv
    import io

    csv.field_size_limit(2**31 - 1)  # a long text is a text: the module's 128 KB default refused it
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as e:
        raise DataError(f"cannot parse the header ({e})", file=path, row=1) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise DataError(f"duplicate column names in the header {header}", file=path, row=1)
    rows, start = [], reader.line_num + 1
    try:
        for rec in reader:
            row = start
            start = reader.line_num + 1
            if not rec or all(not f.strip() for f in rec):
                continue
            if len(rec) != len(header):
                hint = (
                    " (is a text field with a comma left unquoted?)"
                    if len(rec) > len(header) and delimiter == ","
                    else ""
                )
                raise DataError(
                    f"{len(rec)} fields where the header has {len(header)} {header}{hint}", file=path, row=row
                )
            if [f.strip() for f in rec] == header:
                raise DataError("the header row is repeated as data", file=path, row=row)
            rows.append({h: (None if f == "" else f) for h, f in zip(header, rec)} | {"_line": row})
    except csv.Error as e:
        raise DataError(f"cannot parse the file ({e}); check the quoting", file=path, row=reader.line_num) from None
    return rows, header


def _read_table(path: str) -> tuple[list[dict], list[str]]:
    """Rows and column names of a CSV / TSV / JSON / JSONL file; every problem is a ``DataError`` naming the file."""
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise DataError("the file does not exist", file=path)
    if not p.is_file():
        raise DataError("not a file", file=path)
    suffix = p.suffix.lower()
    if suffix not in {".csv", ".tsv", ".txt", ".json", ".jsonl"}:
        raise DataError(f"unsupported file type {suffix!r}; use .csv, .tsv, .json or .jsonl", file=path)
    text = _read_text(p, path)
    if suffix in {".csv", ".tsv", ".txt"}:
        return _read_delimited(text, path, "\t" if suffix in {".tsv", ".txt"} else ",")
    import io

    try:
        if suffix == ".jsonl":
            df = pd.read_json(io.StringIO(text), lines=True, dtype=False)
        else:
            try:
                df = pd.read_json(io.StringIO(text), dtype=False)
            except ValueError:
                df = pd.read_json(io.StringIO(text), lines=True, dtype=False)
    except ValueError as e:
        raise DataError(f"not valid JSON{' lines' if suffix == '.jsonl' else ''} ({e})", file=path) from None
    return df.to_dict("records"), [str(c) for c in df.columns]


SEPARATOR_HINTS = ("|", ";", ",")
LIST_SEP = "\x1f"  # joins a JSON list of labels (the unit separator: in no label name)


def _join_label_lists(tables: dict, files: dict, column: str, problem_type: str, label_sep: str | None) -> str | None:
    """A JSON / JSONL label column may hold a list of label names per row (multi-label; ``[]`` is no label): each
    list becomes one ``label_sep``-joined value. Returns the separator to split on (``label_sep`` as given when no
    value is a list)."""
    listed = [(split, r) for split, rows in tables.items() for r in rows if isinstance(r.get(column), (list, tuple))]
    if not listed:
        return label_sep
    if problem_type != "multi_label":
        split, row = listed[0]
        raise DataError(
            f"the label is a list ({row[column]!r}): a {problem_type} task takes one label per row; for several use "
            "problem_type multi_label",
            file=files[split],
            row=row.get("_line", tables[split].index(row) + 1),
            column=column,
        )
    sep = label_sep or LIST_SEP
    for _, row in listed:
        row[column] = sep.join(str(x) for x in row[column])
    return sep


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
    problem_type = problem_type_name(problem_type)
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
    if not multi_col:
        label_sep = _join_label_lists(tables, files, label_columns, problem_type, label_sep)

    if multi_col:
        names = list(label_names) if label_names else list(label_columns)
        if len(names) != len(label_columns):
            raise ValueError(f"{len(label_names)} label_names for {len(label_columns)} label columns")
    elif label_names:
        names = list(label_names)
    elif problem_type == "regression":
        names = [label_columns]
    else:
        # label names come from the training split only (else the first split given): a label seen only in
        # validation or test is an error, not a new class
        infer_split = "train" if "train" in tables else next(iter(tables))
        found: set[str] = set()
        splits_any, other_sep = False, None  # does label_sep split any value; another separator seen instead
        for split, rows in sorted(tables.items(), key=lambda kv: kv[0] != infer_split):
            for i, r in enumerate(rows, start=2):
                row = r.get("_line", i)
                v = r[label_columns]
                if _missing(v):
                    raise DataError("missing label value", file=files[split], row=row, column=label_columns)
                text = str(v)
                if not label_sep:
                    seps = [c for c in SEPARATOR_HINTS if c in text]
                    if seps:
                        hint = (
                            f"pass label_sep={seps[0]!r} if it lists several labels"
                            if problem_type == "multi_label"
                            else f"a single-label task takes one label per row; for several use problem_type "
                            f"multi_label with label_sep={seps[0]!r}"
                        )
                        raise DataError(
                            f"label {text!r} contains {seps[0]!r} but no label_sep is set: {hint}",
                            file=files[split],
                            row=row,
                            column=label_columns,
                        )
                parts = text.split(label_sep) if (label_sep and problem_type == "multi_label") else [text]
                if label_sep and problem_type == "multi_label":
                    splits_any = splits_any or len(parts) > 1
                    other_sep = other_sep or next(
                        ((c, text) for c in SEPARATOR_HINTS if c != label_sep and c in text), None
                    )
                if split == infer_split:
                    found.update(p.strip() for p in parts if p.strip())
                else:
                    unknown = [p.strip() for p in parts if p.strip() and p.strip() not in found]
                    if unknown:
                        raise DataError(
                            f"label(s) {unknown} do not occur in the {infer_split} split "
                            f"({files[infer_split]}), whose labels are {sorted(found)}",
                            file=files[split],
                            row=row,
                            column=label_columns,
                        )
        if label_sep and problem_type == "multi_label" and not splits_any and other_sep:
            sep, example = other_sep
            raise DataError(
                f"label_sep {label_sep!r} splits no label value, but values such as {example!r} contain {sep!r}: "
                f"pass label_sep={sep!r} (else every combination of labels becomes a class of its own)",
                file=files[infer_split],
                column=label_columns,
            )
        names = sorted(found, key=_label_order)
    spec = TaskSpec(
        task_name,
        problem_type,
        tuple(names),
        language,
        metric={"multi_label": "f1_micro", "single_label": "f1_macro", "regression": "pearson_mean"}[problem_type],
        split_sizes={s: len(r) for s, r in tables.items()},
        split_note="user files: " + ", ".join(f"{s}={Path(p).name}" for s, p in files.items()),
    )

    out = {}
    for split, rows in tables.items():
        prepared = []
        for i, r in enumerate(rows, start=2 if Path(files[split]).suffix.lower() in {".csv", ".tsv", ".txt"} else 1):
            i = r.get("_line", i)
            if multi_col:
                lab = [r[c] for c in label_columns]
                for c, v in zip(label_columns, lab):
                    if _missing(v) or (isinstance(v, str) and not v.strip()):
                        raise DataError("missing or NaN label value", file=files[split], row=i, column=c)
                try:
                    lab = [float(v) for v in lab]
                except (TypeError, ValueError):
                    raise DataError(
                        f"non-numeric label value in {lab}", file=files[split], row=i, column=str(label_columns)
                    ) from None
            else:
                lab = r[label_columns]
                if (
                    isinstance(lab, str)
                    and problem_type == "single_label"
                    and lab.strip().lstrip("-").isdigit()
                    and lab.strip() not in names
                ):
                    lab = int(lab)
                if problem_type == "regression" and not _missing(lab):
                    lab = [lab]
            prepared.append(
                {
                    "text": r[text_column],
                    "labels": lab,
                    "_row": i,
                    "_text_column": text_column,
                    "_label_column": label_columns if not multi_col else None,
                }
            )
        out[split] = rows_to_dataset(prepared, spec, file=files[split], label_sep=label_sep)
    dd = datasets.DatasetDict(out)
    if problem_type == "single_label" and spec.num_labels < 2 and "train" in files:  # scoring one class is fine
        raise DataError(
            f"the training split holds one class ({list(spec.label_names)}): a classifier needs at least two; add "
            "rows of the other classes, or use problem_type multi_label for a yes/no label",
            file=files["train"],
            column=label_columns,
        )
    dd.task_spec = spec
    return dd


def _label_order(name: str) -> tuple:
    """Label names in numeric order when every name is a number ('2' before '10'), else in text order."""
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)
