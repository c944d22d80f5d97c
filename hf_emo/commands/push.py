"""``hf-emo push``: upload a trained student with its model card (``--dry-run DIR`` stages it locally)."""

from __future__ import annotations

import argparse
import sys

HELP = "upload a trained student with its model card (--dry-run DIR writes it locally)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output-dir", "--output_dir", dest="output_dir", required=True,
                   help="the run folder (the training job's output_dir; both spellings are read)")  # fmt: skip
    p.add_argument("--repo-id", required=True)
    p.add_argument("--private", action="store_true")
    p.add_argument(
        "--task",
        default=None,
        help="of a multi-task run: upload this task's head as a standalone classifier (default: the whole model)",
    )
    p.add_argument("--token", default=None, help="default: HF_TOKEN or the `hf auth login` token")
    p.add_argument(
        "--dry-run",
        metavar="DIR",
        default=None,
        help="write the card and the exact file set into DIR instead of uploading",
    )


def run(args: argparse.Namespace) -> int:
    from ..jobs.push import HubError, push_run, stage_upload

    if args.dry_run:  # the same checks as the push, with the token it would use
        from huggingface_hub import get_token

        try:
            staged = stage_upload(
                args.output_dir, args.dry_run, args.repo_id, token=args.token or get_token(), task=args.task
            )
        except HubError as e:
            print(f"hf-emo push: {e}", file=sys.stderr)
            return 1
        for f in staged:
            print(f)
        return 0
    try:
        print(push_run(args.output_dir, args.repo_id, private=args.private, token=args.token, task=args.task))
    except HubError as e:
        print(f"hf-emo push: {e}", file=sys.stderr)
        return 1
    return 0
