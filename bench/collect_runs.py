"""Gather a study's runs into one small JSON for ``bench/results/`` (the run folders themselves stay uncommitted),
and lay such a file back out as run folders, so a study's tables can be rebuilt on a machine that has lost its runs.

    python bench/collect_runs.py --runs "runs/mtl_disparate_embedded_mixed/*" \\
        --out bench/results/mtl002_embedded_mixed.json
    python bench/collect_runs.py --restore bench/results/mtl002_embedded_mixed.json \\
        --into runs/mtl_disparate_embedded_mixed

Collecting keeps, for every run folder with a ``metrics.json``, its metrics on ``--splits`` (default: every test
split, e.g. a refinement run's ``test_stage1`` and ``test_teacher`` beside ``test``), and from
its record the seed, command, machine, library versions, task(s), steps, best step and training time. Restoring writes
``INTO/<run>/metrics.json`` for every run of the file that INTO lacks (a run already there is never overwritten), its
record marked ``restored_from``: the study scripts then skip those runs as finished and their table scripts read them
beside the new ones. A restored run has no weights: it cannot serve as a teacher or in a table of predictions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RUN_FIELDS = ("seed", "command", "machine", "versions", "task", "tasks", "primary_task", "steps", "best_step",
              "train_runtime_s", "peak_rss_mb", "split_sizes", "task_sampler", "train_fraction", "max_train_samples",
              "threshold", "resumed_from", "restored_from", "renamed_from", "splits_from_table",
              "weight_noise_correlations")


def collect(patterns: list[str], splits: list[str] | None = None) -> dict:
    """``{"runs": {folder name: {split: metrics, "run": {kept record fields}}}}`` of the finished runs; ``splits``
    None keeps every split whose name begins with ``test``."""
    from hf_emo.tables import _expand, load_run

    runs = {}
    for folder in _expand(patterns):  # finished runs only (a metrics.json)
        record = load_run(folder)
        info = record.get("run", {})
        kept = {k: v for k, v in record.items() if isinstance(v, dict) and k != "run"
                and (k in splits if splits else k.startswith("test"))}
        runs[folder.name] = {**kept, "run": {k: info[k] for k in RUN_FIELDS if k in info}}
    return {"runs": runs}


def restore(collected_file: str | Path, into: str | Path) -> list[str]:
    """Write ``into/<run>/metrics.json`` for each run of ``collected_file`` that ``into`` lacks; the names written."""
    path = Path(collected_file)
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"{path}: not a collected-runs file ({type(e).__name__}: {e})") from None
    written = []
    for name, record in sorted(runs.items()):
        if not isinstance(record, dict) or "/" in name or name in ("", ".", ".."):
            raise SystemExit(f"{path}: run {name!r} is not a run record")
        folder = Path(into) / name
        if (folder / "metrics.json").exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        run = {**record.get("run", {}), "restored_from": path.name}
        (folder / "metrics.json").write_text(json.dumps({**record, "run": run}, indent=2) + "\n", encoding="utf-8")
        written.append(name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", help="run folders or globs to collect")
    parser.add_argument("--splits", nargs="+", help="the splits whose metrics to keep (default: every test* split)")
    parser.add_argument("--out", help="the collected JSON to write")
    parser.add_argument("--restore", help="a collected JSON to lay out as run folders (with --into)")
    parser.add_argument("--into", help="the study folder to restore into")
    a = parser.parse_args()
    if a.restore:
        if not a.into or a.runs or a.out:
            parser.error("--restore takes --into, and neither --runs nor --out")
        written = restore(a.restore, a.into)
        names = f": {' '.join(written)}" if written else ""
        print(f"{len(written)} runs restored from {a.restore} into {a.into}{names}")
        return
    if not (a.runs and a.out):
        parser.error("give --runs and --out (collect) or --restore and --into")
    collected = collect(a.runs, a.splits)
    if not collected["runs"]:
        raise SystemExit(f"no finished run (metrics.json) under {a.runs}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(collected, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(collected['runs'])} runs -> {a.out}")


if __name__ == "__main__":
    main()
