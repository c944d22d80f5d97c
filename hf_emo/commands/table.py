"""``hf-emo table``: result tables over finished runs (``metrics.json``): seeds, the KD grid, predicted
probabilities, GradNorm task weights, and any dict of numbers in the records."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "result tables over runs: seeds (mean ± std), kd-grid (T x alpha + heat map), probs, task-weights, json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="kind", required=True)
    seeds = sub.add_parser("seeds", help="mean ± std over seeds, one row per --row NAME=GLOB")
    seeds.add_argument(
        "--row",
        action="append",
        required=True,
        help="NAME=GLOB of run folders (repeatable; split at the last '=', so NAME may hold '='); "
        "GLOB::SPLIT reads another split of those runs",
    )
    seeds.add_argument("--metric", action="append", required=True)
    seeds.add_argument("--spread", choices=("std", "ci95"), default="std", help="± sample std or 95%% t interval")
    seeds.add_argument("--allow-missing", action="store_true", help="'–' for a metric no run of a row has")
    seeds.add_argument(
        "--baseline",
        default=None,
        help="NAME of a --row: pair the other rows' runs with its runs by "
        "seed, give each mean difference with its 95%% interval, and mark ▲/▼ only the cells whose "
        "interval excludes 0",
    )
    grid = sub.add_parser("kd-grid", help="Matei Table 4: temperature x alpha, with a heat map")
    grid.add_argument("--runs", action="append", required=True, help="GLOB of distillation run folders")
    grid.add_argument("--metric", default="f1_micro")
    grid.add_argument("--png", default=None, help="write the heat map here")
    probs = sub.add_parser("probs", help="Matei Table 6: texts, gold labels and each model's predicted labels (%%)")
    probs.add_argument("--model", action="append", required=True, help="NAME=DIR of a single- or multi-task model")
    probs.add_argument("--task", default="redv2")
    probs.add_argument("--n", type=int, default=4, help="number of texts (a seeded random sample of the split)")
    probs.add_argument("--sample-seed", type=int, default=0)
    probs.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=None,
        help="these rows of the split instead of a sample (Matei's Table 6 texts: REDv2 test rows 110 111 116 119)",
    )
    probs.add_argument("--data-dir", default=None)
    weights = sub.add_parser("task-weights", help="GradNorm task weights averaged over runs (TBED-MTL Fig. 3), as PNG")
    weights.add_argument("--runs", action="append", required=True, help="GLOB of multi-task run folders")
    weights.add_argument("--png", required=True)
    nested = sub.add_parser(
        "json", help="a dict inside the runs' metrics.json (e.g. run.weight_noise_correlations), mean ± std over runs"
    )
    nested.add_argument("--runs", action="append", required=True, help="GLOB of run folders")
    nested.add_argument("--key", required=True, help="dotted path to a dict of numbers")
    nested.add_argument("--spread", choices=("std", "ci95"), default="std")
    for q in (seeds, grid, probs, nested):
        q.add_argument("--split", default="test")
        q.add_argument("--caption", default="")
        q.add_argument("--out", default=None, help="write the Markdown here (else print it)")
    for q in (seeds, grid, probs, weights, nested):
        q.set_defaults(parser=q)


def _pairs(entries: list[str], parser: argparse.ArgumentParser, option: str, last: bool = False) -> dict[str, list]:
    """``NAME=VALUE`` entries as ``{name: [values]}`` (split at the last ``=`` with ``last``)."""
    out: dict[str, list] = {}
    for entry in entries:
        name, sep, value = entry.rpartition("=") if last else entry.partition("=")
        if not sep or not name:
            parser.error(f"{option} {entry!r}: expected NAME=" + ("GLOB" if last else "DIR"))
        out.setdefault(name, []).append(value)
    return out


def run(args: argparse.Namespace) -> int:
    from .. import tables
    from ..report import plot_task_weights

    if args.kind == "task-weights":
        rows, n = tables.mean_task_weights(args.runs)
        plot_task_weights(rows, args.png, title=f"GradNorm task weights (mean of {n} runs)")
        print(
            f"{n} runs; final weights: "
            + ", ".join(f"{k.removeprefix('task_weight_')} {v:.3f}" for k, v in rows[-1].items() if k != "step")
        )
        return 0
    if args.kind == "probs":
        models = {name: paths[-1] for name, paths in _pairs(args.model, args.parser, "--model").items()}
        text = tables.probability_table(
            models,
            task=args.task,
            split=args.split,
            n=args.n,
            sample_seed=args.sample_seed,
            rows=args.rows,
            data_dir=args.data_dir,
            caption=args.caption,
        )
    elif args.kind == "json":
        text = tables.mean_json_table(args.runs, args.key, args.caption, args.spread)
    elif args.kind == "seeds":  # the last '=': a row name may hold one ("MTL D=5")
        text = tables.seed_table(
            _pairs(args.row, args.parser, "--row", last=True),
            args.metric,
            args.split,
            args.caption,
            args.spread,
            args.allow_missing,
            args.baseline,
        )
    else:
        text, (temps, alphas, mean, _) = tables.kd_grid_table(args.runs, args.metric, args.split, args.caption)
        if args.png and len(temps):
            tables.plot_heatmap(
                mean, temps, alphas, args.png, title=f"{args.split} {args.metric} (%)", xlabel="alpha", ylabel="T"
            )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0
