"""``hf-emo``: the command line. It only builds the parsers and dispatches: the training methods come from the
registry (:mod:`hf_emo.jobs.methods`), every other command from its module in :mod:`hf_emo.commands`."""

from __future__ import annotations

import argparse
import os
import sys

from .commands import NAMES, command_module


def usage() -> str:
    """``hf-emo --help``: every registered method and command with its one-line help."""
    from .jobs.methods import METHODS, ordered_methods

    rows = [(m.name, m.help) for m in ordered_methods()] + [(n, command_module(n).HELP) for n in NAMES]
    width = max(len(n) for n, _ in rows) + 2
    return (
        "usage: hf-emo COMMAND [--help] ...\n\ntraining methods (--config FILE.yaml [--key value ...]):\n"
        + "\n".join(f"  {n:{width}}{h}" for n, h in rows[: len(METHODS)])
        + "\n\nother commands:\n"
        + "\n".join(f"  {n:{width}}{h}" for n, h in rows[len(METHODS) :])
    )


def run_command(name: str, argv: list[str]) -> int:
    """A command of :mod:`hf_emo.commands`: its own parser, then its ``run``."""
    module = command_module(name)
    parser = argparse.ArgumentParser(prog=f"hf-emo {name}", description=module.HELP)
    module.add_arguments(parser)
    parser.set_defaults(parser=parser)
    return module.run(parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name = argv[0]
    import hf_emo.models  # noqa: F401  (registers the model classes with the Auto* factories)

    try:
        if name in NAMES:
            return run_command(name, argv[1:])
        from .commands.method import run_method
        from .jobs.methods import METHODS

        if name not in METHODS:
            print(f"hf-emo: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
            return 2
        return run_method(name, argv[1:])
    except KeyboardInterrupt:
        print(f"hf-emo {name}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, KeyError) as e:  # bad input: one sentence, no trace (HF_EMO_DEBUG=1 shows it)
        if os.environ.get("HF_EMO_DEBUG"):
            raise
        message = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
        _close_progress_bars()  # an error raised mid-bar starts its own line
        print(f"hf-emo {name}: error: {message}", file=sys.stderr)
        return 2


def _close_progress_bars() -> None:
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", None) or ()):
        bar.close()


if __name__ == "__main__":
    sys.exit(main())
