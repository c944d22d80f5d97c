"""``hf-emo <method>``: a registered training method (``train``, ``distil``, ``mtl``, ``stages``, ``consistency``,
``generative``, ``pretrain``, or one of yours), its two argument dataclasses filled from ``--config`` files and
``--key value`` overrides."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path


def run_method(name: str, argv: list[str]) -> int:
    """Parse the method's arguments, run its job, print the metrics and where the report is."""
    from ..jobs.arguments import method_argument_parser, parse_config_args
    from ..jobs.methods import get_method
    from ..jobs.record import command_line
    from ..scrub import redact_secret_arguments

    method = get_method(name)
    if any(a in ("-h", "--help") for a in argv):
        parser = method_argument_parser(method.argument_classes, prog=f"hf-emo {name}")
        parser.description = method.help
        parser.print_help()
        return 0
    run, config = parse_config_args(argv, method.argument_classes)
    fields = [f.name for cls in method.argument_classes for f in dataclasses.fields(cls)]
    command = command_line(f"hf-emo {name}", redact_secret_arguments(argv, fields))
    try:
        out = method.run(run, config, command=command)
    finally:
        _end_process_group()
    if config.process_index == 0:
        print(json.dumps(out["metrics"], indent=2))
        print(f"report: {Path(config.output_dir) / 'report.md'}")
    return 0


def _end_process_group() -> None:
    """Under ``accelerate launch`` / torchrun, leave the process group before exiting (rank 0 aborts otherwise)."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
