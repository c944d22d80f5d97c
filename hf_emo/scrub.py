"""Scrubbing for public artefacts: secrets out, local paths relative or ``~``-based (records, reports, cards)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["REDACTED", "public_name", "scrub", "redact_secret_arguments"]

REDACTED = "<redacted>"
# a value under a key like these is a secret, whatever it looks like
SECRET_KEY = re.compile(r"(^|_)(token|secret|password|api_key|apikey)$", re.IGNORECASE)
# Hugging Face user / org tokens anywhere in a string: the full form (what an upload is scanned for)...
TOKEN_VALUE = re.compile(r"\bhf_[A-Za-z0-9]{16,}\b")
# ... and any length, in the text hf_emo writes itself (records, reports, cards); `hf_emo` is the package
ANY_TOKEN_VALUE = re.compile(r"\bhf_(?!emo\b)[A-Za-z0-9]+\b")
# an absolute local path (two or more parts) that is neither under the working directory nor the home folder
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~])/(?:[\w.@+-]+/)+[\w.@+-]*")
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


def _scrub_text(text: str, names_only: bool = False) -> str:
    """Secrets out; the working directory dropped, the home folder as ``~``; with ``names_only`` (the text of a
    record, report or card, never read back as a path) any other absolute path reduced to its last part."""
    text = TOKEN_FLAG.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = ANY_TOKEN_VALUE.sub(REDACTED, text)
    cwd = os.getcwd().rstrip(os.sep) + os.sep
    if cwd != os.sep:
        text = text.replace(cwd, "")
    home = str(Path.home())
    if home not in ("", os.sep):
        text = re.sub(re.escape(home) + r"(?=/|\b)", "~", text)
    if not names_only:  # a reference a later step may load from (a base model, a teacher): still a path
        return text
    # any other absolute path (/data/..., /tmp/...): its last part, the file or folder name
    return ABSOLUTE_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1] or m.group(0), text)


def scrub(obj: Any) -> Any:
    """``obj`` (a record, a report's or a card's facts) with every secret replaced by ``<redacted>`` (values under
    keys such as ``hub_token``, ``hf_...`` tokens anywhere, ``--token X`` in command lines) and local paths made
    relative (working directory), ``~``-based (home) or, anywhere else (``/data/...``, ``/tmp/...``), reduced to
    their file or folder name."""
    if isinstance(obj, dict):
        return {
            k: (REDACTED if isinstance(k, str) and SECRET_KEY.search(k) and v not in (None, "", False) else scrub(v))
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [scrub(v) for v in obj]
    if isinstance(obj, str):
        return _scrub_text(obj, names_only=True)
    return obj


def redact_secret_arguments(argv: list[str], field_names: list[str]) -> list[str]:
    """``argv`` with the value of every option that names a secret field redacted, however it was spelled: in full,
    abbreviated (argparse takes ``--hub_tok`` for ``--hub_token``) or as ``--opt=value``."""
    secret = {name for name in field_names if SECRET_KEY.search(name)}
    out, hide_next = [], False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        flag, eq, _ = arg.partition("=")
        if flag.startswith("--"):
            key = flag[2:].replace("-", "_")
            hits = [n for n in field_names if n == key] or [n for n in field_names if n.startswith(key)]
            if len(hits) == 1 and hits[0] in secret:
                if eq:
                    out.append(f"{flag}={REDACTED}")
                    continue
                hide_next = True
        out.append(arg)
    return out
