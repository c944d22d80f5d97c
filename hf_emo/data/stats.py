"""Statistics of the registered tasks: problem type, language, labels, rows per split and label counts."""

from __future__ import annotations

from typing import Any

import numpy as np


def task_statistics(names: list[str] | None = None, data_dir: str | None = None) -> dict[str, dict[str, Any]]:
    """``{task: {problem_type, language, labels, metric, split_note, source, rows, train_label_counts | means}}``;
    a task whose files cannot be read gets an ``error`` entry instead of its rows."""
    from . import TASKS, load_task, task_source

    out = {}
    for name in names or list(TASKS):
        spec = TASKS[name]
        entry: dict[str, Any] = {
            "problem_type": spec.problem_type,
            "language": spec.language,
            "labels": list(spec.label_names),
            "metric": spec.metric,
            "split_note": spec.split_note,
        }
        try:
            entry["source"] = task_source(name, data_dir)
            dd = load_task(name, data_dir)
            entry["rows"] = {k: len(v) for k, v in dd.items()}
            y = np.asarray(dd["train"]["labels"])
            if spec.problem_type == "multi_label":
                entry["train_label_counts"] = dict(zip(spec.label_names, y.sum(0).astype(int).tolist()))
            elif spec.problem_type == "single_label":
                entry["train_label_counts"] = dict(
                    zip(spec.label_names, np.bincount(y, minlength=spec.num_labels).tolist())
                )
            else:
                entry["train_label_means"] = dict(zip(spec.label_names, np.round(y.mean(0), 3).tolist()))
        except (FileNotFoundError, OSError) as e:
            entry["error"] = str(e)
        out[name] = entry
    return out


def split_overlap(dd, text_column: str = "text") -> dict[str, int]:
    """How many distinct texts of each later split also occur, exactly (after stripping spaces), in an earlier one:
    ``{"train/validation": n, "train/test": n, "validation/test": n}`` for the splits present. A "held-out" score
    on texts the model trained on is no held-out score."""
    order = [s for s in ("train", "validation", "test") if s in dd and text_column in dd[s].column_names]
    texts = {s: {str(t).strip() for t in dd[s][text_column]} for s in order}
    return {f"{a}/{b}": len(texts[a] & texts[b]) for i, a in enumerate(order) for b in order[i + 1 :]}


def warn_about_overlap(overlap: dict[str, int], where: str = "") -> None:
    """Log a warning for every pair of splits that share texts."""
    import logging

    for pair, n in overlap.items():
        if n:
            logging.getLogger(__name__).warning(
                "%s%d texts of %s occur in both splits: their scores are not held-out scores", where, n, pair
            )
