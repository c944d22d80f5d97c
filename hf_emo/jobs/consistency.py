"""The job behind ``hf-emo consistency``: Wang et al.'s (2024) stage 2, refining a multilingual student by weighted
consistency distillation from a monolingual teacher that reads the translation.

Stage 1 (an ``hf-emo train`` run on English data) gives the student; the teacher is another ``hf-emo train`` run.
Here: the teacher's logits on the translated side, the stage-1 student's disagreement between the original and
the translation (Eq. 2) and the quality weights (Eq. 3) are computed once, then the student is refined on the
original side without its gold labels (``alpha = 0``). Validation and test are the original-language splits. The
decision threshold stays the stage-1 student's (tuned on English validation): no target-language label is used.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.paired_collator import PairedDataCollator
from ..data.tokenize import tokenize_dataset
from ..inference import decision_threshold, mean_threshold
from ..losses import get_kd_loss
from ..metrics import detailed_report, loyalty_metrics, task_metrics
from ..models import is_classifier, load_classifier, load_tokenizer
from ..quality_weights import add_translation_disagreement, minmax_quality
from ..report import write_report
from .common import JobError, RunRecord, command_line, finish_job, public_name, start_job
from .train import RunArguments, load_data
from ..teachers import cache_teacher_logits, check_teacher_label_space
from ..trainers import ConsistencyDistillationConfig, ConsistencyDistillationTrainer

NOISE_SIGNALS = ("pivot_lang", "alignment", "en_text_source")


@dataclass
class ConsistencyRunArguments(RunArguments):
    """``RunArguments`` for stage 2: ``model_name_or_path`` is the stage-1 student (a fine-tuned classifier)."""

    task: str | None = field(default="xed_en_ro", metadata={
        "help": "A registered task whose rows hold an original text (text_column) and its translation."})
    teacher: list[str] = field(default_factory=list, metadata={
        "help": "The monolingual teacher(s): fine-tuned folders or Hub ids with the task's label names."})
    translation_column: str = field(default="en_text", metadata={
        "help": "The translated (teacher-side) text column; hf_emo.translate.translate_column makes one."})
    inference_batch_size: int = field(default=64, metadata={
        "help": "Batch size of the forward passes outside training (teacher logits on the translation, the stage-1 "
                "student's disagreement)."})
    max_length: int = 64
    prepared_cache_dir: str | None = field(default=None, metadata={
        "help": "Keep the refinement set with its teacher logits and disagreements here, keyed by student, "
                "teachers, data and settings: runs that differ only in the weighting or the optimiser reuse it."})


def _translation_logits(teachers, dataset, run: ConsistencyRunArguments, device):
    return cache_teacher_logits(teachers, dataset, [load_tokenizer(t) for t in run.teacher],
                                text_column=run.translation_column, batch_size=run.inference_batch_size,
                                desc=f"teacher on {run.translation_column}", device=device)


def _model_key(path: str) -> str:
    """A folder's identity for caching: its resolved path and the size and time of its weight files."""
    p = Path(path)
    if not p.is_dir():
        return path  # a Hub id
    files = sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin"))
    return str(p.resolve()) + "|" + "|".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)


def _prepared_path(run: ConsistencyRunArguments, train) -> Path:
    """Where the prepared refinement set of this student / teachers / data / settings is cached."""
    import hashlib

    data = hashlib.sha256()
    for a, b in zip(train[run.text_column], train[run.translation_column]):
        data.update(f"{a}\t{b}\n".encode())
    key = json.dumps({"student": _model_key(run.model_name_or_path), "teachers": [_model_key(t) for t in run.teacher],
                      "data": data.hexdigest(), "text": run.text_column, "translation": run.translation_column,
                      "max_length": run.max_length}, sort_keys=True)
    return Path(run.prepared_cache_dir) / hashlib.sha256(key.encode()).hexdigest()[:16]


