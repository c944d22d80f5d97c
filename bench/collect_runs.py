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

When a profile changes what a run name means (07's ``mtkd_ta_s42`` was the Bernoulli KD form until the embedded MTKD
took the softmax form), ``--move`` carries a record to its new name, in a collected file or a run folder, and marks
it ``renamed_from`` (its command still names the old output_dir):

    python bench/collect_runs.py --move bench/results/romanian_mtl_study_embedded.json:mtkd_ta_s42 \
        bench/results/kd_loss_form_embedded.json:mtkd_ta_kl_bernoulli_s42
    python bench/collect_runs.py --move runs/kd_loss_form_embedded/mtkd_ta_kl_softmax_s42 \
        runs/mtl_study_embedded/mtkd_ta_s42
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RUN_FIELDS = (
    "seed",
    "command",
    "machine",
    "versions",
    "task",
    "tasks",
    "primary_task",
    "steps",
    "best_step",
    "train_runtime_s",
    "peak_rss_mb",
    "split_sizes",
    "task_sampler",
    "train_fraction",
    "max_train_samples",
    "threshold",
    "resumed_from",
    "restored_from",
    "renamed_from",
    "splits_from_table",
    "weight_noise_correlations",
    "method",
    "distillation",
    "job",
    "from_log",
    "note",
)


def collect(patterns: list[str], splits: list[str] | None = None) -> dict:
    """``{"runs": {folder name: {split: metrics, "run": {kept record fields}}}}`` of the finished runs; ``splits``
    None keeps every split whose name begins with ``test``."""
    from hf_emo.tables import _expand, load_run

    runs = {}
    for folder in _expand(patterns):  # finished runs only (a metrics.json)
        record = load_run(folder)
        info = record.get("run", {})
        kept = {
            k: v
            for k, v in record.items()
            if isinstance(v, dict) and k != "run" and (k in splits if splits else k.startswith("test"))
        }
        runs[folder.name] = {**kept, "run": {k: info[k] for k in RUN_FIELDS if k in info}}
    return {"runs": runs}


def restore(collected_file: str | Path, into: str | Path) -> list[str]:
    """Write ``into/<run>/metrics.json`` for each run of ``collected_file`` that ``into`` lacks; the names written."""
    path = Path(collected_file)
    runs = _read_collected(path)["runs"]
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


def _read_collected(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data["runs"], dict):
            raise TypeError("'runs' is not a mapping")
        return data
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"{path}: not a collected-runs file ({type(e).__name__}: {e})") from None


def move(source: str, target: str) -> str:
    """Move one run record to a new name: ``FILE.json:RUN`` -> ``FILE.json:RUN`` (between collected files, or within
    one) or run folder -> run folder (its weights with it). The record gains ``renamed_from`` (``study/run``, the
    first name it had if it was renamed before); a target that exists is refused. Returns a line saying what moved."""
    if (":" in source) != (":" in target) or (":" in source and not source.split(":")[0].endswith(".json")):
        raise SystemExit(f"--move takes FILE.json:RUN FILE.json:RUN or FOLDER FOLDER, got {source!r} {target!r}")
    if ":" in source:
        (src_file, src_name), (dst_file, dst_name) = source.rsplit(":", 1), target.rsplit(":", 1)
        src_path, dst_path = Path(src_file), Path(dst_file)
        src = _read_collected(src_path)
        dst = (
            src
            if dst_path.resolve() == src_path.resolve()
            else (_read_collected(dst_path) if dst_path.exists() else {"runs": {}})
        )
        if src_name not in src["runs"]:
            raise SystemExit(f"{src_path}: no run {src_name!r}; it has {sorted(src['runs'])}")
        if dst_name in dst["runs"] or "/" in dst_name or not dst_name:
            raise SystemExit(f"{dst_path}: run {dst_name!r} exists already or is not a run name: not overwritten")
        record = src["runs"].pop(src_name)
        run = record.setdefault("run", {})
        run.setdefault("renamed_from", f"{src_path.stem}/{src_name}")
        dst["runs"][dst_name] = record
        for path, data in {src_path: src, dst_path: dst}.items():
            path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return f"{src_path}:{src_name} -> {dst_path}:{dst_name}"
    src_dir, dst_dir = Path(source), Path(target)
    metrics = src_dir / "metrics.json"
    if not metrics.is_file():
        raise SystemExit(f"{src_dir}: not a finished run (no metrics.json)")
    if dst_dir.exists():
        raise SystemExit(f"{dst_dir} exists already: not overwritten")
    record = json.loads(metrics.read_text(encoding="utf-8"))
    record.setdefault("run", {}).setdefault("renamed_from", f"{src_dir.parent.name}/{src_dir.name}")
    dst_dir.parent.mkdir(parents=True, exist_ok=True)
    src_dir.rename(dst_dir)
    (dst_dir / "metrics.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return f"{src_dir} -> {dst_dir}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", help="run folders or globs to collect")
    parser.add_argument("--splits", nargs="+", help="the splits whose metrics to keep (default: every test* split)")
    parser.add_argument("--out", help="the collected JSON to write")
    parser.add_argument("--restore", help="a collected JSON to lay out as run folders (with --into)")
    parser.add_argument("--into", help="the study folder to restore into")
    parser.add_argument(
        "--move",
        nargs=2,
        metavar=("FROM", "TO"),
        help="rename one record: FILE.json:RUN FILE.json:RUN, or a run folder to a new folder",
    )
    a = parser.parse_args()
    if a.move:
        if a.runs or a.out or a.restore:
            parser.error("--move takes nothing else")
        print("moved " + move(*a.move))
        return
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
