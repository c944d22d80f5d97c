"""hf_emo: Hugging Face Trainer subclasses for text emotion recognition.

Public API (see README): data (``load_task``, ``load_local``, ``TASKS``, ``TaskSpec``), offline models
(``materialize``), models (``PooledClassifier``, ``build_classifier``, ``MultiTaskModel``), metrics, losses (by name:
``get_supervised_loss``, ``register_loss``, ``register_kd_loss``) and trainers (``EmotionTrainer``,
``DistillationTrainer``, ``MultiTaskTrainer``, ``ConsistencyDistillationTrainer``), cross-lingual building blocks
(translation-quality weights, ``translate_column``, ensembles, trigger words).

Names are imported on first use (PEP 562), so ``import hf_emo`` costs no more than ``import transformers``; the
command line and the jobs pull in torch and the Trainers only when they run.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .noise import silence_known_noise

silence_known_noise()  # before transformers imports peft, which imports bitsandbytes

from .version import __version__  # noqa: E402,F401

# the modules whose public names (their own ``__all__``, the one list of each) the package exports
_PUBLIC_MODULES = (
    "data",
    "callbacks",
    "ensemble",
    "explain",
    "features",
    "gradnorm",
    "cards",
    "inference",
    "jobs.push",
    "losses",
    "metrics",
    "models",
    "quality_weights",
    "schedules",
    "teachers",
    "trainers",
    "generative",
    "translate",
    "zoo",
)


@functools.cache
def _index() -> dict[str, str]:
    """``{public name: module}``, read from each public module's ``__all__`` without importing it (a literal list in
    its source), so ``import hf_emo`` stays as cheap as ``import transformers``."""
    here = Path(__file__).parent
    where: dict[str, str] = {}
    for module in _PUBLIC_MODULES:
        path = here.joinpath(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                for name in ast.literal_eval(node.value):
                    where.setdefault(name, module)
    return where


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return sorted(_index())
    module = _index().get(name)
    if module is None:
        raise AttributeError(f"module 'hf_emo' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_index()))


if TYPE_CHECKING:  # static analysers and IDEs see every name, from the same lists
    from .callbacks import *  # noqa: F403
    from .cards import *  # noqa: F403
    from .data import *  # noqa: F403
    from .ensemble import *  # noqa: F403
    from .explain import *  # noqa: F403
    from .features import *  # noqa: F403
    from .generative import *  # noqa: F403
    from .gradnorm import *  # noqa: F403
    from .inference import *  # noqa: F403
    from .jobs.push import *  # noqa: F403
    from .losses import *  # noqa: F403
    from .metrics import *  # noqa: F403
    from .models import *  # noqa: F403
    from .quality_weights import *  # noqa: F403
    from .schedules import *  # noqa: F403
    from .teachers import *  # noqa: F403
    from .trainers import *  # noqa: F403
    from .translate import *  # noqa: F403
    from .zoo import *  # noqa: F403
