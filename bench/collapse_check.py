"""Has a classifier collapsed to one output for every text? Its logits' spread across the texts of a split.

    HF_EMO_DATA_DIR=../shared/data python bench/collapse_check.py --model runs/redv2_baseline_embedded \\
        --model runs/kd_loss_form_embedded/kd_ta_kl_bernoulli_s2 --out bench/results/collapse_check_kd_ta_s2

A student that scores 0 F1 may be a slow learner (its logits still vary with the text, below the threshold) or a
dead one (the encoder's pooled output no longer depends on the text, so the head returns its bias, the label prior,
for every input). Per model: each label's logit standard deviation across the split's texts, the mean
probability, the number of distinct output rows and the verdict ``collapsed`` (every label's std below
``--tolerance``). Writes ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def spread(logits: np.ndarray, tolerance: float) -> dict:
    """Per-label std of ``logits`` (texts x labels) across texts, distinct rows (to 4 decimals), collapse verdict."""
    std = logits.std(axis=0)
    return {
        "logit_std_per_label": [round(float(v), 4) for v in std],
        "distinct_rows": int(len(np.unique(np.round(logits, 4), axis=0))),
        "collapsed": bool((std < tolerance).all()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", required=True, help="a classifier folder (repeatable)")
    parser.add_argument("--task", default="redv2")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--rows", type=int, default=0, help="the split's first N texts (default: all)")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--out", required=True)
    a = parser.parse_args()

    from hf_emo.data import TASKS, load_task
    from hf_emo.inference import predict
    from hf_emo.scrub import public_name

    texts = list(load_task(a.task)[a.split]["text"])
    texts = texts[: a.rows] if a.rows else texts
    models = {}
    for path in a.model:
        pred = predict(path, texts=texts, desc=f"predicting {Path(path).name}")
        models[public_name(path)] = {
            **spread(pred.logits, a.tolerance),
            "mean_probability_per_label": [round(float(v), 4) for v in pred.probabilities.mean(axis=0)],
        }
    result = {
        "task": a.task,
        "split": a.split,
        "texts": len(texts),
        "labels": list(TASKS[a.task].label_names),
        "tolerance": a.tolerance,
        "models": models,
    }
    print(json.dumps(result, indent=1))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{a.out}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
