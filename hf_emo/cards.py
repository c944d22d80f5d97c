"""Model cards of a trained student, filled from the run folder's ``metrics.json`` and ``config.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .data.spec import TaskSpec

__all__ = ["card_template_path", "render_model_card", "render_multitask_card"]

METRIC_ORDER = ("f1_micro", "subset_accuracy", "precision_micro", "recall_micro", "f1_macro", "accuracy",
                "f1_weighted", "precision_weighted", "recall_weighted", "roc_auc_weighted", "pearson_mean",
                "spearman_mean", "mse", "jaccard_samples", "hamming_loss")
LANGUAGE_NAMES = {"ro": "Romanian", "en": "English", "en-ro": "English and Romanian", "multi": "multilingual"}


def card_template_path(name: str = "student.md") -> Path:
    """``model_cards/<name>`` of the checkout, or of the installed data files."""
    candidates = [Path(__file__).resolve().parents[1] / "model_cards" / name,
                  Path(sys.prefix) / "share" / "hf_emo" / "model_cards" / name]
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


def _base_model_url(name: str) -> str:
    hub_id = hub_base_model(name)
    return f"https://huggingface.co/{hub_id}" if hub_id else "#"


def render_model_card(run_dir: str | Path, repo_id: str | None = None) -> str:
    """The README.md of a run folder written by ``hf-emo train`` / ``hf-emo distil``."""
    import transformers
    from huggingface_hub import ModelCard, ModelCardData

    from . import __version__
    from .citations import citations_for

    run_dir = Path(run_dir)
    mpath, cpath = run_dir / "metrics.json", run_dir / "config.json"
    for p in (mpath, cpath):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found: {run_dir} is not a finished hf_emo run folder")
    res = json.loads(mpath.read_text())
    config = json.loads(cpath.read_text())
    run = res.get("run", {})
    if config.get("model_type") == "hf_emo_multitask":
        return render_multitask_card(run_dir, res, config, repo_id)
    if "hf_emo_task" not in config:
        raise ValueError(f"{cpath} has no hf_emo_task: the card needs the task spec hf_emo saves with a model")
    spec = TaskSpec.from_dict(config["hf_emo_task"])
    kd = run.get("distillation")
    cons = run.get("consistency")
    trainer = "ConsistencyDistillationTrainer" if cons else "DistillationTrainer" if kd else "EmotionTrainer"
    base = run.get("model", "")
    base_id = hub_base_model(base)
    repo_id = repo_id or f"your-name/{run_dir.name}"

    tuned = "test_tuned" in res
    cols = [c for c in ("test", "test_tuned", "test_stage1", "test_teacher") if c in res]
    labels = {"test": "student", "test_tuned": "student (tuned threshold)", "test_teacher": "teacher",
              "test_stage1": "student before refinement"}
    if cons:
        labels["test_teacher"] = f"teacher on `{cons.get('translation_column')}` (reference)"
    keys = [k for k in METRIC_ORDER if any(k in res[c] for c in cols)]
    rows = [{"name": k, "values": [_fmt(k, res[c].get(k, "")) for c in cols]} for k in keys]
    for k, v in (res.get("test_loyalty") or {}).items():
        rows.append({"name": k, "values": [_fmt(k, v)] + [""] * (len(cols) - 1)})

    settings = [("pooling", run.get("pooling")), ("max_length", run.get("max_length")), ("seed", run.get("seed"))]
    if kd:
        settings += [(k, v) for k, v in kd.items() if k != "teachers" and v is not None]
        anneal = kd.get("alpha_schedule") == "linear"
        alpha = (f"alpha rising linearly from {kd.get('alpha_start')} to {kd.get('alpha_end')} over training "
                 "(teacher annealing)") if anneal else f"constant alpha = {kd.get('alpha')}"
        form = {"kl_bernoulli": "a per-label Bernoulli KL on sigmoid(logits/T)",
                "kl_softmax": "Hinton's softmax KL, T^2 KL(softmax(t/T) || softmax(s/T))",
                "mse": "the mean squared error to the teacher's outputs"}.get(kd.get("kd_loss"), f"`{kd.get('kd_loss')}`")
        method = (f"Knowledge distillation (paper 000 §3.2.3; Hinton et al. 2015): L = alpha * L_gold + (1 - alpha) "
                  f"* T^2 * L_KD with T = {kd.get('temperature')} and {alpha}. The KD term is {form}. "
                  + ("Teacher logits were computed once and cached." if kd.get("cached_teacher_logits")
                     else "Teachers ran live on every batch."))
        if kd.get("annealing") == "target_mix":
            method += " Annealing form: one loss against the mixed target alpha * gold + (1 - alpha) * teacher (BAM)."
    elif cons:
        anneal = False
        settings += [(k, v) for k, v in cons.items() if v is not None]
        weights = {"quality": "1 - min-max-normalised disagreement of the stage-1 student between the original and "
                              "its translation (paper 001 Eq. 2-3, "
                              + ("over the whole refinement set)" if cons.get("weight_normalization") == "global"
                                 else "within each batch)"),
                   "threshold": f"1, except 0 for the {cons.get('drop_fraction')} share of pairs with the largest "
                                "disagreement (dropped)",
                   "uniform": "1 for every pair (plain consistency KD)",
                   "column": "the dataset's own `weight` column"}.get(cons.get("quality_weighting"), "")
        form = "per-label Bernoulli KL" if cons.get("kd_loss") == "kl_bernoulli" else "softmax KL"
        method = (f"Cross-lingual consistency distillation (paper 001 §2.2-2.3): a monolingual teacher reads the "
                  f"translated side (`{cons.get('translation_column')}`), this multilingual student the original; "
                  f"the loss is sum_i w_i * KL(P_teacher(x'_i) || Q_student(x_i)) / N ({form}, T = "
                  f"{cons.get('temperature')}), with w_i = {weights}. "
                  + ("No gold label of the original side was used." if not cons.get("alpha") else
                     f"Mixed with the gold-label loss at alpha = {cons.get('alpha')}."))
        kd = {"teachers": run.get("teachers", [])}
    else:
        anneal = False
        loss = {"multi_label": "binary cross-entropy", "single_label": "cross-entropy",
                "regression": "mean squared error"}[spec.problem_type]
        method = f"Supervised fine-tuning with {loss} on a {run.get('pooling', 'mean')}-pooled encoder and a linear head."
    secs = run.get("train_runtime_s")
    card_data = ModelCardData(
        language=spec.language, license="apache-2.0", library_name="transformers", base_model=base_id or None,
        pipeline_tag="text-classification", metrics=[k for k in keys[:4]],
        tags=["hf_emo", "emotion-recognition", spec.name, "text-classification"]
        + (["knowledge-distillation"] if kd else []) + (["cross-lingual"] if cons else []),
        model_name=run_dir.name,
    )
    card = ModelCard.from_template(
        card_data, template_path=str(card_template_path()),
        model_name=run_dir.name, repo_id=repo_id, base_model=base_id or f"a local model ({Path(base).name})", base_model_url=_base_model_url(base),
        summary=(f"A multilingual student refined on `{spec.name}` by hf_emo's `{trainer}`." if cons
                 else f"A student distilled on `{spec.name}` by hf_emo's `{trainer}`." if kd
                 else f"`{base_id}` fine-tuned on `{spec.name}` by hf_emo's `{trainer}`."),
        teachers=(kd or {}).get("teachers", []), task=spec.to_dict(), split_sizes=run.get("split_sizes", {}),
        substitutions=run.get("substitutions", []), method=method, settings=settings,
        threshold=run.get("threshold", 0.5), tuned=tuned, base_threshold=res.get("test", {}).get("threshold", 0.5),
        language_name=LANGUAGE_NAMES.get(spec.language, spec.language), metric_columns=[labels[c] for c in cols],
        metric_rows=rows, has_confusion=(run_dir / "confusion_matrix.png").is_file(),
        text_prefix=config.get("text_prefix", ""), max_length=run.get("max_length"),
        example_text="Ce zi frumoasă, sunt atât de fericit!" if spec.language == "ro" else "What a lovely day!",
        command=run.get("command", ""), runtime=f"{secs / 60:.1f} min" if secs else "",
        machine=run.get("machine", "the machine recorded in metrics.json"), trainer=trainer,
        hf_emo_version=__version__, transformers_version=transformers.__version__,
        bibtex=citations_for(trainer, annealing=anneal, several_teachers=len((kd or {}).get("teachers", [])) > 1,
                             dataset_citations=(spec.citation or _registered_citation(spec.name),)),
    )
    return str(card)


def render_multitask_card(run_dir: Path, res: dict, config: dict, repo_id: str | None = None) -> str:
    """The README.md of a ``hf-emo mtl`` run: every task's data and test metrics, the method, the label correlation
    and GradNorm plots."""
    import transformers
    from huggingface_hub import ModelCard, ModelCardData

    from . import __version__
    from .citations import citations_for

    run = res.get("run", {})
    specs = [TaskSpec.from_dict(t) for t in config["tasks"]]
    base = run.get("model", "")
    base_id = hub_base_model(base)
    repo_id = repo_id or f"your-name/{run_dir.name}"
    kd = run.get("distillation")
    sizes = run.get("split_sizes", {})
    tasks = [{**s.to_dict(), "sizes": " / ".join(str(sizes.get(s.name, {}).get(k, "–"))
                                                 for k in ("train", "validation", "test"))} for s in specs]
    cols = [c for c in ("test", "test_tuned") if c in res]
    rows = []
    for spec in specs:
        for k in METRIC_ORDER:
            key = f"{spec.name}_{k}"
            if any(key in res[c] for c in cols):
                rows.append({"task": spec.name, "name": k, "values": [_fmt(k, res[c].get(key, "")) for c in cols]})
    layout = run.get("head_layout", config.get("head_layout"))
    weighting = run.get("loss_weighting", "static")
    parts = [f"Multi-task learning (paper 000 §3.2.2; paper 002 §3): one shared encoder"
             + (" (frozen, its features computed once)" if run.get("freeze_encoder") else "")
             + (f", a shared {run.get('shared_layer_size')}-unit ReLU layer" if run.get("shared_layer_size") else "")
             + (", one linear head per task" if layout == "multi_head"
                else ", one bias-free shared-embedding output layer over all tasks' labels, masked per task")
             + f". Batches hold one task, chosen by the `{run.get('task_sampler')}` sampler; the loss of an optimizer "
             "step is the weighted sum of the tasks' mean losses"]
    if weighting == "gradnorm":
        parts.append("with weights learned by GradNorm (Chen et al. 2018) on the shared weights")
    elif run.get("task_weights"):
        parts.append(f"with task weights {run.get('task_weights')} (unlisted tasks: 1)")
    method = " ".join(parts) + "."
    if kd:
        anneal = kd.get("alpha_schedule") == "linear"
        alpha = (f"alpha rising from {kd.get('alpha_start')} to {kd.get('alpha_end')} (teacher annealing)" if anneal
                 else f"alpha = {kd.get('alpha')}")
        method += (f" Multi-task knowledge distillation (born-again multi-task network, Clark et al. 2019; paper 000 "
                   f"§3.2.3-3.2.4): each task with a teacher trains on alpha * L_gold + (1 - alpha) * L_KD with "
                   f"T = {kd.get('temperature')} and {alpha}; KD losses per task: {kd.get('kd_loss')}.")
    stages = run.get("stages") or []
    adversarial = any(st.get("adversarial_tasks") for st in stages)
    if stages:
        desc = []
        for st in stages:
            d = f"`{st['name']}` ({', '.join(f'{t}: {n} rows' for t, n in st['rows'].items())}; " \
                f"{st['num_train_epochs']:g} epochs at lr {st['learning_rate']:g}"
            if st.get("adversarial_tasks"):
                d += f"; {', '.join(st['adversarial_tasks'])} trained by {st['adversarial_mode'].replace('_', ' ')}"
            desc.append(d + ")")
        method += (" Trained in stages, each continuing from the previous one's weights (paper 000 §2.3: "
                   "multi-stage / gradual fine-tuning, Xu et al. 2021"
                   + ("; a language discriminator against the shared encoder, ADAN, Chen et al. 2018" if adversarial
                      else "") + "): " + "; then ".join(desc) + f". Evaluated on {', '.join(run.get('eval_tasks', []))}.")
    settings = [(k, run.get(k)) for k in ("head_layout", "shared_layer_size", "pooling", "max_length",
                                          "freeze_encoder", "task_sampler", "loss_weighting", "task_weights",
                                          "train_fraction", "max_train_samples", "thresholds", "seed")
                if run.get(k) not in (None, {}, "")]
    subs = [f"`{s.name}`: {s.split_note}" for s in specs if "substitute" in s.description.lower()
            or "re-split" in s.split_note]
    if run.get("max_train_samples") or run.get("train_fraction"):
        subs.append(f"training sets reduced: caps {run.get('max_train_samples') or {}}, fractions "
                    f"{run.get('train_fraction') or {}}")
    primary = run.get("primary_task", specs[0].name)
    lang = next(s.language for s in specs if s.name == primary)
    card_data = ModelCardData(
        language=sorted({s.language for s in specs}), license="apache-2.0", library_name="transformers",
        base_model=base_id or None, pipeline_tag="text-classification",
        tags=["hf_emo", "emotion-recognition", "multi-task-learning", *[s.name for s in specs]]
        + (["knowledge-distillation"] if kd else []) + (["gradnorm"] if weighting == "gradnorm" else []),
        model_name=run_dir.name)
    secs = run.get("train_runtime_s")
    card = ModelCard.from_template(
        card_data, template_path=str(card_template_path("multitask.md")), model_name=run_dir.name, repo_id=repo_id,
        base_model=base_id or f"a local model ({Path(base).name})", base_model_url=_base_model_url(base),
        summary=(f"`{base_id}` trained on {len(specs)} tasks at once" if len(specs) > 1
                 else f"`{base_id}` trained on one task (the single-task baseline of a multi-task study)")
        + " by hf_emo's `MultiTaskTrainer`"
                + (" with multi-task knowledge distillation." if kd else "."),
        tasks=tasks, primary_task=primary, teachers=(kd or {}).get("teachers", {}), substitutions=subs,
        method=method, settings=settings, tuned="test_tuned" in res, metric_columns=["test", "test (tuned)"][:len(cols)],
        metric_rows=rows, head_layout=layout, has_correlation=(run_dir / "label_correlation.png").is_file(),
        has_weights=(run_dir / "task_weights.png").is_file(), text_prefix=config.get("text_prefix", ""),
        example_text="Ce zi frumoasă, sunt atât de fericit!" if lang == "ro" else "What a lovely day!",
        max_length=run.get("max_length"), command=run.get("command", ""),
        runtime=f"{secs / 60:.1f} min" if secs else "", machine=run.get("machine", ""),
        hf_emo_version=__version__, transformers_version=transformers.__version__,
        bibtex=citations_for("MultiTaskTrainer", several_teachers=bool(kd), gradnorm=weighting == "gradnorm",
                             staged=bool(stages), adversarial=adversarial, dataset_citations=tuple(s.citation or _registered_citation(s.name) for s in specs)),
    )
    return str(card)


def _registered_citation(name: str) -> str:
    from .data import TASKS

    return TASKS[name].citation if name in TASKS else ""
