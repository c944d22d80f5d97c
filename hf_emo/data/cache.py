"""A dataset computed once and kept on disk, keyed by what it was computed from (encoder features, teacher
logits reused across the runs of a study)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import torch
from datasets import Dataset, load_from_disk


def cache_key(ident: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able description."""
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:24]


def weights_digest(model) -> str:
    """SHA-256 of a model's parameters and buffers, in name order: two folders with the same weights share a key,
    a retrained folder at the same path does not."""
    h = hashlib.sha256()
    for name, tensor in sorted({**dict(model.named_parameters()), **dict(model.named_buffers())}.items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=torch.uint8).numpy().tobytes())
    return h.hexdigest()


def disk_cached(cache_dir: str | Path | None, ident: dict[str, Any], compute: Callable[[], Dataset]) -> Dataset:
    """``compute()``, stored under ``cache_dir/<key of ident>`` and loaded from there on later calls.

    The entry is written to a private temporary folder and renamed into place, so runs sharing a cache (parallel
    lanes of a study) never read a half-written entry; when two compute the same entry, the first rename wins and
    the other run loads it."""
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / cache_key(ident)
    if (path / "dataset_info.json").is_file():
        return load_from_disk(str(path))
    out = compute()
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    out.save_to_disk(str(partial))
    try:
        os.rename(partial, path)
    except OSError:  # another run renamed its copy first (a non-empty target cannot be replaced)
        shutil.rmtree(partial, ignore_errors=True)
        if not (path / "dataset_info.json").is_file():
            raise
        return load_from_disk(str(path))
    return out
