"""``hf-emo evaluate``: metrics of fine-tuned model(s) on a split; with several ``--model``, their ensemble too."""

from __future__ import annotations

import argparse
import json

from . import positive_int

HELP = "metrics of a fine-tuned model on a split (several --model: their ensemble too)"


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """Where the labelled texts come from: a registered task's split, or a file of one's own."""
    p.add_argument("--task", default=None)
    p.add_argument("--split", default="test")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--file", default=None, help="own labelled file instead of a registered task")
    p.add_argument("--text-column", default="text")
    p.add_argument(
        "--label-columns", nargs="+", default=["label"], help="one column (label names) or one column per label"
    )
    p.add_argument("--problem-type", default=None, help="default: the model's")
    p.add_argument("--label-sep", default=None)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, action="append", help="a fine-tuned model; repeat for an ensemble")
    add_data_arguments(p)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument(
        "--teacher",
        action="append",
        default=[],
        help="teacher model(s): also report the student's loyalty to them (Avram et al. 2022, §5)",
    )
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--output", default=None, help="write the metrics JSON here")


def run(args: argparse.Namespace) -> int:
    from ..jobs.evaluate import evaluate_models, write_json

    if args.teacher and len(args.model) > 1:
        args.parser.error("--teacher goes with one --model (loyalty of one student)")
    res = evaluate_models(
        args.model,
        teachers=args.teacher,
        threshold=args.threshold,
        split=args.split,
        batch_size=args.batch_size,
        task=args.task,
        data_dir=args.data_dir,
        file=args.file,
        text_column=args.text_column,
        label_columns=args.label_columns,
        problem_type=args.problem_type,
        label_sep=args.label_sep,
    )
    text = json.dumps(res, indent=2)
    if args.output:
        write_json(args.output, text)
    print(text)
    return 0
