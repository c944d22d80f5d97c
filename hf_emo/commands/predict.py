"""``hf-emo predict``: labels and probabilities for texts, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import positive_int

HELP = "labels and probabilities for texts (table or JSON)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True)
    p.add_argument("texts", nargs="*", help="texts (or use --input; '-' reads lines from stdin)")
    p.add_argument("--input", default=None, help="a text file, one text per line (blank lines are skipped)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--batch-size", type=positive_int, default=32)


def run(args: argparse.Namespace) -> int:
    from ..jobs.predict import format_table, predict_rows

    texts = list(args.texts)
    if args.input:
        texts += read_lines(args.input)
    if not texts:
        args.parser.error("no texts given")
    rows = predict_rows(args.model, texts, threshold=args.threshold, batch_size=args.batch_size)
    print(json.dumps(rows, ensure_ascii=False, indent=2) if args.format == "json" else format_table(rows))
    return 0


def read_lines(path: str) -> list[str]:
    """The non-blank lines of a UTF-8 text file (``-``: standard input)."""
    if path == "-":
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not Path(path).is_file():
        raise ValueError(f"input file {path} does not exist")
    try:
        return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as e:
        raise ValueError(f"input file {path} is not UTF-8 text (byte {e.start})") from None
