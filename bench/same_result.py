"""Same seed, same figures, before and after a refactor: short runs of the figure-producing commands.

    python bench/same_result.py run --checkout DIR --label before --teacher TEACHER_RUN
    python bench/same_result.py run --checkout . --label after --teacher TEACHER_RUN
    python bench/same_result.py compare before after

``run`` calls ``hf-emo train`` and ``hf-emo distil`` (the embedded REDv2 configs, ``--rows`` training rows, default
256, ``--epochs`` epochs, default 1, seed 7) from the code in ``--checkout`` and stores each run's test metrics and the SHA-256 of its weights in
``bench/results/same_result_<label>.json``; ``compare`` says, per run, whether the weights are bit-identical and
the largest difference of any test metric.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CONFIGS = Path("recipes") / "romanian_mtkd" / "configs"  # relative: the commands run in the checkout


def commands(teacher: str, rows: int = 256, epochs: int = 1) -> dict[str, list[str]]:
    SHORT = ["--max_train_samples", str(rows), "--num_train_epochs", str(epochs), "--seed", "7", "--report_to", "none"]
    return {
        "train": ["train", "--config", str(CONFIGS / "baseline_embedded.yaml"), *SHORT],
        "distil": ["distil", "--config", str(CONFIGS / "baseline_embedded.yaml"), "--config",
                   str(CONFIGS / "kd_embedded.yaml"), "--teacher", teacher, *SHORT],
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(checkout: Path, label: str, teacher: str, rows: int = 256, epochs: int = 1) -> Path:
    out: dict = {"checkout_commit": subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"],
                                                   capture_output=True, text=True).stdout.strip(), "runs": {}}
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env.setdefault("HF_EMO_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    where = subprocess.run([sys.executable, "-c", "import hf_emo; print(hf_emo.__file__)"], env=env, cwd=checkout,
                           capture_output=True, text=True).stdout.strip()
    if not where.startswith(str(checkout)):
        raise SystemExit(f"hf_emo imports from {where}, not from {checkout}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in commands(teacher, rows, epochs).items():
            folder = Path(tmp) / name
            proc = subprocess.run([sys.executable, "-m", "hf_emo.cli", *argv, "--output_dir", str(folder)], env=env,
                                  cwd=checkout, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed in {checkout}:\n{proc.stderr[-3000:]}")
            metrics = json.loads((folder / "metrics.json").read_text())
            shown = ["<teacher run>" if a == teacher else a for a in argv]  # no local path in the record
            out["runs"][name] = {"command": "hf-emo " + " ".join(shown), "test": metrics["test"],
                                 "weights_sha256": sha256(folder / "model.safetensors")}
    path = RESULTS / f"same_result_{label}.json"
    path.write_text(json.dumps(out, indent=2))
    return path


def compare(a: str, b: str) -> dict:
    left = json.loads((RESULTS / f"same_result_{a}.json").read_text())["runs"]
    right = json.loads((RESULTS / f"same_result_{b}.json").read_text())["runs"]
    report = {}
    for name in left:
        ta, tb = left[name]["test"], right[name]["test"]
        diffs = [abs(ta[k] - tb[k]) for k in ta if isinstance(ta[k], (int, float)) and k in tb]
        report[name] = {"weights_identical": left[name]["weights_sha256"] == right[name]["weights_sha256"],
                        "max_test_metric_difference": max(diffs) if diffs else None,
                        "f1_micro": (ta.get("f1_micro"), tb.get("f1_micro"))}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--checkout", type=Path, default=ROOT)
    r.add_argument("--label", required=True)
    r.add_argument("--teacher", required=True, help="a fine-tuned REDv2 run folder (e.g. make demo's)")
    r.add_argument("--rows", type=int, default=256, help="training rows (a seeded subset)")
    r.add_argument("--epochs", type=int, default=1)
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = parser.parse_args()
    if args.cmd == "run":
        print(run(args.checkout.resolve(), args.label, str(Path(args.teacher).resolve()), args.rows, args.epochs))
    else:
        print(json.dumps(compare(args.a, args.b), indent=2))


if __name__ == "__main__":
    main()
