"""The supervised fine-tuning job behind ``hf-emo train``: data -> model -> EmotionTrainer -> report."""

from __future__ import annotations

import resource
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from transformers import DataCollatorWithPadding

from .data import TASKS, load_local, load_task
from .data.tokenize import tokenize_dataset
from .metrics import detailed_report, loyalty_metrics, task_metrics, tune_threshold
from .models import build_classifier, is_classifier, load_classifier, load_tokenizer
from .report import write_report
from .teachers import cache_teacher_logits, check_teacher_label_space
from .trainers import DistillationConfig, DistillationTrainer, EmotionConfig, EmotionTrainer


@dataclass
class RunArguments:
    """What to train on and from: the model and the data. (Training settings live in ``EmotionConfig``.)"""

    model_name_or_path: str = field(default="multilingual-e5-small", metadata={
        "help": "Hub id, local folder, or an offline zoo name (multilingual-e5-small, all-MiniLM-L6-v2)."})
    task: str | None = field(default="redv2", metadata={"help": "A registered task (hf-emo data), or none with files."})
    data_dir: str | None = field(default=None, metadata={"help": "Folder of local data copies (HF_EMO_DATA_DIR)."})
    train_file: str | None = field(default=None, metadata={"help": "Own data: train CSV/TSV/JSON/JSONL."})
    validation_file: str | None = None
    test_file: str | None = None
    text_column: str = "text"
    label_columns: list[str] = field(default_factory=lambda: ["label"], metadata={
        "help": "One column (label names) or several (one per label / dimension)."})
    problem_type: str | None = field(default=None, metadata={"help": "multi_label, single_label or regression."})
    label_sep: str | None = None
    pooling: str = field(default="mean", metadata={"help": "mean, cls, or pooler (the architecture's own head)."})
    text_prefix: str = field(default="", metadata={"help": "Prepended to every text, e.g. 'query: ' for E5."})
    max_length: int = 128
    max_train_samples: int | None = field(default=None, metadata={"help": "Cap the training rows (quick runs)."})
    num_layers: int | None = field(default=None, metadata={
        "help": "Keep this many evenly spaced encoder layers (DistilBERT-style student: every other layer)."})


@dataclass
class DistillRunArguments(RunArguments):
    """``RunArguments`` plus the teachers of ``hf-emo distil``."""

    teacher: list[str] = field(default_factory=list, metadata={
        "help": "Teacher model(s): fine-tuned folders or Hub ids with the task's label names. Several = ensemble."})
    cache_teacher_logits: bool = field(default=True, metadata={
        "help": "Run the teachers once over all splits (each with its own tokenizer) and train from the cached "
                "logits; false runs them live on every batch (they must share the student's tokenizer)."})
    teacher_batch_size: int = 64


def load_data(run: RunArguments) -> tuple:
    """The ``DatasetDict`` and ``TaskSpec`` a run uses."""
    if run.train_file:
        files = {k: v for k, v in (("train", run.train_file), ("validation", run.validation_file),
                                   ("test", run.test_file)) if v}
        if run.problem_type is None:
            raise ValueError("problem_type is required with train_file")
        cols = run.label_columns[0] if len(run.label_columns) == 1 else run.label_columns
        dd = load_local(files, text_column=run.text_column, label_columns=cols, problem_type=run.problem_type,
                        label_sep=run.label_sep)
        return dd, dd.task_spec
    if not run.task:
        raise ValueError("set either task or train_file")
    return load_task(run.task, run.data_dir), TASKS[run.task]


