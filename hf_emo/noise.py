"""Known-harmless log lines of the libraries under hf_emo, filtered at their source (one logger, one message
prefix each), so that real warnings stand out."""

from __future__ import annotations

import logging

# (logger name, message prefix, why it is harmless)
KNOWN_NOISE = (
    (
        "bitsandbytes.backends.cpu.ops",
        "Failed to load CPU gemm_4bit_forward",
        "bitsandbytes falls back to its own CPU 4-bit kernel when the optional `kernels` package is absent",
    ),
)


class _DropPrefix(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def silence_known_noise() -> None:
    """Install the filters once (idempotent); call before the libraries are imported."""
    for name, prefix, _why in KNOWN_NOISE:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropPrefix) and f.prefix == prefix for f in logger.filters):
            logger.addFilter(_DropPrefix(prefix))
