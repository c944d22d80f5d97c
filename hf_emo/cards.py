"""Model cards of a trained student, filled from the run folder's ``metrics.json`` and ``config.json`` (or, outside
a job, from what the trainer knows). The method, its settings, tags and citations come from the trainer's own
``MethodDescription`` (``run.method``); nothing here guesses the method."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
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
# hf_emo's metric -> (Hub metric id, shown name, the metric's arguments) for the card's model-index
HUB_METRICS: dict[str, tuple[str, str, dict | None]] = {
    "accuracy": ("accuracy", "Accuracy", None),
    "subset_accuracy": ("exact_match", "Subset accuracy", None),
    "f1_micro": ("f1", "F1 (micro)", {"average": "micro"}),
    "f1_macro": ("f1", "F1 (macro)", {"average": "macro"}),
    "f1_weighted": ("f1", "F1 (weighted)", {"average": "weighted"}),
    "precision_micro": ("precision", "Precision (micro)", {"average": "micro"}),
    "recall_micro": ("recall", "Recall (micro)", {"average": "micro"}),
    "precision_weighted": ("precision", "Precision (weighted)", {"average": "weighted"}),
    "recall_weighted": ("recall", "Recall (weighted)", {"average": "weighted"}),
    "roc_auc_weighted": ("roc_auc", "ROC AUC (weighted)", {"average": "weighted"}),
    "jaccard_samples": ("jaccard", "Jaccard (samples)", {"average": "samples"}),
    "hamming_loss": ("hamming_loss", "Hamming loss", None),
    "pearson_mean": ("pearsonr", "Pearson r (mean over dimensions)", None),
    "spearman_mean": ("spearmanr", "Spearman rho (mean over dimensions)", None),
    "mse": ("mse", "MSE", None),
}
# the licences of the base models in the zoo and the recipes, as their Hub cards state them (by lower-case Hub id;
# an id of the Hub's first models, e.g. bert-base-uncased, reaches its entry through hub_base_model)
BASE_MODEL_LICENCES = {
    "intfloat/multilingual-e5-small": "mit",
    "intfloat/multilingual-e5-base": "mit",
    "sentence-transformers/all-minilm-l6-v2": "apache-2.0",
    "sentence-transformers/all-mpnet-base-v2": "apache-2.0",
    "huggingfacetb/smollm2-135m": "apache-2.0",
    "huggingfacetb/smollm2-135m-instruct": "apache-2.0",
    "dumitrescustefan/bert-base-romanian-cased-v1": "mit",
    "dumitrescustefan/bert-base-romanian-uncased-v1": "mit",
    "google-bert/bert-base-uncased": "apache-2.0",
    "google-bert/bert-base-cased": "apache-2.0",
    "google-bert/bert-base-multilingual-cased": "apache-2.0",
    "distilbert/distilbert-base-uncased": "apache-2.0",
    "distilbert/distilbert-base-multilingual-cased": "apache-2.0",
    "facebookai/roberta-base": "mit",
    "facebookai/roberta-large": "mit",
    "facebookai/xlm-roberta-base": "mit",
    "facebookai/xlm-roberta-large": "mit",
    "facebook/xlm-roberta-xl": "mit",
    "eleutherai/pythia-410m": "apache-2.0",
    "bigscience/bloom-7b1": "bigscience-bloom-rail-1.0",
    "bigscience/bloomz-7b1": "bigscience-bloom-rail-1.0",
}


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
    if not name or Path(name).expanduser().exists() or not HUB_ID.match(name):
        return None
    if "/" not in name:  # a canonical id of the Hub's first models, now under its organisation
        org = next((org for prefix, org in _LEGACY_PREFIXES if name.startswith(prefix)), None)
        return f"{org}/{name}" if org else None
    return name


# the Hub's first models had ids without an organisation; they now live under one
_LEGACY_PREFIXES = (("bert-", "google-bert"), ("distilbert-", "distilbert"), ("roberta-", "FacebookAI"),
                    ("xlm-roberta-", "FacebookAI"), ("gpt2", "openai-community"))  # fmt: skip


def public_base_model(name: str) -> str:
    """A base model as a public artefact may name it: its Hub id, else the folder's name (never a local path)."""
    return hub_base_model(name) or Path(name).name


def _base_model_url(name: str) -> str:
    hub_id = hub_base_model(name)
    return f"https://huggingface.co/{hub_id}" if hub_id else "#"


def render_model_card(run_dir: str | Path, repo_id: str | None = None, *, task: str | None = None) -> str:
    """The README.md of a run folder written by an hf_emo job (``metrics.json`` and ``config.json``); ``task``:
    the card of that task's head of a multi-task model, uploaded alone (``hf-emo push --task``)."""
    run_dir = Path(run_dir)
    mpath, cpath = run_dir / "metrics.json", run_dir / "config.json"
    adapter = _adapter_facts(run_dir)
    if adapter is not None:  # a generative baseline: an adapter folder has no config.json
        cpath = run_dir / "hf_emo_generative.json"
    for p in (mpath, cpath):
        if not p.is_file():
            raise FileNotFoundError(f"{p.name} not found in {run_dir.name}: it is not a finished hf_emo run folder")
    config, record = json.loads(cpath.read_text()), json.loads(mpath.read_text())
    if adapter is not None:
        config = {"hf_emo_task": config["task"]}
    if task is not None:
        record, config = task_record(record, config, task)
    return _render(record, config, name=run_dir.name, repo_id=repo_id, run_dir=run_dir, adapter=adapter)


