"""Rebuild a study's run records from the logs of ``bench/study_lanes.sh`` when the run folders themselves are lost
(e.g. a GPU machine given back before its runs were collected): every finished ``hf-emo`` run prints its metrics as
the last JSON object of its log, and the lane's ``summary.txt`` holds the command of each job.

    python bench/records_from_logs.py --logs logs/gpu_phase1 logs/gpu_phase2 --study 07_mtl_study.sh \\
        --machine "1 x NVIDIA H200, torch 2.11.0+cu130" --versions-from bench/results/FILE.json:RUN \\
        --note "..." --out bench/results/NEW.json

Writes a ``bench/collect_runs.py`` file (``{"runs": {name: {split: metrics, "run": record}}}``) holding every
test split of each job whose command names ``--study`` and selects one run with ``ONLY=<run>``; a job that failed
or printed no metrics is reported and left out. Each record keeps the job's command, its seed (from the run's name),
the training time the log printed, the machine and library versions given, and ``from_log`` (the log it was read
from), so that it is never mistaken for a collected run folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout: study jobs name their scripts relative to it
SUMMARY = re.compile(r"^(ok  |FAIL) (job\d+) rc=(\d+) (\d+)s (.*)$")
RUNTIME = re.compile(r"'train_runtime': '([0-9.]+)'")


def last_json_object(text: str) -> dict | None:
    """The last top-level JSON object of a log: a line ``{`` up to the next line ``}``."""
    lines = text.split("\n")
    for i in reversed([i for i, line in enumerate(lines) if line == "{"]):
        try:  # ValueError: no closing line after it, or not JSON
            return json.loads("\n".join(lines[i : lines.index("}", i) + 1]))
        except ValueError:
            continue
    return None


def resolve(command: str, name: str, runs_dir: str) -> dict:
    """``{"command": the hf-emo command line, "method": its description}`` that ``command`` (a study job) runs for
    ``name``, found by running it with an ``hf-emo`` that records its arguments instead of training."""
    from hf_emo.scrub import scrub

    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp) / "hf-emo"
        fake.write_text('#!/usr/bin/env bash\nprintf "%s\\0" "$@" > "$HF_EMO_ARGV"\n')
        fake.chmod(0o755)
        argv_file = Path(tmp) / "argv"
        env = {
            **os.environ,
            "HF_EMO_BIN": str(fake),
            "HF_EMO_ARGV": str(argv_file),
            "OUT": str(Path(tmp) / "runs"),
            "TABLES": "0",
        }
        subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
        # the study's own runs folder, as the run itself records it; config paths stay absolute to be read here
        argv = [
            a.replace(str(Path(tmp) / "runs"), runs_dir) for a in argv_file.read_text(encoding="utf-8").split("\0")[:-1]
        ]
    job, args = argv[0], argv[1:]
    out: dict = {"command": scrub(shlex.join(["hf-emo", *(a.replace(f"{ROOT}{os.sep}", "") for a in argv)]))}
    if job in ("mtl", "distil"):  # the method as the run itself records it, from the job's own description
        from hf_emo.jobs.arguments import parse_config_args
        from hf_emo.jobs.methods import get_method

        method = get_method(job)
        run, config = parse_config_args(args, method.argument_classes)
        out["method"] = method.job(run, config, command=out["command"]).planned_method().to_dict()
    return out


def records(log_dirs: list[Path], study: str, run_info: dict, runs_dir: str | None = None) -> tuple[dict, list[str]]:
    """``({run name: record}, [problems])`` for the jobs of ``study`` in ``log_dirs``."""
    runs, problems = {}, []
    for log_dir in log_dirs:
        summary = log_dir / "summary.txt"
        if not summary.is_file():
            problems.append(f"{log_dir}: no summary.txt")
            continue
        for line in summary.read_text(encoding="utf-8").splitlines():
            m = SUMMARY.match(line)
            if not m or study not in m.group(5):
                continue
            status, job, rc, _, command = m.groups()
            only = re.search(r"\bONLY=(\S+)", command)
            if not only or not re.search(r"_s\d+$", only.group(1)):
                problems.append(f"{log_dir}/{job}: the command selects no single run (ONLY=<name>_s<seed>)")
                continue
            name = only.group(1)
            if status != "ok  ":
                problems.append(f"{log_dir}/{job} ({name}): failed with rc {rc}")
                continue
            text = (log_dir / f"{job}.log").read_text(encoding="utf-8", errors="replace")
            metrics = last_json_object(text)
            if not metrics or "test" not in metrics:
                problems.append(f"{log_dir}/{job} ({name}): no metrics printed")
                continue
            runtime = RUNTIME.findall(text)
            record = {k: v for k, v in metrics.items() if k.startswith("test")}
            record["run"] = {
                "seed": int(name.rsplit("_s", 1)[1]),
                "command": command,
                **({"train_runtime_s": float(runtime[-1])} if runtime else {}),
                **run_info,
                "from_log": f"{log_dir.name}/{job}.log",
            }
            if runs_dir is not None:
                resolved = resolve(command, name, runs_dir)
                record["run"].update(command=resolved["command"], job=command)
                if "method" in resolved:
                    record["run"]["method"] = resolved["method"]
            if name in runs:
                problems.append(f"{log_dir}/{job}: {name} appears twice; the later log is kept")
            runs[name] = record
    return runs, problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--logs", nargs="+", type=Path, required=True, help="study_lanes.sh log folders")
    p.add_argument("--study", required=True, help="the study script whose jobs to read, e.g. 07_mtl_study.sh")
    p.add_argument("--machine", required=True)
    p.add_argument("--versions-from", help="FILE.json:RUN: take the library versions of that collected record")
    p.add_argument("--note", default="", help="why the records come from logs (kept in every record)")
    p.add_argument(
        "--resolve",
        metavar="RUNS_DIR",
        help="record each job's hf-emo command (its output_dir "
        "RUNS_DIR/<run>) and distillation settings, found by running the job with a recording hf-emo",
    )
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    info: dict = {"machine": a.machine}
    if a.versions_from:
        file, run = a.versions_from.rsplit(":", 1)
        info["versions"] = json.loads(Path(file).read_text(encoding="utf-8"))["runs"][run]["run"]["versions"]
    if a.note:
        info["note"] = a.note
    runs, problems = records(a.logs, a.study, info, a.resolve)
    for problem in problems:
        print("left out:", problem)
    if not runs:
        raise SystemExit(f"no finished run of {a.study} in {', '.join(map(str, a.logs))}")
    a.out.write_text(json.dumps({"runs": dict(sorted(runs.items()))}, indent=2) + "\n", encoding="utf-8")
    print(f"{a.out}: {len(runs)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
