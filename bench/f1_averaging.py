"""Which F1 does Matei's REDv2 table report? Its F1 against the harmonic mean of the same row's P and R.

    hf-emo evaluate --model runs/redv2_baseline_embedded --task redv2 --split test --threshold 0.5 \
        --output runs/redv2_baseline_embedded/test_eval.json
    python bench/f1_averaging.py --run runs/redv2_baseline_embedded/test_eval.json

A micro F1 *equals* 2PR/(P+R) of the micro P and R. A macro, weighted or samples F1 (a mean of per-label or
per-example F1s) lies *below* the harmonic mean of the matching mean P and mean R (the harmonic mean is concave),
by an amount that depends on how P and R vary across labels or examples. The paper's emotion rows (Tables 1-5,
typed in below from the paper) are compared with the gaps of our own run's micro, macro, weighted and samples
averages. A second check separates macro from weighted: for a single-label task the support-weighted recall *is*
the accuracy, so the paper's single-label auxiliary rows (sentiment, news) tell which one its code used.
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


# (table, task, row, Ac, F1, P, R): Matei's single-label auxiliary tasks
AUX_ROWS = [
    ("1/2", "sentiment", "BERT-base-ro", 95.23, 95.28, 95.27, 95.30),
    ("1/2", "news", "BERT-base-ro", 84.85, 86.92, 87.10, 86.79),
    ("1", "news", "Multi-Stage Cross-Lingual", 85.51, 86.90, 87.32, 86.59),
    ("1/2", "sentiment", "Multi-Task Cross-Lingual", 95.33, 95.36, 95.39, 95.33),
    ("1/2", "news", "Multi-Task Cross-Lingual", 85.28, 86.69, 87.30, 86.54),
    ("2", "sentiment", "Multi-Task Learning", 95.10, 95.18, 95.16, 95.20),
    ("2", "news", "Multi-Task Learning", 83.96, 85.81, 86.31, 85.33),
    ("2", "sentiment", "MTKD", 95.53, 95.56, 95.59, 95.53),
    ("2", "news", "MTKD", 81.60, 87.33, 85.03, 90.40),
    ("2", "sentiment", "MTKD-TA", 95.26, 95.40, 95.37, 95.43),
    ("2", "news", "MTKD-TA", 78.20, 86.37, 81.73, 92.60),
    ("3", "sentiment", "MTL div 5", 95.46, 95.50, 95.46, 95.53),
    ("3", "news", "MTL div 5", 83.79, 84.69, 85.27, 84.13),
    ("3", "sentiment", "MTL div 15", 95.33, 95.40, 95.33, 95.46),
    ("3", "news", "MTL div 15", 84.01, 86.12, 87.10, 85.21),
]


def harmonic(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--run",
        type=Path,
        help="a REDv2 run folder (its metrics.json's test split) or the JSON of `hf-emo evaluate --output`",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "f1_averaging.json")
    args = parser.parse_args()
    paper = [
        {"table": t, "row": name, "f1": f1, "hm_of_p_r": round(harmonic(p, r), 2), "gap": round(harmonic(p, r) - f1, 2)}
        for t, name, _, f1, p, r in PAPER_ROWS
    ]
    result = {
        "paper_rows": paper,
        "paper_gap_range": [min(x["gap"] for x in paper), max(x["gap"] for x in paper)],
        "aux_rows_recall_minus_accuracy": [
            {"table": t, "task": task, "row": name, "recall_minus_acc": round(r - ac, 2)}
            for t, task, name, ac, _, _, r in AUX_ROWS
        ],
    }
    result["aux_rows_where_recall_equals_accuracy"] = sum(
        abs(x["recall_minus_acc"]) < 0.005 for x in result["aux_rows_recall_minus_accuracy"]
    )
    if args.run:
        test = (
            json.loads(args.run.read_text())
            if args.run.is_file()
            else json.loads((args.run / "metrics.json").read_text())["test"]
        )
        result["our_run"] = {
            avg: {
                "f1": round(100 * test[f"f1_{avg}"], 2),
                "gap": round(100 * (harmonic(test[f"precision_{avg}"], test[f"recall_{avg}"]) - test[f"f1_{avg}"]), 2),
            }
            for avg in ("micro", "macro", "weighted", "samples")
            if f"f1_{avg}" in test
        }
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
