"""Gather a study's runs into one small JSON for ``bench/results/`` (the run folders themselves stay uncommitted).

    python bench/collect_runs.py --runs "runs/mtl_disparate_embedded_mixed/*" \\
        --out bench/results/mtl002_embedded_mixed.json

For every run folder with a ``metrics.json``: its metrics on ``--splits`` (default: test), and from its record the seed, command,
machine, library versions, steps, best step and training time. Tables can be rebuilt from this file alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RUN_FIELDS = ("seed", "command", "machine", "versions", "steps", "best_step", "train_runtime_s", "peak_rss_mb",
              "split_sizes", "task_sampler", "train_fraction", "max_train_samples", "threshold", "resumed_from")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, help="run folders or globs")
    parser.add_argument("--splits", nargs="+", default=["test"], help="the splits whose metrics to keep")
    parser.add_argument("--out", required=True)
    a = parser.parse_args()

    from hf_emo.tables import _expand, load_run

    runs = {}
    for folder in _expand(a.runs):  # finished runs only (a metrics.json)
        record = load_run(folder)
        info = record.get("run", {})
        runs[folder.name] = {**{k: v for k, v in record.items() if k in a.splits},
                             "run": {k: info[k] for k in RUN_FIELDS if k in info}}
    if not runs:
        raise SystemExit(f"no finished run (metrics.json) under {a.runs}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"runs": runs}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(runs)} runs -> {a.out}")


if __name__ == "__main__":
    main()
