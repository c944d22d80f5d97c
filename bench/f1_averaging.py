"""Which F1 does Matei's REDv2 table report? Its F1 against the harmonic mean of the same row's P and R.

    python bench/f1_averaging.py --run runs/redv2_baseline_embedded --out bench/results/f1_averaging.json

A micro F1 *equals* 2PR/(P+R) of the micro P and R. A macro, weighted or samples F1 (a mean of per-label or
per-example F1s) lies *below* the harmonic mean of the matching mean P and mean R (the harmonic mean is concave),
by an amount that depends on how P and R vary across labels or examples. The paper's emotion rows (Tables 1-5,
typed in below from the paper) are compared with the gaps of our own run's micro, macro and samples averages.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# (table, row, Ac, F1, P, R): Matei, REDv2 emotion recognition columns
PAPER_ROWS = [
    ("1/2", "BERT-base-ro", 56.84, 67.33, 69.40, 65.48),
    ("1", "Multi-Stage Cross-Lingual", 57.82, 68.05, 73.44, 63.53),
    ("1/2", "Multi-Task Cross-Lingual", 57.94, 68.07, 71.55, 65.15),
    ("2/3", "Multi-Task Learning (div 10)", 57.57, 68.53, 70.73, 66.55),
    ("2/4", "MTKD (alpha 0.5, T 1)", 56.11, 69.11, 70.59, 67.74),
    ("2/4/5", "MTKD-TA (0.1-0.7, T 1.5)", 51.58, 70.19, 66.98, 74.00),
    ("3", "MTL div 5", 54.64, 66.79, 65.82, 67.96),
    ("3", "MTL div 15", 55.86, 67.74, 69.04, 66.55),
    ("4", "MTKD 0.5 / 0.5", 54.52, 67.58, 74.72, 61.81),
    ("4", "MTKD 0.5 / 2.0", 48.16, 68.63, 62.06, 76.91),
    ("4", "MTKD 0.5 / 3.0", 48.41, 68.21, 62.09, 75.83),
    ("4", "MTKD 0.5 / 4.0", 47.43, 67.78, 61.58, 75.51),
    ("4", "MTKD 0.75 / 1.0", 56.23, 68.39, 72.02, 65.15),
    ("4", "MTKD 0.75 / 1.5", 55.99, 68.96, 70.03, 67.96),
    ("4", "MTKD 1.0 / 1.0", 57.21, 67.83, 70.54, 65.48),
    ("4", "MTKD-TA 0.1-0.7 / 1.0", 56.11, 69.07, 74.53, 64.50),
    ("5", "w/o sentiment analysis", 54.52, 69.37, 67.87, 70.98),
    ("5", "w/o news categorization", 55.50, 68.37, 69.72, 67.20),
]


def harmonic(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="a REDv2 run folder with metrics.json (test split)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "f1_averaging.json")
    args = parser.parse_args()
    paper = [{"table": t, "row": name, "f1": f1, "hm_of_p_r": round(harmonic(p, r), 2),
              "gap": round(harmonic(p, r) - f1, 2)} for t, name, _, f1, p, r in PAPER_ROWS]
    result = {"paper_rows": paper, "paper_gap_range": [min(x["gap"] for x in paper), max(x["gap"] for x in paper)]}
    if args.run:
        test = json.loads((args.run / "metrics.json").read_text())["test"]
        result["our_run"] = {avg: {"f1": round(100 * test[f"f1_{avg}"], 2),
                                   "gap": round(100 * (harmonic(test[f"precision_{avg}"], test[f"recall_{avg}"])
                                                       - test[f"f1_{avg}"]), 2)}
                             for avg in ("micro", "macro", "samples") if f"f1_{avg}" in test}
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
