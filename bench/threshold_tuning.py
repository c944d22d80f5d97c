"""Multi-label decision thresholds on REDv2: 0.5, one global threshold tuned on validation, one per label.

    HF_EMO_DATA_DIR=../shared/data python bench/threshold_tuning.py --model runs/redv2_baseline_embedded \\
        --out bench/results/threshold_tuning_redv2_baseline

The model's validation and test logits are computed once; the thresholds are tuned on validation only and applied
to test. Reports micro, macro, weighted and samples F1 (x100) for each way. Writes ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a fine-tuned multi-label classifier folder")
    parser.add_argument("--task", default="redv2")
    parser.add_argument("--out", required=True)
    a = parser.parse_args()

    from hf_emo.data import TASKS, load_task
    from hf_emo.inference import predict
    from hf_emo.metrics import multi_label_metrics, tune_label_thresholds, tune_threshold
    from hf_emo.scrub import public_name

    spec = TASKS[a.task]
    data = load_task(a.task)
    probs, labels = {}, {}
    for split in ("validation", "test"):
        pred = predict(a.model, texts=list(data[split]["text"]), desc=f"predicting {split}")
        probs[split], labels[split] = pred.probabilities, np.asarray(data[split]["labels"]).astype(int)
    ways = {
        "0.5": 0.5,
        "global (micro F1 on validation)": tune_threshold(labels["validation"], probs["validation"], "f1_micro")[0],
        "global (macro F1 on validation)": tune_threshold(labels["validation"], probs["validation"], "f1_macro")[0],
        "per label (each label's F1 on validation)": tune_label_thresholds(labels["validation"], probs["validation"]),
    }
    rows = {}
    for name, thr in ways.items():
        m = multi_label_metrics(labels["test"], probs["test"], thr)
        rows[name] = {
            "threshold": thr,
            **{
                k: round(100 * m[k], 2)
                for k in (
                    "f1_micro",
                    "f1_macro",
                    "f1_weighted",
                    "f1_samples",
                    "precision_macro",
                    "recall_macro",
                    "subset_accuracy",
                )
            },
        }
    result = {
        "model": public_name(a.model),
        "task": a.task,
        "labels": list(spec.label_names),
        "tuned_on": "validation",
        "scored_on": "test",
        "ways": rows,
    }
    print(json.dumps(result, indent=2))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{a.out}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