def machine_description() -> str:
    """``'2 CPU cores'`` or ``'1 x NVIDIA H100 80GB HBM3'``: where a run ran, for reports and model cards."""
    import os
    import platform

    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    return f"{os.cpu_count()} CPU cores ({platform.machine()}), torch {torch.__version__}"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train_and_evaluate(run: RunArguments, config: EmotionConfig, command: str | None = None) -> dict:
    """Fine-tune, evaluate on validation and test, tune the threshold, save the model and write the report."""
    t0 = time.time()
    dd, spec = load_data(run)
    if run.max_train_samples:
        dd["train"] = dd["train"].shuffle(seed=config.seed).select(range(min(run.max_train_samples, len(dd["train"]))))
    tokenizer = load_tokenizer(run.model_name_or_path)
    if is_classifier(run.model_name_or_path):
        model = load_classifier(run.model_name_or_path)
    else:
        model = build_classifier(run.model_name_or_path, spec, pooling=run.pooling, text_prefix=run.text_prefix,
                                 max_length=run.max_length, num_layers=run.num_layers)
    distil = isinstance(config, DistillationConfig)
    teachers, kd_info = [], {}
    if distil:
        if not getattr(run, "teacher", None):
            raise ValueError("distillation needs at least one --teacher")
        teachers = [load_classifier(t) for t in run.teacher]
        for i, t in enumerate(teachers):
            check_teacher_label_space(t, spec, i)
        if run.cache_teacher_logits:
            dd = cache_teacher_logits(teachers, dd, [load_tokenizer(t) for t in run.teacher],
                                      batch_size=run.teacher_batch_size)
        kd_info = _kd_info(run, config, spec)
    tok = tokenize_dataset(dd, tokenizer, max_length=run.max_length, text_prefix=run.text_prefix)
    common = dict(model=model, args=config, task_spec=spec, train_dataset=tok["train"],
                  eval_dataset=tok.get("validation"), processing_class=tokenizer,
                  data_collator=DataCollatorWithPadding(tokenizer))
    if distil:
        trainer = DistillationTrainer(teacher_model=None if run.cache_teacher_logits else teachers, **common)
    else:
        trainer = EmotionTrainer(**common)
    train_out = trainer.train()
    train_time = time.time() - t0

    results, logits = {}, {}
    for split in ("validation", "test"):
        if split in tok:
            pred = trainer.predict(tok[split], metric_key_prefix=split)
            logits[split] = (pred.predictions, pred.label_ids)
    threshold = config.threshold
    if spec.problem_type == "multi_label" and config.tune_threshold and "validation" in logits:
        threshold, _ = tune_threshold(logits["validation"][1], _sig(logits["validation"][0]), spec.metric)
    for split, (lg, y) in logits.items():
        results[split] = task_metrics(spec, y, lg, config.threshold)
        if spec.problem_type == "multi_label" and config.tune_threshold and "validation" in logits:
            results[f"{split}_tuned"] = task_metrics(spec, y, lg, threshold)
    if distil and run.cache_teacher_logits:
        for split, (lg, y) in logits.items():
            t_logits = np.asarray(dd[split]["teacher_logits"])
            results[f"{split}_loyalty"] = loyalty_metrics(spec, t_logits, lg, threshold)
            if len(teachers) == 1:
                t_thr = getattr(teachers[0].config, "hf_emo_threshold", config.threshold)
                results[f"{split}_teacher"] = task_metrics(spec, y, t_logits, t_thr)
    detail = detailed_report(spec, logits["test"][1], logits["test"][0], threshold) if "test" in logits else {}

    model.config.hf_emo_threshold = threshold
    trainer.save_model(config.output_dir)
    info = {
        "task": spec.name, "model": run.model_name_or_path, "num_layers": run.num_layers, "pooling": run.pooling,
        "text_prefix": run.text_prefix,
        "max_length": run.max_length, "threshold": threshold, "train_runtime_s": round(train_time, 1),
        "train_loss": train_out.training_loss, "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": machine_description(),
        "split_sizes": {k: len(v) for k, v in dd.items()}, "seed": config.seed,
        "command": command or " ".join(shlex.quote(a) for a in sys.argv),
    }
    if distil:
        info["distillation"] = kd_info
    write_report(config.output_dir, spec=spec, metrics=results, detail=detail,
                 log_history=trainer.state.log_history, run_info=info)
    return {"metrics": results, "run": info}


def _kd_info(run: DistillRunArguments, config: DistillationConfig, spec) -> dict:
    from .losses import get_kd_loss

    info = {"teachers": list(run.teacher), "cached_teacher_logits": run.cache_teacher_logits,
            "temperature": config.temperature, "alpha_schedule": config.alpha_schedule,
            "annealing": config.annealing, "kd_loss": get_kd_loss(config.kd_loss, spec.problem_type)[0],
            "teacher_aggregation": config.teacher_aggregation if len(run.teacher) > 1 else None}
    if config.alpha_schedule == "linear":
        info.update(alpha_start=config.alpha_start, alpha_end=config.alpha_end)
    else:
        info["alpha"] = config.alpha
    return info


def _sig(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))