def task_record(record: dict, config: dict, task: str) -> tuple[dict, dict]:
    """``(record, config)`` of one task of a multi-task run, shaped as a single-task run's: its metrics without the
    task's prefix, its split sizes and tuned threshold, its task spec."""
    specs = {t["name"]: t for t in config.get("tasks", [])}
    if task not in specs:
        raise ValueError(f"task {task!r} is not one of the model's tasks {sorted(specs)}")
    prefix = f"{task}_"
    out = {
        split: {k[len(prefix) :]: v for k, v in metrics.items() if k.startswith(prefix)}
        for split, metrics in record.items()
        if split != "run" and isinstance(metrics, dict)
    }
    out = {split: metrics for split, metrics in out.items() if metrics}
    run = dict(record.get("run", {}))
    run["split_sizes"] = (run.get("split_sizes") or {}).get(task, {})
    threshold = (run.get("thresholds") or config.get("thresholds") or {}).get(task)
    if threshold is not None:
        run["threshold"] = threshold
    out["run"] = run
    return out, {"hf_emo_task": specs[task], "text_prefix": config.get("text_prefix", "")}


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
    """``(card licence, licence note)`` of a model trained from ``base``: the base model's licence (Gemma's own
    terms where they apply); ``unknown`` with a note for a base model whose licence hf_emo does not know."""
    if base and "gemma" in str(base).lower():
        return "gemma", GEMMA_TERMS_NOTE
    hub_id = (hub_base_model(base or "") or "").lower()
    if hub_id in BASE_MODEL_LICENCES:
        return BASE_MODEL_LICENCES[hub_id], ""
    shown = hub_base_model(base or "") or Path(base or "").name or "the base model"
    return "unknown", (
        f"hf_emo does not know the licence of `{shown}`: this model is a derivative of it, so that model's licence "
        "applies; state it in this card's `license` before sharing."
    )


def eval_results(spec: TaskSpec, metrics: dict[str, Any], split: str = "test") -> list:
    """The model-index entries of ``metrics`` (one split of one task) with their Hub metric ids."""
    from huggingface_hub import EvalResult

    return [
        EvalResult(
            task_type="text-classification",
            task_name=spec.problem_type.replace("_", "-")
            + (" classification" if spec.problem_type != "regression" else ""),
            dataset_type=spec.hub_id or spec.name,
            dataset_name=spec.name,
            dataset_config=spec.hub_config,
            dataset_split=split,
            metric_type=HUB_METRICS[key][0],
            metric_name=HUB_METRICS[key][1],
            metric_args=HUB_METRICS[key][2],
            metric_value=float(metrics[key]),
        )
        for key in METRIC_ORDER
        if key in HUB_METRICS and isinstance(metrics.get(key), (int, float)) and not isinstance(metrics[key], bool)
    ]


# Trainer.create_model_card's arguments, honoured by the card of a trainer outside a job
CARD_OVERRIDES = ("language", "license", "tags", "model_name", "finetuned_from", "tasks", "dataset_tags", "dataset",
                  "dataset_args")  # fmt: skip


def _first_value(value: str | list | None) -> str | None:
    """``Trainer.create_model_card`` takes one value or a list for a data-set argument: the (first) value."""
    return value if isinstance(value, str) or value is None else next(iter(value), None)


def card_data(
    specs: list[TaskSpec],
    results: dict[str, tuple[dict[str, Any], str]],
    *,
    base: str,
    title: str,
    tags: list[str],
    pipeline_tag: str = "text-classification",
    library_name: str = "transformers",
    overrides: dict[str, Any] | None = None,
):
    """The card's metadata (``ModelCardData``) to the Hub's conventions: ``model-index`` from ``results``
    (``{task: (metrics, split)}``), the data sets' Hub ids, the tasks' languages, the base model's licence and Hub
    id. ``overrides`` are ``Trainer.create_model_card``'s arguments (``language``, ``license``, ``tags``,
    ``model_name``, ``finetuned_from``, ``tasks``, ``dataset_tags``, ``dataset``, ``dataset_args``)."""
    from huggingface_hub import ModelCardData

    given = {k: v for k, v in (overrides or {}).items() if k in CARD_OVERRIDES and v not in (None, "", [])}
    if given.get("dataset") or given.get("dataset_tags") or given.get("dataset_args"):
        first = specs[0]
        specs = [
            replace(
                first,
                name=_first_value(given.get("dataset")) or first.name,
                hub_id=_first_value(given.get("dataset_tags")) or first.hub_id,
                hub_config=_first_value(given.get("dataset_args")) or first.hub_config,
            ),
            *specs[1:],
        ]
        results = {specs[0].name: results[first.name], **{k: v for k, v in results.items() if k != first.name}}
    languages = sorted({s.language for s in specs if s.language and s.language != "und"})
    language = given.get("language") or (languages[0] if len(languages) == 1 else languages or None)
    base_id = hub_base_model(given.get("finetuned_from") or base)
    licence = given.get("license") or licence_of(base)[0]
    datasets = list(dict.fromkeys(s.hub_id for s in specs if s.hub_id))
    if given.get("dataset_tags"):
        extra = given["dataset_tags"]
        datasets = list(dict.fromkeys([*datasets, *([extra] if isinstance(extra, str) else extra)]))
    evals = [r for s in specs if s.name in results for r in eval_results(s, *results[s.name])]
    extra_tags = given.get("tags") or []
    return ModelCardData(
        model_name=given.get("model_name") or title,
        language=language,
        license=licence,
        library_name=library_name,
        base_model=base_id or None,
        datasets=datasets or None,
        pipeline_tag=given["tasks"] if isinstance(given.get("tasks"), str) else pipeline_tag,
        metrics=list(dict.fromkeys(r.metric_type for r in evals)) or None,
        tags=list(dict.fromkeys([*tags, *([extra_tags] if isinstance(extra_tags, str) else extra_tags)])),
        eval_results=evals or None,
    )


