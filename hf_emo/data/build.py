"""Validate raw rows against a ``TaskSpec`` and turn them into a ``datasets.Dataset``.

Every loader (registered tasks, the Hub fallback, a user's own files) goes through ``rows_to_dataset``,
so every data set gets the same checks and the same columns: ``text``, ``labels``, ``task``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import datasets

from .errors import DataError
from .spec import TaskSpec


def _is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def encode_label(value: Any, spec: TaskSpec, *, file: str, row: int, column: str, sep: str | None = None):
    """One raw label value -> the ``labels`` cell: int (single-label) or float vector (multi-label, regression).

    Accepted raw forms: a label name, an int id, a list of names, a 0/1 vector, a numeric vector, or a
    ``sep``-joined string of names.
    """

    def fail(problem: str):
        raise DataError(problem, file=file, row=row, column=column)

    if _is_nan(value) or (isinstance(value, str) and not value.strip() and spec.problem_type != "multi_label"):
        fail(f"missing label value ({value!r})")
    n = spec.num_labels
    if spec.problem_type == "single_label":
        if isinstance(value, str):
            name = value.strip()
            if name not in spec.label2id:
                fail(f"unknown label {name!r}; known labels: {list(spec.label_names)}")
            return spec.label2id[name]
        if isinstance(value, bool) or not float(value).is_integer():
            fail(f"label {value!r} is not a class id or name")
        idx = int(value)
        if not 0 <= idx < n:
            fail(f"label id {idx} outside 0..{n - 1} ({list(spec.label_names)})")
        return idx

    if spec.problem_type == "multi_label":
        if isinstance(value, str):
            names = [v.strip() for v in (value.split(sep) if sep else [value]) if v.strip()]
            value = names
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            unknown = [v for v in value if v not in spec.label2id]
            if unknown:
                fail(f"unknown label(s) {unknown}; known labels: {list(spec.label_names)}")
            vec = [0.0] * n
            for v in value:
                vec[spec.label2id[v]] = 1.0
            return vec
        vec = list(value)
        if len(vec) != n:
            fail(f"label vector has length {len(vec)}, expected {n} ({list(spec.label_names)})")
        out = []
        for v in vec:
            if _is_nan(v):
                fail(f"NaN in label vector {vec}")
            f = float(v)
            if f not in (0.0, 1.0):
                fail(f"multi-label vector must hold 0/1 flags, got {v!r} in {vec}")
            out.append(f)
        return out

    # regression
    vec = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(vec) != n:
        fail(f"target vector has length {len(vec)}, expected {n} ({list(spec.label_names)})")
    out = []
    for v in vec:
        try:
            f = float(v)
        except (TypeError, ValueError):
            fail(f"target {v!r} is not a number")
        if not math.isfinite(f):  # inf trains to all-NaN weights
            fail(f"non-finite target {v!r} in {vec}: every regression target must be a finite number")
        out.append(f)
    return out


def _features(spec: TaskSpec, extra: dict[str, datasets.Value] | None) -> datasets.Features:
    if spec.problem_type == "single_label":
        labels = datasets.ClassLabel(names=list(spec.label_names))
    else:
        labels = datasets.Sequence(datasets.Value("float32"), length=spec.num_labels)
    feats = {"text": datasets.Value("string"), "labels": labels, "task": datasets.Value("string")}
    feats.update(extra or {})
    return datasets.Features(feats)


def rows_to_dataset(
    rows: Iterable[dict],
    spec: TaskSpec,
    *,
    file: str,
    label_sep: str | None = None,
    extra: dict[str, datasets.Value] | None = None,
) -> datasets.Dataset:
    """Rows ``{"text", "labels", "_row"?, **extra}`` -> a Dataset with ``text``, ``labels``, ``task`` and ``extra``.

    ``_row`` is the row number a person would look up in ``file`` (defaults to the 1-based position).
    Raises ``DataError`` for an empty text or any bad label.
    """
    cols: dict[str, list] = {"text": [], "labels": [], "task": []}
    for k in extra or {}:
        cols[k] = []
    for i, r in enumerate(rows, start=1):
        row = r.get("_row", i)
        text = r.get("text")
        if _is_nan(text) or not str(text).strip():
            raise DataError(f"empty text ({text!r})", file=file, row=row, column=r.get("_text_column", "text"))
        cols["text"].append(str(text).strip())
        cols["labels"].append(
            encode_label(r["labels"], spec, file=file, row=row, column=r.get("_label_column", "labels"), sep=label_sep)
        )
        cols["task"].append(spec.name)
        for k in extra or {}:
            cols[k].append(r.get(k))
    if not cols["text"]:
        raise DataError("no rows", file=file)
    return datasets.Dataset.from_dict(cols, features=_features(spec, extra))


def cap_rows(dd, caps: dict[str, int | None], seed: int) -> dict[str, int]:
    """Cut each split named in ``caps`` to a seeded random subset of that many rows, in place (a split already that
    small, or a cap of ``None``, is left alone); returns ``{split: rows kept}`` of the splits cut, for the record."""
    cut = {}
    for split, cap in caps.items():
        if cap is not None and split in dd and cap < len(dd[split]):
            dd[split] = dd[split].shuffle(seed=seed).select(range(cap))
            cut[split] = cap
    return cut