def weight_noise_correlations(dataset, weight_column: str = "weight") -> dict[str, float]:
    """Pearson correlation of the learned quality weights with the data's own noise signals (XED en-ro: Danish
    pivot, 1:n alignments, English text taken from the annotation, and the |log| length ratio of the pair)."""
    w = np.asarray(dataset[weight_column], dtype=float)
    out: dict[str, float] = {}
    flags = {"pivot_lang": ("da", "pivot_lang=da"), "alignment": ("1:n", "alignment=1:n"),
             "en_text_source": ("annotated_phrase", "en_text_source=annotated_phrase")}
    for col, (value, name) in flags.items():
        if col in dataset.column_names:
            x = np.asarray([v == value for v in dataset[col]], dtype=float)
            out[name] = _pearson(w, x)
    if {"text", "en_text"} <= set(dataset.column_names):
        ratio = np.array([abs(np.log(max(len(a), 1) / max(len(b), 1))) for a, b in
                          zip(dataset["text"], dataset["en_text"])])
        out["abs_log_length_ratio"] = _pearson(w, ratio)
    return out


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def plot_weights(dataset, path: str | Path, weight_column: str = "weight") -> Path | None:
    """Histogram of the quality weights, split by each noise flag present (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in NOISE_SIGNALS if c in dataset.column_names]
    if weight_column not in dataset.column_names:
        return None
    w = np.asarray(dataset[weight_column], dtype=float)
    fig, axes = plt.subplots(1, max(len(cols), 1), figsize=(4.2 * max(len(cols), 1), 3.2), squeeze=False)
    for ax, col in zip(axes[0], cols or [None]):
        if col is None:
            ax.hist(w, bins=30, color="tab:blue")
        else:
            vals = np.asarray(dataset[col])
            for v in sorted(set(vals)):
                ax.hist(w[vals == v], bins=30, alpha=0.6, density=True, label=f"{col}={v} (n={int((vals == v).sum())})")
            ax.legend(fontsize=7)
        ax.set_xlabel("quality weight (Wang et al. 2024 Eq. 3)")
        ax.set_ylabel("density")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def train_and_evaluate_consistency(run: ConsistencyRunArguments, config: ConsistencyDistillationConfig,
                                   command: str | None = None) -> dict:
    """Stage 2 of Wang et al. 2024: cache, weigh, refine, evaluate (before and after), report."""
    if not is_classifier(run.model_name_or_path):
        raise JobError(f"model_name_or_path {run.model_name_or_path!r} is not a fine-tuned classifier: stage 2 "
                         "refines the stage-1 student (train it first with `hf-emo train`)")
    if not run.teacher:
        raise JobError("consistency distillation needs a --teacher (the monolingual model on the translation)")
    job = start_job(config, run)
    dd, spec = load_data(run)
    for split in dd:
        if run.translation_column not in dd[split].column_names:
            raise ValueError(f"task {spec.name!r} split {split!r} has no translation column "
                             f"{run.translation_column!r}; columns: {dd[split].column_names}")
    if run.max_train_samples:
        n = min(run.max_train_samples, len(dd["train"]))
        dd["train"] = dd["train"].shuffle(seed=config.seed).select(range(n))
    model, tokenizer = load_classifier(run.model_name_or_path), load_tokenizer(run.model_name_or_path)
    check_teacher_label_space(model, spec)
    prefix = run.text_prefix or getattr(model.config, "text_prefix", "") or ""
    model.config.max_seq_length = run.max_length
    threshold = decision_threshold(getattr(model.config, "hf_emo_threshold", config.threshold), spec.num_labels)
    teachers = [load_classifier(t) for t in run.teacher]
    for i, t in enumerate(teachers):
        check_teacher_label_space(t, spec, i)

    cached = _prepared_path(run, dd["train"]) if run.prepared_cache_dir else None
    if cached is not None and cached.is_dir():
        from datasets import load_from_disk

        train = load_from_disk(str(cached))
    else:
        train = _translation_logits(teachers, dd["train"], run, config.device)
        train = add_translation_disagreement(model, train, tokenizer, source_column=run.text_column,
                                             translation_column=run.translation_column,
                                             problem_type=spec.problem_type, max_length=run.max_length,
                                             batch_size=run.inference_batch_size, device=config.device)
        if cached is not None:
            train.save_to_disk(str(cached))
    if config.alpha == 0 and "labels" in train.column_names:
        train = train.remove_columns("labels")  # the target side needs no gold labels
    keep = ("labels", "weight", "teacher_logits", "disagreement")
    tok_train = tokenize_dataset(train, tokenizer, max_length=run.max_length, text_prefix=prefix,
                                 text_column=run.text_column, keep=keep)
    evals = {s: tokenize_dataset(dd[s], tokenizer, max_length=run.max_length, text_prefix=prefix,
                                 text_column=run.text_column) for s in ("validation", "test") if s in dd}
    trainer = ConsistencyDistillationTrainer(model=model, args=config, task_spec=spec, train_dataset=tok_train,
                                             eval_dataset=evals.get("validation"), processing_class=tokenizer,
                                             data_collator=PairedDataCollator(tokenizer))
    results: dict[str, dict] = {}
    for split, ds in evals.items():  # the stage-1 student, before refinement
        pred = trainer.predict(ds, metric_key_prefix=split)
        results[f"{split}_stage1"] = task_metrics(spec, pred.label_ids, pred.predictions, threshold)
    weighted = trainer.train_dataset  # the weights the trainer computed over the whole set
    train_out = trainer.train(resume_from_checkpoint=job.resume_from_checkpoint)
    train_time = job.elapsed()

    logits = {}
    for split, ds in evals.items():
        pred = trainer.predict(ds, metric_key_prefix=split)
        logits[split] = (pred.predictions, pred.label_ids)
        results[split] = task_metrics(spec, pred.label_ids, pred.predictions, threshold)
    if "test" in dd:  # the teacher on the English side of the same rows: upper reference (Wang et al. 2024, Table 1)
        t_test = np.asarray(_translation_logits(teachers, dd["test"], run, config.device)["teacher_logits"])
        t_thr = mean_threshold([getattr(t.config, "hf_emo_threshold", config.threshold) for t in teachers],
                               spec.num_labels)
        results["test_teacher"] = task_metrics(spec, logits["test"][1], t_test if t_test.ndim == 2 else
                                               t_test.mean(1), t_thr)
        results["test_loyalty"] = loyalty_metrics(spec, t_test, logits["test"][0], threshold)
    detail = detailed_report(spec, logits["test"][1], logits["test"][0], threshold) if "test" in logits else {}

    out_dir = Path(config.output_dir)
    trainer.save_model(config.output_dir)
    # the Eq. 3 weights over the whole refinement set (whatever scheme trained) against the data's noise signals
    dis = np.asarray(train["disagreement"], dtype=float)
    cols = [c for c in (*NOISE_SIGNALS, run.text_column, run.translation_column) if c in train.column_names]
    noise = train.select_columns(cols).add_column("weight", minmax_quality(dis).numpy().tolist())
    noise = noise.rename_columns({k: v for k, v in ((run.text_column, "text"), (run.translation_column, "en_text"))
                                  if k != v})
    correlations = weight_noise_correlations(noise)
    plot_weights(noise, out_dir / "quality_weights.png")
    info = {
        "task": spec.name, "model": run.model_name_or_path, "teachers": [public_name(t) for t in run.teacher],
        "text_prefix": prefix, "max_length": run.max_length, "threshold": threshold,
        "consistency": {"quality_weighting": config.quality_weighting,
                        "weight_normalization": config.weight_normalization,
                        "drop_fraction": config.drop_fraction if config.quality_weighting == "threshold" else None,
                        "kd_loss": get_kd_loss(config.kd_loss, spec.problem_type)[0],
                        "temperature": config.temperature, "alpha": config.alpha,
                        "translation_column": run.translation_column, "refinement_rows": len(weighted),
                        "disagreement_mean": float(dis.mean()), "disagreement_max": float(dis.max())},
        "weight_noise_correlations": correlations,
        "train_runtime_s": train_time, "train_loss": train_out.training_loss,
        "split_sizes": {k: len(v) for k, v in dd.items()}, "resumed_from": job.resume_from_checkpoint,
    }
    record = RunRecord.for_config(trainer.method_description(translation_column=run.translation_column), config, metrics=results, info=info, detail=detail,
                                  command=command or command_line("python", sys.argv))
    write_report(config.output_dir, spec=spec, record=record.to_dict(), log_history=trainer.state.log_history)
    finish_job(config.output_dir, job)
    return {"metrics": results, "run": record.run}
