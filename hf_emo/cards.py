"""Model cards of a trained student, filled from the run folder's ``metrics.json`` and ``config.json`` (or, outside
a job, from what the trainer knows). The method, its settings, tags and citations come from the trainer's own
``MethodDescription`` (``run.method``); nothing here guesses the method."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typing import Any

from .data.spec import TaskSpec
from .method import MethodDescription
from .scrub import scrub

__all__ = ["card_template_path", "render_model_card", "render_trainer_card", "render_multitask_card"]

METRIC_ORDER = (
    "f1_micro",
    "subset_accuracy",
    "precision_micro",
    "recall_micro",
    "f1_macro",
    "accuracy",
    "f1_weighted",
    "precision_weighted",
    "recall_weighted",
    "roc_auc_weighted",
    "pearson_mean",
    "spearman_mean",
    "mse",
    "jaccard_samples",
    "hamming_loss",
)
LANGUAGE_NAMES = {"ro": "Romanian", "en": "English", "en-ro": "English and Romanian", "multi": "multilingual"}


def card_template_path(name: str = "student.md") -> Path:
    """``model_cards/<name>`` of the checkout, or of the installed data files."""
    candidates = [
        Path(__file__).resolve().parents[1] / "model_cards" / name,
        Path(sys.prefix) / "share" / "hf_emo" / "model_cards" / name,
    ]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"model card template not found in {[str(c) for c in candidates]}")


def _fmt(k: str, v) -> str:
    if not isinstance(v, (int, float)):
        return str(v)
    return f"{v:.4f}" if k in ("mse",) or k.startswith(("pearson", "spearman")) else f"{100 * v:.2f}"


def hub_base_model(name: str) -> str | None:
    """The Hub id of a run's base model for the card's ``base_model`` metadata (which must be a Hub id): a zoo
    name's upstream id, a Hub id as it is, ``None`` for a local folder."""
    from .zoo import HUB_ID, ZOO

    if name in ZOO:
        return ZOO[name].hub_id
    if not name or Path(name).expanduser().exists() or not HUB_ID.match(name) or "/" not in name:
        return None
    return name


def public_base_model(name: str) -> str:
    """A base model as a public artefact may name it: its Hub id, else the folder's name (never a local path)."""
    return hub_base_model(name) or Path(name).name


def _base_model_url(name: str) -> str:
    hub_id = hub_base_model(name)
    return f"https://huggingface.co/{hub_id}" if hub_id else "#"


def render_model_card(run_dir: str | Path, repo_id: str | None = None) -> str:
    """The README.md of a run folder written by an hf_emo job (``metrics.json`` and ``config.json``)."""
    run_dir = Path(run_dir)
    mpath, cpath = run_dir / "metrics.json", run_dir / "config.json"
    adapter = _adapter_facts(run_dir)
    if adapter is not None:  # a generative baseline: an adapter folder has no config.json
        cpath = run_dir / "hf_emo_generative.json"
    for p in (mpath, cpath):
        if not p.is_file():
            raise FileNotFoundError(f"{p.name} not found in {run_dir.name}: it is not a finished hf_emo run folder")
    config = json.loads(cpath.read_text())
    if adapter is not None:
        config = {"hf_emo_task": config["task"]}
    return _render(
        json.loads(mpath.read_text()), config, name=run_dir.name, repo_id=repo_id, run_dir=run_dir, adapter=adapter
    )


def _adapter_facts(run_dir: Path) -> dict[str, Any] | None:
    """What the card says of a peft adapter saved by ``GenerativeTrainer`` (``None`` for a full model)."""
    meta_path, adapter_path = run_dir / "hf_emo_generative.json", run_dir / "adapter_config.json"
    if not (meta_path.is_file() and adapter_path.is_file()):
        return None
    meta, cfg = json.loads(meta_path.read_text()), json.loads(adapter_path.read_text())
    targets = cfg.get("target_modules") or []
    return {
        "kind": "LoRA",
        "r": cfg.get("r"),
        "alpha": cfg.get("lora_alpha"),
        "target_modules": sorted(targets) if isinstance(targets, list) else [str(targets)],
        "base": public_base_model(meta.get("base_model") or cfg.get("base_model_name_or_path") or ""),
        "label_mode": meta["label_mode"],
        "template": meta["prompt"]["template"],
        "verbalisers": meta["prompt"]["verbalisers"],
    }


GEMMA_TERMS_NOTE = (
    "The base model is Gemma, provided under and subject to the Gemma Terms of Use "
    "(ai.google.dev/gemma/terms); this adapter is a modification of it and is distributed under those "
    "terms, including the use restrictions of their Section 3.2. A copy of the terms "
    "(GEMMA_TERMS.html) and the NOTICE file are in this repository."
)


def licence_of(base: str | None) -> tuple[str, str]:
    """``(card licence, licence note)`` for a base model: Gemma's own terms where they apply."""
    if base and "gemma" in str(base).lower():
        return "gemma", GEMMA_TERMS_NOTE
    return "apache-2.0", ""


