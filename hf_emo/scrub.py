"""Scrubbing for public artefacts: secrets out, local paths relative or ``~``-based (records, reports, cards)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["REDACTED", "public_name", "scrub"]

REDACTED = "<redacted>"
# a value under a key like these is a secret, whatever it looks like
SECRET_KEY = re.compile(r"(^|_)(token|secret|password|api_key|apikey)$", re.IGNORECASE)
# Hugging Face user / org tokens anywhere in a string
TOKEN_VALUE = re.compile(r"\bhf_[A-Za-z0-9]{16,}\b")
# `--hub_token X`, `--token=X` in a command line
TOKEN_FLAG = re.compile(r"(--?[\w-]*(?:token|secret|password)[\w-]*)(=|\s+)(\S+)", re.IGNORECASE)


def public_name(value: Any) -> Any:
    """A model / file reference fit for a public artefact: zoo and Hub names as they are, a folder of the offline
    cache as its zoo name, a path under the working directory relative to it, the home folder as ``~``."""
    if not isinstance(value, str) or not value:
        return value
    try:
        from .zoo import ZOO, default_cache_dir

        cache = str(default_cache_dir().resolve())
        resolved = str(Path(value).expanduser().resolve()) if os.sep in value or value.startswith("~") else ""
        if resolved.startswith(cache + os.sep):
            name = Path(resolved).relative_to(cache).parts[0]
            if name in ZOO:
                return name
    except Exception:  # noqa: BLE001  (naming must never fail a run)
        pass
    return _scrub_text(value)


def _scrub_text(text: str) -> str:
    text = TOKEN_FLAG.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = TOKEN_VALUE.sub(REDACTED, text)
    cwd = os.getcwd().rstrip(os.sep) + os.sep
    if cwd != os.sep:
        text = text.replace(cwd, "")
    home = str(Path.home())
    if home not in ("", os.sep):
        text = re.sub(re.escape(home) + r"(?=/|\b)", "~", text)
    return text


def scrub(obj: Any) -> Any:
    """``obj`` with every secret replaced by ``<redacted>`` (values under keys such as ``hub_token``, ``hf_...``
    tokens anywhere, ``--token X`` in command lines) and local paths made relative (working directory) or
    ``~``-based (home)."""
    if isinstance(obj, dict):
        return {
            k: (REDACTED if isinstance(k, str) and SECRET_KEY.search(k) and v not in (None, "", False) else scrub(v))
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [scrub(v) for v in obj]
    if isinstance(obj, str):
        return _scrub_text(obj)
    return obj
