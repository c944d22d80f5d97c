"""Make a saved classifier folder usable with transformers alone.

:func:`make_portable` copies :mod:`hf_emo.models.modeling_hf_emo` (torch and transformers only) beside the weights
and names it in ``config.json``: ``auto_map`` for hf_emo's own architectures (the pooled classifier, the
multi-task model), and ``custom_pipelines`` for every classifier, built-in heads included, so that
``pipeline("text-classification", model=..., trust_remote_code=True)`` applies the text prefix, the length limit,
the problem type and the tuned thresholds as ``hf-emo predict`` does. This is transformers' mechanism for custom
architectures (``register_for_auto_class``), done from the folder so that it also upgrades older run folders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import modeling_hf_emo

__all__ = ["CODE_FILE", "make_portable", "portable_config", "is_portable"]

CODE_FILE = "modeling_hf_emo.py"
_MODULE = CODE_FILE[: -len(".py")]
AUTO_MAPS = {
    "hf_emo_pooled_classifier": {
        "AutoConfig": f"{_MODULE}.PooledClassifierConfig",
        "AutoModelForSequenceClassification": f"{_MODULE}.PooledClassifier",
    },
    "hf_emo_multitask": {"AutoConfig": f"{_MODULE}.MultiTaskModelConfig", "AutoModel": f"{_MODULE}.MultiTaskModel"},
}
PIPELINE_TASK = "text-classification"


def _is_classifier(config: dict[str, Any]) -> bool:
    return config.get("model_type") in AUTO_MAPS or any(
        str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or ()
    )


def portable_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` (a ``config.json`` dict) with the ``auto_map`` and ``custom_pipelines`` entries that load it
    through :data:`CODE_FILE`; unchanged when it is not a classifier."""
    if not _is_classifier(config):
        return config
    out = dict(config)
    auto_class = "AutoModel" if config.get("model_type") == "hf_emo_multitask" else "AutoModelForSequenceClassification"
    if config.get("model_type") in AUTO_MAPS:
        out["auto_map"] = {**(config.get("auto_map") or {}), **AUTO_MAPS[config["model_type"]]}
    out["custom_pipelines"] = {
        **(config.get("custom_pipelines") or {}),
        PIPELINE_TASK: {"impl": f"{_MODULE}.EmotionClassificationPipeline", "pt": [auto_class], "type": "text"},
    }
    return out


def _write_code(folder: Path) -> Path:
    code = folder / CODE_FILE
    code.write_text(Path(modeling_hf_emo.__file__).read_text(encoding="utf-8"), encoding="utf-8")
    return code


def make_portable(folder: str | Path) -> list[Path]:
    """Write :data:`CODE_FILE` into ``folder`` and point its ``config.json`` at it (a classifier's folder), or write
    it beside an hf_emo adapter (``GenerativeEmotionClassifier``); any other folder is left as it is. Returns the
    files written."""
    folder = Path(folder)
    path = folder / "config.json"
    if (folder / modeling_hf_emo.GENERATIVE_FILE).is_file() and (folder / "adapter_config.json").is_file():
        return [_write_code(folder)]
    if not path.is_file():
        return []
    config = json.loads(path.read_text(encoding="utf-8"))
    new = portable_config(config)
    if new is config:
        return []
    if new != config:
        path.write_text(json.dumps(new, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [path, _write_code(folder)]


def is_portable(folder: str | Path) -> bool:
    """Whether ``folder`` holds the current :data:`CODE_FILE` and a ``config.json`` that names it."""
    folder = Path(folder)
    try:
        current = (folder / CODE_FILE).read_text(encoding="utf-8") == Path(modeling_hf_emo.__file__).read_text(
            encoding="utf-8"
        )
        if (folder / modeling_hf_emo.GENERATIVE_FILE).is_file():
            return current
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return current and portable_config(config) == config
