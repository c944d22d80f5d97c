"""Every command every recipe script issues, for both profiles, the default one and an unknown one, with
``hf-emo`` (and ``accelerate``, ``python``) replaced by stubs that only print their arguments: a recipe refactor
that changes none of them leaves this trace unchanged.

    python bench/recipe_commands.py --checkout . --out /tmp/after.txt
    python bench/recipe_commands.py --checkout /tmp/before --out /tmp/before.txt && diff /tmp/before.txt /tmp/after.txt

Each script runs in a fresh copy of the checkout's ``recipes/`` (no ``runs/``: every study step runs), with the
environment words of ``tests/test_paper_profiles.py``'s list (``SEEDS``, ``ONLY``, ``GRID``) and ``SEEDS=42``;
the copy's path is written as ``<root>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STUB = '#!/usr/bin/env bash\necho "{name} $*" >> "$RECIPE_TRACE"\n'


def entries() -> list[tuple[dict[str, str], str, list[str]]]:
    """The paper-profile test's script list: ``(environment, script, arguments)`` per entry."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.test_paper_profiles import SCRIPTS, _parse

    return [_parse(entry) for entry in SCRIPTS]


def trace(checkout: Path) -> str:
    lines = []
    for env_words, script, extra in entries():
        if not (checkout / "recipes" / script).is_file():
            lines.append(f"## {script}: missing")
            continue
        for profile in ("embedded", "paper", None, "gpu"):  # None: the script's default profile; gpu: refused
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp) / "checkout"
                shutil.copytree(checkout / "recipes", root / "recipes")
                (root / "bench").symlink_to(checkout / "bench")
                bin_dir = root / ".bin"
                bin_dir.mkdir()
                for name in ("hf-emo", "accelerate", "python"):
                    (bin_dir / name).write_text(STUB.format(name=name))
                    (bin_dir / name).chmod(0o755)
                log = root / "trace.txt"
                log.touch()
                env = {
                    "PATH": f"{bin_dir}:/usr/bin:/bin",
                    "HF_EMO_BIN": str(bin_dir / "hf-emo"),
                    "RECIPE_TRACE": str(log),
                    "SEEDS": "42",
                    "HOME": tmp,
                    **env_words,
                }
                proc = subprocess.run(
                    ["bash", str(root / "recipes" / script), *(["--profile", profile] if profile else []), *extra],
                    env=env,
                    cwd=root,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                words = " ".join([*(f"{k}={v}" for k, v in env_words.items()), script, *extra])
                lines.append(f"## {words}{f' --profile {profile}' if profile else ''}: rc {proc.returncode}")
                lines += [ln.replace(str(root), "<root>") for ln in log.read_text().splitlines()]
                if proc.returncode:
                    tail = (proc.stderr.strip().splitlines() or [""])[-1]
                    lines.append("stderr: " + tail.replace(str(root), "<root>"))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.pop("OUT", None)
    args.out.write_text(trace(args.checkout.resolve()), encoding="utf-8")
    print(args.out)


if __name__ == "__main__":
    main()
