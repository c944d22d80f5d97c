"""`hf-emo` as the paper-profile test runs it (``tests/test_paper_profiles.py``): the command a recipe issued, with
row and step caps appended so that it runs end to end in seconds on the stand-in models, on the CPU.

    python tests/scripts/paper_profile_cli.py train --config ...     # one command (accelerate launches this file)
    python tests/scripts/paper_profile_cli.py --serve SPOOL           # run the commands that the bash client spools

The caps are the only change to a recipe's command: the configs, scripts and options are the paper profile's.
``--serve`` imports torch and transformers once for every command of every recipe: each request is a file
``SPOOL/<id>.req`` (the working directory, then the arguments, NUL-separated); the answer is ``<id>.out``, ``.err``
and ``<id>.rc`` (written last).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

ROWS, STEPS = "16", "2"
TRAINING = {"train", "distil", "consistency", "generative", "mtl", "stages", "pretrain"}
CAPS = {"pretrain": ["--max_steps", STEPS]}  # its corpus is the stand-in's few hundred texts
DEFAULT_CAPS = [
    "--max_steps",
    STEPS,
    "--max_train_samples",
    ROWS,
    "--max_eval_samples",
    ROWS,
    "--max_test_samples",
    ROWS,
]


def capped(argv: list[str]) -> list[str]:
    """``argv`` with the caps of its command appended (a later option wins over a config's and an earlier one)."""
    if not argv or argv[0] not in TRAINING:
        return list(argv)
    return [*argv, *CAPS.get(argv[0], DEFAULT_CAPS), "--use_cpu", "true", "--report_to", "none"]


def run(argv: list[str]) -> int:
    from hf_emo.cli import main

    try:
        return main(capped(argv))
    except SystemExit as e:  # argparse
        return e.code if isinstance(e.code, int) else 1


def serve(spool: Path) -> None:
    """Answer the spooled requests one after the other until ``SPOOL/stop`` appears."""
    import hf_emo.cli  # noqa: F401  (imported once, for every command)

    log = open(spool / "server.log", "a", encoding="utf-8")  # noqa: SIM115
    while not (spool / "stop").exists():
        requests = sorted(spool.glob("*.req"))
        if not requests:
            time.sleep(0.02)
            continue
        req = requests[0]
        cwd, *argv = req.read_bytes().decode("utf-8").split("\0")[:-1]
        req.unlink()
        out, err = io.StringIO(), io.StringIO()
        start = time.time()
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = run(argv)
            except Exception as e:  # noqa: BLE001  (a trace is a failure the test reports)
                import traceback

                traceback.print_exc()
                rc = 99
                print(f"TRACE {type(e).__name__}: {e}", file=sys.stderr)
        log.write(f"{rc}\t{time.time() - start:.1f}s\t{' '.join(capped(argv))}\n")
        log.flush()
        stem = str(req)[: -len(".req")]
        Path(stem + ".out").write_text(out.getvalue(), encoding="utf-8")
        Path(stem + ".err").write_text(err.getvalue(), encoding="utf-8")
        Path(stem + ".rc").write_text(str(rc), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(Path(sys.argv[2]))
    else:
        sys.exit(run(sys.argv[1:]))
