"""The supervised fine-tuning and distillation job behind ``hf-emo train`` / ``hf-emo distil``: data -> model ->
EmotionTrainer / DistillationTrainer -> evaluation -> report, over the steps every job shares (``common``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
from transformers import DataCollatorWithPadding

from ..data import TASKS, load_local, load_task
from ..data.tokenize import tokenize_dataset
from ..metrics import detailed_report, loyalty_metrics, task_metrics
from ..models import build_classifier, is_classifier, load_classifier, load_tokenizer
from ..models.factory import POOLINGS
from ..report import write_report
from ..teachers import (cache_teacher_logits, check_same_vocabulary, check_teacher_label_space,
                        teacher_logits_from_column)
from .. import trainers as trainer_family
from ..trainers import DistillationConfig, EmotionConfig
from .common import JobArguments, JobError, RunRecord, command_line, finish_job, public_name, score_splits, start_job


@dataclass
class RunArguments(JobArguments):
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

    def __post_init__(self) -> None:
        from ..data.spec import PROBLEM_TYPES

        for name in ("max_length", "max_train_samples", "num_layers"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.problem_type is not None and self.problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type must be one of {PROBLEM_TYPES}, got {self.problem_type!r}")
        if not self.label_columns:
            raise ValueError("label_columns is empty")


TEACHER_MODES = ("cached", "live")


@dataclass
class DistillRunArguments(RunArguments):
    """``RunArguments`` plus the teachers of ``hf-emo distil``."""

    teacher: list[str] = field(default_factory=list, metadata={
        "help": "Teacher model(s): fine-tuned folders or Hub ids with the task's label names. Several = ensemble."})
    teacher_column: str | None = field(default=None, metadata={
        "help": "Distil a data column of per-label probabilities instead of a teacher model, e.g. REDv2's "
                "soft_labels (each label's share of the annotators' votes: KD from the annotators' disagreement)."})
    teacher_mode: str = field(default="cached", metadata={
        "help": "cached: run the teachers once over all splits (each with its own tokenizer) and train from their "
                "logits; live: run them on every batch (they must share the student's tokenizer)."})
    inference_batch_size: int = field(default=64, metadata={
        "help": "Batch size of the forward passes outside training (caching the teachers' logits)."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.teacher_mode not in TEACHER_MODES:
            raise ValueError(f"teacher_mode must be one of {TEACHER_MODES}, got {self.teacher_mode!r}")
        if self.inference_batch_size < 1:
            raise ValueError(f"inference_batch_size must be >= 1, got {self.inference_batch_size!r}")

    @property
    def cached_teachers(self) -> bool:
        return self.teacher_mode == "cached" or bool(self.teacher_column)


def load_data(run: RunArguments) -> tuple:
    """The ``DatasetDict`` and ``TaskSpec`` a run uses."""
    if run.train_file:
        files = {k: v for k, v in (("train", run.train_file), ("validation", run.validation_file),
                                   ("test", run.test_file)) if v}
        if run.problem_type is None:
            raise JobError("problem_type (multi_label, single_label or regression) is required with train_file")
        cols = run.label_columns[0] if len(run.label_columns) == 1 else run.label_columns
        dd = load_local(files, text_column=run.text_column, label_columns=cols, problem_type=run.problem_type,
                        label_sep=run.label_sep)
        return dd, dd.task_spec
    if not run.task:
        raise JobError("set either task or train_file")
    if run.task not in TASKS:
        raise JobError(f"unknown task {run.task!r}; registered tasks: {sorted(TASKS)} (or give train_file)")
    return load_task(run.task, run.data_dir), TASKS[run.task]


def train_and_evaluate(run: RunArguments, config: EmotionConfig, command: str | None = None) -> dict:
    """Fine-tune (or distil, with a ``DistillationConfig``), evaluate on validation and test, tune the threshold,
    save the model and write the report. Returns ``{"metrics": ..., "run": ...}`` as written to ``metrics.json``."""
    job = start_job(config, run)
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
        if run.teacher and run.teacher_column:
            raise JobError(f"give --teacher or --teacher_column, not both (teacher {run.teacher}, teacher_column "
                           f"{run.teacher_column!r})")
        if not run.teacher and not run.teacher_column:
            raise JobError("distillation needs at least one --teacher, or a --teacher_column of teacher probabilities")
        teachers = [load_classifier(t) for t in run.teacher]
        for i, t in enumerate(teachers):
            check_teacher_label_space(t, spec, i)
        if run.teacher_column:
            try:
                dd = teacher_logits_from_column(dd, run.teacher_column, spec, temperature=config.temperature)
            except ValueError as e:
                raise JobError(f"{run.task or run.train_file}: {e}") from None
        elif run.cached_teachers:
            dd = cache_teacher_logits(teachers, dd, [load_tokenizer(t) for t in run.teacher],
                                      batch_size=run.inference_batch_size, device=config.device)
        else:
            check_same_tokenizer(run.teacher, run.model_name_or_path, tokenizer)
        kd_info = distillation_info(run, config, spec)
    tokenized = tokenize_dataset(dd, tokenizer, max_length=run.max_length, text_prefix=run.text_prefix)
    common = dict(model=model, args=config, task_spec=spec, train_dataset=tokenized["train"],
                  eval_dataset=tokenized.get("validation"), processing_class=tokenizer,
                  data_collator=DataCollatorWithPadding(tokenizer))
    if distil:
        trainer = trainer_class_for(config)(teacher_model=None if run.cached_teachers else teachers, **common)
    else:
        trainer = trainer_class_for(config)(**common)
    train_out = trainer.train(resume_from_checkpoint=job.resume_from_checkpoint)
    train_time = job.elapsed()

    outputs = {}
    for split in ("validation", "test"):
        if split in tokenized:
            pred = trainer.predict(tokenized[split], metric_key_prefix=split)
            outputs[split] = (pred.predictions, pred.label_ids)
    results, threshold = score_splits(spec, outputs, threshold=config.threshold, tune=config.tune_threshold,
                                      per_label=config.threshold_tuning == "per_label")
    if distil and run.cached_teachers:
        for split, (lg, y) in outputs.items():
            t_logits = np.asarray(dd[split]["teacher_logits"])
            results[f"{split}_loyalty"] = loyalty_metrics(spec, t_logits, lg, threshold)
            if len(teachers) == 1:
                t_thr = getattr(teachers[0].config, "hf_emo_threshold", config.threshold)
                results[f"{split}_teacher"] = task_metrics(spec, y, t_logits, t_thr)
    detail = detailed_report(spec, outputs["test"][1], outputs["test"][0], threshold) if "test" in outputs else {}

    model.config.hf_emo_threshold = threshold
    trainer.save_model(config.output_dir)
    info = {
        "task": spec.name, "model": run.model_name_or_path, "num_layers": run.num_layers, "pooling": run.pooling,
        "text_prefix": run.text_prefix, "max_length": run.max_length, "threshold": threshold,
        "train_runtime_s": train_time, "train_loss": train_out.training_loss,
        "split_sizes": {k: len(v) for k, v in dd.items()}, "split_note": spec.split_note,
        "resumed_from": job.resume_from_checkpoint,
    }
    if distil:
        info["distillation"] = kd_info
    record = RunRecord.for_config(trainer.method_description(), config, metrics=results, info=info, detail=detail,
                                  command=command or command_line("python", sys.argv))
    write_report(config.output_dir, spec=spec, record=record.to_dict(), log_history=trainer.state.log_history)
    finish_job(config.output_dir, job)
    return {"metrics": results, "run": record.run}


def trainer_class_for(config) -> type:
    """The exported trainer whose ``config_class`` is exactly the config's class: a new method's config, given to
    ``hf-emo train`` / ``distil`` through ``cli.TRAINING_JOBS``, brings its own trainer."""
    for name in trainer_family.__all__:
        cls = getattr(trainer_family, name)
        if isinstance(cls, type) and getattr(cls, "config_class", None) is type(config):
            return cls
    raise JobError(f"no trainer in hf_emo.trainers takes a {type(config).__name__}")


def check_same_tokenizer(teachers: list[str], student: str, student_tokenizer) -> None:
    """Live teachers read the student's ``input_ids``: refuse a teacher whose tokenizer maps text differently."""
    try:
        check_same_vocabulary([load_tokenizer(t) for t in teachers], student_tokenizer,
                              [f"teacher {public_name(t)}" for t in teachers])
    except ValueError as e:
        raise JobError(f"{e}: set teacher_mode cached") from None


def distillation_info(run: DistillRunArguments, config: DistillationConfig, spec) -> dict:
    """The KD settings a single-task distillation run records (``run.distillation``): teachers, temperature, alpha
    or its schedule, the KD loss; what ``hf-emo table kd-grid`` groups runs by."""
    from ..losses import get_kd_loss

    info = {"teachers": [public_name(t) for t in run.teacher], "teacher_column": run.teacher_column,
            "cached_teacher_logits": run.cached_teachers,
            "temperature": config.temperature, "alpha_schedule": config.alpha_schedule,
            "annealing": config.annealing, "kd_loss": get_kd_loss(config.kd_loss, spec.problem_type)[0],
            "teacher_aggregation": config.teacher_aggregation if len(run.teacher) > 1 else None}
    if config.alpha_schedule == "linear":
        info.update(alpha_start=config.alpha_start, alpha_end=config.alpha_end)
    else:
        info["alpha"] = config.alpha
    return info

