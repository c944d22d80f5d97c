"""A method's command line: ``--config FILE.yaml`` (repeatable; later files override earlier ones) then
``--key value`` overrides, parsed into the job's run arguments and the trainer's config."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["parse_config_args", "parse_method_args", "method_argument_parser", "yaml_to_argv"]


def yaml_to_argv(d: dict) -> list[str]:
    """A config mapping as ``--key value`` arguments (lists spread, mappings and lists of mappings as JSON)."""
    argv = []
    for k, v in d.items():
        if v is None or (isinstance(v, (list, tuple)) and not v):  # null / []: the field's default (a later
            continue  # config can clear an earlier one's list)
        argv.append(f"--{k}")
        if isinstance(v, (list, tuple)) and any(isinstance(x, (dict, list, tuple)) for x in v):
            argv.append(json.dumps(v))  # a list of mappings (e.g. stages) travels as one JSON value
        elif isinstance(v, (list, tuple)):
            argv += [str(x) for x in v]
        elif isinstance(v, bool):
            argv.append(str(v).lower())
        elif isinstance(v, dict):
            argv.append(json.dumps(v))
        else:
            argv.append(str(v))
    return argv


def _read_config(path: str) -> dict:
    import yaml

    if not Path(path).is_file():
        raise ValueError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValueError(f"config file {path}: YAML syntax error{where}: {getattr(e, 'problem', None) or e}") from None
    except UnicodeDecodeError:
        raise ValueError(f"config file {path} is not UTF-8 text") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {path}: expected a mapping of argument names to values")
    return data


def method_argument_parser(dataclass_types: tuple, prog: str | None = None):
    """The ``HfArgumentParser`` of ``dataclass_types`` with ``--config`` listed first (what ``--help`` shows)."""
    from transformers import HfArgumentParser

    parser = HfArgumentParser(dataclass_types, prog=prog)
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="FILE.yaml",
        help="YAML file(s) of these arguments (repeatable: later files override earlier ones; "
        "command-line arguments override both)",
    )
    return parser


def parse_config_args(argv: list[str], dataclass_types: tuple):
    """``--config FILE.yaml`` (repeatable: later files override earlier ones) then ``--key value`` overrides ->
    one instance of each dataclass."""
    from transformers import HfArgumentParser

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", action="append", default=[])
    known, rest = pre.parse_known_args(argv)
    merged: dict = {}
    for path in known.config:
        merged.update(_read_config(path))
    return HfArgumentParser(dataclass_types).parse_args_into_dataclasses(yaml_to_argv(merged) + rest)


def parse_method_args(name: str, argv: list[str]):
    """``(run arguments, config)`` of the registered method ``name`` (``train``, ``distil``, ``mtl``, ...)."""
    from .methods import get_method

    return parse_config_args(argv, get_method(name).argument_classes)
