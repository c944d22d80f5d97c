"""``hf-emo explain``: per-word trigger highlights of a classifier (Wang et al. 2024 §3.4), in the terminal and
optionally as an HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import positive_int

HELP = "trigger words of a classifier, highlighted in the terminal and as HTML"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Zero-shot trigger words of a fine-tuned classifier: each word's cosine similarity to the "
        "<s>/[CLS] token's last state."
    )
    p.add_argument("model", help="a fine-tuned classifier: folder or Hub id")
    p.add_argument("text", nargs="*", help="texts to explain")
    p.add_argument("--file", default=None, help="a text file, one text per line")
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="trigger threshold (tune it on annotated data "
        "with hf_emo.explain.tune_trigger_threshold); default: the model's config.hf_emo_trigger_threshold"
        ", else per text the mean + one standard deviation of its word scores",
    )
    p.add_argument("--html", default=None, help="also write the highlights to this HTML file")
    p.add_argument("--no-color", action="store_true", help="mark triggers as [word] instead of ANSI colours")
    p.add_argument("--batch-size", type=positive_int, default=32)


def run(args: argparse.Namespace) -> int:
    from ..explain import explain_texts, render_html, render_terminal

    texts = list(args.text)
    if args.file:
        texts += [ln.strip() for ln in Path(args.file).read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not texts:
        args.parser.error("give texts as arguments or --file")
    items, labels, thresholds = explain_texts(args.model, texts, threshold=args.threshold, batch_size=args.batch_size)
    for item, label, thr in zip(items, labels, thresholds):
        print(f"{label}\t{render_terminal(item, thr, color=False if args.no_color else None)}")
    if args.html:
        Path(args.html).write_text(render_html(items, thresholds, labels=labels), encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    return 0
