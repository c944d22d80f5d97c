"""What ``import hf_emo`` costs next to ``import transformers``: each timed in fresh interpreters, alternating.

    python bench/import_time.py --repeats 7 --out bench/results/import_time.json

Also times ``import hf_emo.models`` (which registers hf_emo's architectures with the Auto classes and so needs torch
and transformers' modelling code) and the first use of a trainer (``hf_emo.DistillationTrainer``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "import transformers": "import transformers",
    "import hf_emo": "import hf_emo",
    "import hf_emo.models": "import hf_emo.models",
    "hf_emo.DistillationTrainer (first use)": "import hf_emo; hf_emo.DistillationTrainer",
}


def seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "import_time.json")
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeats):
        for name, statement in CASES.items():
            times[name].append(seconds(statement))
    medians = {name: round(statistics.median(v), 3) for name, v in times.items()}
    result = {
        "command": f"python bench/import_time.py --repeats {args.repeats}",
        "python": platform.python_version(),
        "median_s": medians,
        "all_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "ratio_hf_emo_to_transformers": round(medians["import hf_emo"] / medians["import transformers"], 3),
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
