"""The headline comparisons of BENCHMARKS.md's summary, restated as paired differences: for each claim, the runs of
two rows paired by seed (from the committed records in ``bench/results/``), the mean difference in points and its
95% interval (``hf_emo.tables.paired_difference``: Student t below 5 pairs, a seeded bootstrap from 5 up). A gain
is claimed only when the interval excludes 0.

    python bench/paired_summary.py --out bench/results/paired_summary.json --markdown bench/results/paired_summary.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# (paper, claim, (file, run-name prefix) of the row, (file, prefix[, split]) of the baseline, metrics, split); a
# baseline split other than the row's reads the same runs' other scores (e.g. a refined run's stage-1 student)
REDV2 = ("f1_macro", "f1_micro")
CLAIMS = [
    (
        "000",
        "H200: MTL over STL",
        ("romanian_mtl_study_embedded_h200", "mtl_d10"),
        ("romanian_mtl_study_embedded_h200", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "H200: MTKD over MTL",
        ("romanian_mtl_study_embedded_h200", "mtkd"),
        ("romanian_mtl_study_embedded_h200", "mtl_d10"),
        REDV2,
        "test",
    ),
    (
        "000",
        "H200: MTKD-TA over MTKD (annealing)",
        ("romanian_mtl_study_embedded_h200", "mtkd_ta"),
        ("romanian_mtl_study_embedded_h200", "mtkd"),
        REDV2,
        "test",
    ),
    (
        "000",
        "H200: MTKD-TA over STL (the whole ladder)",
        ("romanian_mtl_study_embedded_h200", "mtkd_ta"),
        ("romanian_mtl_study_embedded_h200", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "H200: MTKD-TA, Bernoulli KL, over STL",
        ("kd_loss_form_embedded_h200", "mtkd_ta_kl_bernoulli"),
        ("romanian_mtl_study_embedded_h200", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "H200: MTKD-TA without the news task",
        ("romanian_mtl_study_embedded_h200", "mtkd_ta_no_news"),
        ("romanian_mtl_study_embedded_h200", "mtkd_ta"),
        REDV2,
        "test",
    ),
    (
        "000",
        "H200: MTKD-TA without the sentiment task",
        ("romanian_mtl_study_embedded_h200", "mtkd_ta_no_sentiment"),
        ("romanian_mtl_study_embedded_h200", "mtkd_ta"),
        REDV2,
        "test",
    ),
    (
        "000",
        "CPU: MTL over STL",
        ("romanian_mtl_study_embedded", "mtl_d10"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "CPU: MTKD (Bernoulli KL, T 1) over STL",
        ("romanian_mtl_study_embedded", "mtkd_kl_bernoulli"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "CPU: MTKD (softmax KL, T 1) over STL",
        ("mtkd_t4_cpu", "mtkd"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "CPU: MTKD at T 4 over MTKD at T 1",
        ("mtkd_t4_cpu", "grid_T4_a0.5"),
        ("mtkd_t4_cpu", "mtkd"),
        REDV2,
        "test",
    ),
    (
        "000",
        "CPU: MTKD-TA at T 4 over STL",
        ("mtkd_t4_cpu", "grid_T4_ta"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "CPU: MTKD-TA at T 4 over MTKD at T 4",
        ("mtkd_t4_cpu", "grid_T4_ta"),
        ("mtkd_t4_cpu", "grid_T4_a0.5"),
        REDV2,
        "test",
    ),
    (
        "000",
        "Table 1: multi-stage over the baseline",
        ("xling_study_embedded", "multistage"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "Table 1: multi-task, plain language head",
        ("xling_study_embedded", "mtl_discriminative"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "Table 1: multi-task, gradient reversal",
        ("xling_study_embedded", "mtl_adversarial"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "Table 1: gradual fine-tuning",
        ("xling_study_embedded", "gradual"),
        ("romanian_mtl_study_embedded", "stl_redv2"),
        REDV2,
        "test",
    ),
    (
        "000",
        "single-task KD (softmax KL, T 1) over the baseline",
        ("kd_loss_form_embedded", "kd_kl_softmax"),
        ("kd_loss_form_embedded", "baseline"),
        REDV2,
        "test",
    ),
    (
        "000",
        "single-task KD at T 4 over the baseline",
        ("redv2_kd_sweep_embedded", "T4_a0.5"),
        ("kd_loss_form_embedded", "baseline"),
        REDV2,
        "test",
    ),
    (
        "000",
        "single-task KD at T 4 over KD at T 1",
        ("redv2_kd_sweep_embedded", "T4_a0.5"),
        ("kd_loss_form_embedded", "kd_kl_softmax"),
        REDV2,
        "test",
    ),
    (
        "000",
        "single-task KD at T 6 over T 4",
        ("redv2_kd_sweep_embedded", "T6_a0.5"),
        ("redv2_kd_sweep_embedded", "T4_a0.5"),
        REDV2,
        "test",
    ),
    (
        "000",
        "annotator KD-TA (softmax) over the baseline",
        ("annotator_kd_embedded", "kd_ta_kl_softmax"),
        ("kd_loss_form_embedded", "baseline"),
        REDV2,
        "test",
    ),
    (
        "001",
        "quality weighting over uniform",
        ("wang2024_embedded", "quality"),
        ("wang2024_embedded", "uniform"),
        ("f1_macro",),
        "test",
    ),
    (
        "001",
        "refinement (quality) over the stage-1 student",
        ("wang2024_embedded", "quality"),
        ("wang2024_embedded", "quality", "test_stage1"),
        ("f1_macro",),
        "test",
    ),
    (
        "001",
        "refinement (per-batch quality) over the stage-1 student",
        ("wang2024_embedded", "quality_batch"),
        ("wang2024_embedded", "quality_batch", "test_stage1"),
        ("f1_macro",),
        "test",
    ),
    (
        "001",
        "refinement (uniform) over the stage-1 student",
        ("wang2024_embedded", "uniform"),
        ("wang2024_embedded", "uniform", "test_stage1"),
        ("f1_macro",),
        "test",
    ),
    (
        "002",
        "SemEval 10 %: MTL over STL",
        ("mtl002_embedded_mixed", "mh_S010"),
        ("mtl002_embedded_mixed", "stl_S010"),
        ("semeval2018_ec_jaccard_samples",),
        "test",
    ),
    (
        "002",
        "SemEval 50 %: MTL over STL",
        ("mtl002_embedded_mixed", "mh_S050"),
        ("mtl002_embedded_mixed", "stl_S050"),
        ("semeval2018_ec_jaccard_samples",),
        "test",
    ),
    (
        "002",
        "SemEval 100 %: MTL over STL",
        ("mtl002_embedded_mixed", "mh_S100"),
        ("mtl002_embedded_mixed", "stl_S100"),
        ("semeval2018_ec_jaccard_samples",),
        "test",
    ),
    (
        "002",
        "emotion task (T): MTL over STL",
        ("mtl002_embedded_mixed", "mh_S100"),
        ("mtl002_embedded_mixed", "stl_T"),
        ("dair_emotion_f1_micro",),
        "test",
    ),
    (
        "002",
        "EmoBank (E): MTL over STL",
        ("mtl002_embedded_mixed", "mh_S100"),
        ("mtl002_embedded_mixed", "stl_E"),
        ("emobank_pearson_mean",),
        "test",
    ),
    (
        "002",
        "SemEval 10 %: GradNorm over MTL",
        ("mtl002_embedded_mixed", "gn_S010"),
        ("mtl002_embedded_mixed", "mh_S010"),
        ("semeval2018_ec_jaccard_samples", "emobank_pearson_mean"),
        "test",
    ),
    (
        "002",
        "SemEval 100 %: GradNorm over MTL",
        ("mtl002_embedded_mixed", "gn_S100"),
        ("mtl002_embedded_mixed", "mh_S100"),
        ("semeval2018_ec_jaccard_samples", "emobank_pearson_mean"),
        "test",
    ),
    (
        "004",
        "CPU: MiniLM-L6 distilled from all-mpnet-base-v2 over MiniLM-L6 alone",
        ("deploy_dair_embedded", "student"),
        ("deploy_dair_embedded", "baseline"),
        ("accuracy", "f1_macro"),
        "test",
    ),
    (
        "004",
        "CPU: MiniLM-L6 distilled from an ensemble (mpnet + the 3 MiniLM baselines) over MiniLM-L6 alone",
        ("deploy_dair_embedded", "ensemble_student"),
        ("deploy_dair_embedded", "baseline"),
        ("accuracy", "f1_macro"),
        "test",
    ),
    (
        "004",
        "CPU: MiniLM-L6 distilled from the ensemble over MiniLM-L6 distilled from mpnet alone",
        ("deploy_dair_embedded", "ensemble_student"),
        ("deploy_dair_embedded", "student"),
        ("accuracy", "f1_macro"),
        "test",
    ),
]


def row_values(file: str, prefix: str, metric: str, split: str) -> dict[int, float]:
    """``{seed: value}`` of the runs ``<prefix>_s<seed>`` in a collected record (a single-task run also answers
    ``<task>_<metric>``)."""
    runs = json.loads((RESULTS / f"{file}.json").read_text(encoding="utf-8"))["runs"]
    out = {}
    for name, record in runs.items():
        m = re.fullmatch(rf"{re.escape(prefix)}_s(\d+)", name)
        if not m or split not in record:
            continue
        metrics = record[split]
        task = record.get("run", {}).get("task")
        key = metric if metric in metrics else metric.split("_", 1)[1] if task and metric.startswith(task) else None
        if key is None and f"redv2_{metric}" in metrics:
            key = f"redv2_{metric}"
        if key is not None and key in metrics:
            out[int(record.get("run", {}).get("seed", m.group(1)))] = float(metrics[key])
    return out


def main() -> int:
    from hf_emo.tables import paired_difference

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=None)
    p.add_argument("--markdown", default=None)
    args = p.parse_args()
    rows = []
    for paper, claim, (fa, pa), base, metrics, split in CLAIMS:
        fb, pb, base_split = (*base, split)[:3]
        for metric in metrics:
            a, b = row_values(fa, pa, metric, split), row_values(fb, pb, metric, base_split)
            d = paired_difference(a, b)
            rows.append(
                {
                    "paper": paper,
                    "claim": claim,
                    "metric": metric,
                    "row": f"{fa}:{pa}",
                    "baseline": f"{fb}:{pb}" + (f"::{base_split}" if base_split != split else ""),
                    "seeds": sorted(set(a) & set(b)),
                    **(
                        {
                            "mean": round(d.mean, 2),
                            "low": round(d.low, 2),
                            "high": round(d.high, 2),
                            "n": d.n,
                            "interval": d.method,
                            "verdict": "gain" if d.low > 0 else ("loss" if d.high < 0 else "no claim"),
                        }
                        if d is not None
                        else {"verdict": "fewer than 2 paired seeds"}
                    ),
                }
            )
            print(
                f"{paper} {claim:55} {metric:32} " + (str(d) if d else rows[-1]["verdict"]) + f"  {rows[-1]['verdict']}"
            )
    record = {
        "benchmark": "paired_summary",
        "claims": rows,
        "command": "python bench/paired_summary.py " + " ".join(sys.argv[1:]),
    }
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        lines = [
            "| paper | comparison | metric | seeds | mean difference [95% interval] | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            cell = (
                f"{r['mean']:+.2f} [{r['low']:+.2f}, {r['high']:+.2f}]"
                + (" (bootstrap)" if r.get("interval") == "bootstrap" else "")
                if "mean" in r
                else "–"
            )
            lines.append(
                f"| {r['paper']} | {r['claim']} | {r['metric']} | {', '.join(map(str, r['seeds']))} | "
                f"{cell} | {r['verdict']} |"
            )
        Path(args.markdown).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
