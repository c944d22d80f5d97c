"""``hf-emo data``: the registered tasks and their statistics."""

from __future__ import annotations

import argparse
import json

HELP = "the registered tasks and their statistics"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", action="append", help="only these tasks")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from ..data.stats import task_statistics

    out = task_statistics(args.task, args.data_dir)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"{'task':16} {'type':13} {'lang':4} {'labels':>6} {'train':>7} {'valid':>6} {'test':>6}  metric")
    for n, e in out.items():
        r = e.get("rows", {})
        print(
            f"{n:16} {e['problem_type']:13} {e['language']:4} {len(e['labels']):>6} {r.get('train', '-'):>7} "
            f"{r.get('validation', '-'):>6} {r.get('test', '-'):>6}  {e['metric']}"
            + (f"  [{e['error']}]" if "error" in e else "")
        )
    return 0
