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