def render_trainer_card(
    record: dict[str, Any], config: dict[str, Any], *, name: str, repo_id: str | None = None
) -> str:
    """The card of a trainer outside an hf_emo job (``trainer.push_to_hub()`` in another project): ``record`` is
    ``metrics.json``-shaped (``{"validation": {...}, "run": {"method": ..., "model": ..., "seed": ...}}``)."""
    return _render(scrub(record), config, name=name, repo_id=repo_id, run_dir=None)


def _render(
    res: dict, config: dict, *, name: str, repo_id: str | None, run_dir: Path | None, adapter: dict | None = None
) -> str:
    method = MethodDescription.from_dict(res.get("run", {}).get("method"), f"{name}/metrics.json")
    if config.get("model_type") == "hf_emo_multitask":
        return render_multitask_card(res, config, method, name=name, repo_id=repo_id, run_dir=run_dir)
    if "hf_emo_task" not in config:
        raise ValueError(
            f"{name}/config.json has no hf_emo_task: the card needs the task spec hf_emo saves with a model"
        )
    return _render_single(res, config, method, name=name, repo_id=repo_id, run_dir=run_dir, adapter=adapter)


def _render_single(
    res: dict,
    config: dict,
    method: MethodDescription,
    *,
    name: str,
    repo_id: str | None,
    run_dir: Path | None,
    adapter: dict | None = None,
) -> str:
    import transformers
    from huggingface_hub import ModelCard, ModelCardData

    from .version import __version__

    run = res.get("run", {})
    spec = TaskSpec.from_dict(config["hf_emo_task"])
    kd = _teacher_facts(run, method)
    teachers = kd.get("teachers") or []
    base = run.get("model", "")
    base_id = hub_base_model(base)
    repo_id = repo_id or f"your-name/{name}"
    cols = [c for c in ("test", "test_tuned", "test_stage1", "test_teacher") if c in res] or [
        c for c in ("validation",) if c in res
    ]
    labels = {
        "test": "student",
        "test_tuned": "student (tuned threshold)",
        "test_teacher": "teacher",
        "test_stage1": "student before refinement",
        "validation": "validation",
    }
    if method.settings.get("translation_column"):
        labels["test_teacher"] = f"teacher on `{method.settings['translation_column']}` (reference)"
    keys = [k for k in METRIC_ORDER if any(k in res[c] for c in cols)]
    rows = [{"name": k, "values": [_fmt(k, res[c].get(k, "")) for c in cols]} for k in keys]
    for k, v in (res.get("test_loyalty") or {}).items():
        rows.append({"name": k, "values": [_fmt(k, v)] + [""] * (len(cols) - 1)})
    settings = [(k, run.get(k)) for k in ("pooling", "max_length") if run.get(k) is not None]
    settings += [(k, v) for k, v in method.settings.items() if v is not None and k not in TEACHER_KEYS]
    secs = run.get("train_runtime_s")
    licence, licence_note = licence_of(base)
    card_data = ModelCardData(
        language=spec.language,
        license=licence,
        library_name="peft" if adapter else "transformers",
        base_model=base_id or None,
        pipeline_tag="text-classification",
        metrics=list(keys[:4]),
        tags=list(dict.fromkeys([*method.tags, spec.name])),
        model_name=name,
    )
    card = ModelCard.from_template(
        card_data,
        template_path=str(card_template_path()),
        model_name=name,
        repo_id=repo_id,
        base_model=base_id or f"a local model ({Path(base).name or 'unnamed'})",
        base_model_url=_base_model_url(base),
        summary=f"`{base_id or Path(base).name or name}` trained on `{spec.name}` by hf_emo's `{method.trainer}` "
        f"({method.name.lower()}).",
        teachers=teachers,
        teacher_column=kd.get("teacher_column"),
        task=spec.to_dict(),
        split_sizes=run.get("split_sizes", {}),
        substitutions=run.get("substitutions", []),
        method=method.summary,
        settings=settings,
        threshold=run.get("threshold", 0.5),
        tuned="test_tuned" in res,
        base_threshold=res.get(cols[0] if cols else "test", {}).get("threshold", 0.5),
        language_name=LANGUAGE_NAMES.get(spec.language, spec.language),
        metric_columns=[labels[c] for c in cols],
        on_test=bool(cols) and cols[0] != "validation",
        metric_rows=rows,
        has_confusion=run_dir is not None and (run_dir / "confusion_matrix.png").is_file(),
        text_prefix=config.get("text_prefix", ""),
        max_length=run.get("max_length"),
        example_text="Ce zi frumoasă, sunt atât de fericit!" if spec.language == "ro" else "What a lovely day!",
        command=run.get("command", ""),
        runtime=f"{secs / 60:.1f} min" if secs else "",
        machine=run.get("machine", "the machine recorded in metrics.json"),
        trainer=method.trainer,
        hf_emo_version=__version__,
        transformers_version=transformers.__version__,
        adapter=adapter,
        licence_note=licence_note,
        bibtex=method.bibtex((spec.citation or _registered_citation(spec.name),)),
    )
    return str(card)