def render_trainer_card(
    record: dict[str, Any],
    config: dict[str, Any],
    *,
    name: str,
    repo_id: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> str:
    """The card of a trainer outside an hf_emo job (``trainer.push_to_hub()`` in another project): ``record`` is
    ``metrics.json``-shaped (``{"validation": {...}, "run": {"method": ..., "model": ..., "seed": ...}}``);
    ``overrides`` are ``Trainer.create_model_card``'s arguments (:data:`CARD_OVERRIDES`)."""
    return _render(scrub(record), config, name=name, repo_id=repo_id, run_dir=None, overrides=overrides)


def _render(
    res: dict,
    config: dict,
    *,
    name: str,
    repo_id: str | None,
    run_dir: Path | None,
    adapter: dict | None = None,
    overrides: dict[str, Any] | None = None,
) -> str:
    method = MethodDescription.from_dict(res.get("run", {}).get("method"), f"{name}/metrics.json")
    if config.get("model_type") == "hf_emo_multitask":
        return render_multitask_card(res, config, method, name=name, repo_id=repo_id, run_dir=run_dir)
    if "hf_emo_task" not in config:
        raise ValueError(
            f"{name}/config.json has no hf_emo_task: the card needs the task spec hf_emo saves with a model"
        )
    return _render_single(
        res, config, method, name=name, repo_id=repo_id, run_dir=run_dir, adapter=adapter, overrides=overrides
    )


def _render_single(
    res: dict,
    config: dict,
    method: MethodDescription,
    *,
    name: str,
    repo_id: str | None,
    run_dir: Path | None,
    adapter: dict | None = None,
    overrides: dict[str, Any] | None = None,
) -> str:
    import transformers
    from huggingface_hub import ModelCard

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
    licence_note = licence_of(base)[1]
    scored = next((c for c in ("test", "validation") if res.get(c)), None)
    metadata = card_data(
        [spec],
        {spec.name: (res[scored], scored)} if scored else {},
        base=base,
        title=_title(name, repo_id),
        tags=[*method.tags, spec.name],
        pipeline_tag="text-generation" if adapter and adapter["label_mode"] == "completion" else "text-classification",
        library_name="peft" if adapter else "transformers",
        overrides=overrides,
    )
    if (overrides or {}).get("license"):
        licence_note = ""
    language = metadata.language if isinstance(metadata.language, str) else spec.language
    card = ModelCard.from_template(
        metadata,
        template_path=str(card_template_path()),
        model_name=metadata.model_name,
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
        language_name=LANGUAGE_NAMES.get(language, language),
        metric_columns=[labels[c] for c in cols],
        on_test=bool(cols) and cols[0] != "validation",
        metric_rows=rows,
        has_confusion=run_dir is not None and (run_dir / "confusion_matrix.png").is_file(),
        text_prefix=config.get("text_prefix", ""),
        max_length=run.get("max_length"),
        example_text="Ce zi frumoasă, sunt atât de fericit!" if language == "ro" else "What a lovely day!",
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
    from huggingface_hub import ModelCard

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
    scored = next((c for c in ("test", "validation") if res.get(c)), None)
    per_task = {s.name: task_record(res, config, s.name)[0] for s in specs} if scored else {}
    metadata = card_data(
        specs,
        {t: (r[scored], scored) for t, r in per_task.items() if r.get(scored)},
        base=base,
        title=_title(name, repo_id),
        tags=[*method.tags, *[s.name for s in specs]],
    )
    secs = run.get("train_runtime_s")
    shown = f"`{base_id or Path(base).name or name}`"
    card = ModelCard.from_template(
        metadata,
        template_path=str(card_template_path("multitask.md")),
        model_name=metadata.model_name,
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
        licence_note=licence_of(base)[1],
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


def _title(name: str, repo_id: str | None) -> str:
    """The card's title: the repository's name (the run folder's name before a repo is chosen)."""
    return repo_id.rsplit("/", 1)[-1] if repo_id else name


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