def render_multitask_card(
    res: dict,
    config: dict,
    method: MethodDescription,
    *,
    name: str,
    repo_id: str | None = None,
    run_dir: Path | None = None,
) -> str:
    """The README.md of a multi-task model: every task's data and test metrics, the method, the label correlation
    and GradNorm plots."""
    import transformers
    from huggingface_hub import ModelCard, ModelCardData

    from .version import __version__

    run = res.get("run", {})
    specs = [TaskSpec.from_dict(t) for t in config["tasks"]]
    base = run.get("model", "")
    base_id = hub_base_model(base)
    repo_id = repo_id or f"your-name/{name}"
    kd = _teacher_facts(run, method)
    sizes = run.get("split_sizes", {})
    tasks = [
        {
            **s.to_dict(),
            "sizes": " / ".join(str(sizes.get(s.name, {}).get(k, "–")) for k in ("train", "validation", "test")),
        }
        for s in specs
    ]
    cols = [c for c in ("test", "test_tuned") if c in res] or [c for c in ("validation",) if c in res]
    rows = []
    for spec in specs:
        for k in METRIC_ORDER:
            key = f"{spec.name}_{k}"
            if any(key in res[c] for c in cols):
                rows.append({"task": spec.name, "name": k, "values": [_fmt(k, res[c].get(key, "")) for c in cols]})
    settings = [
        (k, run.get(k))
        for k in (
            "head_layout",
            "shared_layer_size",
            "pooling",
            "max_length",
            "freeze_encoder",
            "train_fraction",
            "max_train_samples",
            "thresholds",
        )
        if run.get(k) not in (None, {}, "")
    ]
    settings += [(k, v) for k, v in method.settings.items() if v not in (None, {}, "") and k not in TEACHER_KEYS]
    subs = [
        f"`{s.name}`: {s.split_note}"
        for s in specs
        if "substitute" in s.description.lower() or "re-split" in s.split_note
    ]
    if run.get("max_train_samples") or run.get("train_fraction"):
        subs.append(
            f"training sets reduced: caps {run.get('max_train_samples') or {}}, fractions "
            f"{run.get('train_fraction') or {}}"
        )
    primary = run.get("primary_task", specs[0].name)
    lang = next(s.language for s in specs if s.name == primary)
    card_data = ModelCardData(
        language=sorted({s.language for s in specs}),
        license="apache-2.0",
        library_name="transformers",
        base_model=base_id or None,
        pipeline_tag="text-classification",
        tags=list(dict.fromkeys([*method.tags, *[s.name for s in specs]])),
        model_name=name,
    )
    secs = run.get("train_runtime_s")
    shown = f"`{base_id or Path(base).name or name}`"
    card = ModelCard.from_template(
        card_data,
        template_path=str(card_template_path("multitask.md")),
        model_name=name,
        repo_id=repo_id,
        base_model=base_id or f"a local model ({Path(base).name or 'unnamed'})",
        base_model_url=_base_model_url(base),
        summary=(
            f"{shown} trained on {len(specs)} tasks at once"
            if len(specs) > 1
            else f"{shown} trained on one task (the single-task baseline of a multi-task study)"
        )
        + f" by hf_emo's `{method.trainer}`"
        + (" with multi-task knowledge distillation." if kd.get("teachers") or kd.get("teacher_columns") else "."),
        tasks=tasks,
        primary_task=primary,
        teachers=kd.get("teachers") or {},
        teacher_columns=kd.get("teacher_columns") or {},
        substitutions=subs,
        method=method.summary,
        settings=settings,
        tuned="test_tuned" in res,
        metric_columns=[{"test": "test", "test_tuned": "test (tuned)", "validation": "validation"}[c] for c in cols],
        on_test=bool(cols) and cols[0] != "validation",
        metric_rows=rows,
        head_layout=config.get("head_layout"),
        has_correlation=run_dir is not None and (run_dir / "label_correlation.png").is_file(),
        has_weights=run_dir is not None and (run_dir / "task_weights.png").is_file(),
        text_prefix=config.get("text_prefix", ""),
        example_text="Ce zi frumoasă, sunt atât de fericit!" if lang == "ro" else "What a lovely day!",
        max_length=run.get("max_length"),
        command=run.get("command", ""),
        runtime=f"{secs / 60:.1f} min" if secs else "",
        machine=run.get("machine", ""),
        hf_emo_version=__version__,
        transformers_version=transformers.__version__,
        bibtex=method.bibtex(tuple(s.citation or _registered_citation(s.name) for s in specs)),
    )
    return str(card)


def _registered_citation(name: str) -> str:
    from .data import TASKS

    return TASKS[name].citation if name in TASKS else ""


TEACHER_KEYS = ("teachers", "teacher_column", "teacher_columns")  # shown in the card's own teacher lines


def _teacher_facts(run: dict, method: MethodDescription) -> dict[str, Any]:
    """The teachers of a run as its method records them (``run.method.settings``); a run folder written before
    the method held them keeps them in ``run.distillation`` or ``run.teachers``."""
    old = run.get("distillation") or {}
    facts = {k: method.settings.get(k, old.get(k)) for k in TEACHER_KEYS}
    if not facts["teachers"] and run.get("teachers"):
        facts["teachers"] = run["teachers"]
    return facts
