"""The single-task jobs behind ``hf-emo train`` / ``hf-emo distil``: data -> model -> EmotionTrainer /
DistillationTrainer -> scores of validation and test (threshold tuned) -> report, on the shared pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from transformers import DataCollatorWithPadding

from ..data import TASKS, load_local, load_task
from ..data.build import cap_rows
from ..data.stats import split_overlap, warn_about_overlap
from ..data.tokenize import tokenize_dataset
from ..metrics import detailed_report, loyalty_metrics, score_splits, task_metrics
from ..models import build_classifier, is_classifier, load_classifier, load_tokenizer
from ..models.factory import POOLINGS
from ..report import write_report
from ..teachers import (
    cache_teacher_logits,
    check_same_vocabulary,
    check_teacher_label_space,
    teacher_logits_from_column,
)
from ..method import MethodDescription
from ..scrub import public_name
from ..trainers import DistillationTrainer, EmotionTrainer
from .pipeline import TrainingJob, register_method
from .record import RunRecord
from .run_folder import JobArguments, JobError


@dataclass
class RunArguments(JobArguments):
    """What to train on and from: the model and the data. (Training settings live in ``EmotionConfig``.)"""

    model_name_or_path: str = field(
        default="multilingual-e5-small",
        metadata={"help": "Hub id, local folder, or an offline zoo name (multilingual-e5-small, all-MiniLM-L6-v2)."},
    )
    task: str | None = field(default="redv2", metadata={"help": "A registered task (hf-emo data), or none with files."})
    data_dir: str | None = field(default=None, metadata={"help": "Folder of local data copies (HF_EMO_DATA_DIR)."})
    train_file: str | None = field(default=None, metadata={"help": "Own data: train CSV/TSV/JSON/JSONL."})
    validation_file: str | None = None
    test_file: str | None = None
    text_column: str = "text"
    label_columns: list[str] = field(
        default_factory=lambda: ["label"],
        metadata={"help": "One column (label names) or several (one per label / dimension)."},
    )
    problem_type: str | None = field(
        default=None,
        metadata={
            "help": "multi_label, single_label or regression (transformers' multi_label_classification and "
            "single_label_classification are read too)."
        },
    )
    label_sep: str | None = None
    task_name: str = field(default="custom", metadata={"help": "Own data: the task's name (in the card and record)."})
    language: str = field(
        default="und", metadata={"help": "Own data: the texts' language, an ISO 639-1 code such as ro (in the card)."}
    )
    pooling: str = field(default="mean", metadata={"help": "mean, cls, or pooler (the architecture's own head)."})
    text_prefix: str = field(default="", metadata={"help": "Prepended to every text, e.g. 'query: ' for E5."})
    max_length: int = 128
    max_train_samples: int | None = field(default=None, metadata={"help": "Cap the training rows (quick runs)."})
    max_eval_samples: int | None = field(
        default=None,
        metadata={
            "help": "Cap the validation rows (a seeded subset, stated in the record): for quick runs only, figures "
            "to compare must use the full splits."
        },
    )
    max_test_samples: int | None = field(
        default=None, metadata={"help": "Cap the test rows (a seeded subset, stated in the record): quick runs only."}
    )
    num_layers: int | None = field(
        default=None,
        metadata={"help": "Keep this many evenly spaced encoder layers (DistilBERT-style student: every other layer)."},
    )

    def __post_init__(self) -> None:
        from ..data.spec import problem_type_name

        for name in ("max_length", "max_train_samples", "max_eval_samples", "max_test_samples", "num_layers"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        self.problem_type = problem_type_name(self.problem_type)  # transformers' names are read too
        if not self.label_columns:
            raise ValueError("label_columns is empty")


TEACHER_MODES = ("cached", "live")


@dataclass
class DistillRunArguments(RunArguments):
    """``RunArguments`` plus the teachers of ``hf-emo distil``."""

    teacher: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Teacher model(s): fine-tuned folders or Hub ids with the task's label names. Several = ensemble."
        },
    )
    teacher_column: str | None = field(
        default=None,
        metadata={
            "help": "Distil a data column of per-label probabilities instead of a teacher model, e.g. REDv2's "
            "soft_labels (each label's share of the annotators' votes: KD from the annotators' disagreement)."
        },
    )
    teacher_mode: str = field(
        default="cached",
        metadata={
            "help": "cached: run the teachers once over all splits (each with its own tokenizer) and train from their "
            "logits; live: run them on every batch (they must share the student's tokenizer)."
        },
    )
    inference_batch_size: int = field(
        default=64,
        metadata={"help": "Batch size of the forward passes outside training (caching the teachers' logits)."},
    )
    teacher_cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "Keep the teachers' logits of each split here, keyed by the teachers' weights and the data, and "
            "reuse them across runs (the seeds of a study, a T x alpha grid: each run then costs only the student's "
            "training). Cached mode only."
        },
    )

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
        files = {
            k: v
            for k, v in (("train", run.train_file), ("validation", run.validation_file), ("test", run.test_file))
            if v
        }
        if run.problem_type is None:
            raise JobError("problem_type (multi_label, single_label or regression) is required with train_file")
        cols = run.label_columns[0] if len(run.label_columns) == 1 else run.label_columns
        dd = load_local(
            files,
            text_column=run.text_column,
            label_columns=cols,
            problem_type=run.problem_type,
            label_sep=run.label_sep,
            task_name=run.task_name,
            language=run.language,
        )
        return dd, dd.task_spec
    if not run.task:
        raise JobError("set either task or train_file")
    if run.task not in TASKS:
        raise JobError(f"unknown task {run.task!r}; registered tasks: {sorted(TASKS)} (or give train_file)")
    return load_task(run.task, run.data_dir), TASKS[run.task]


class SingleTaskJob(TrainingJob):
    """``hf-emo train``: fine-tune a classifier (or continue a fine-tuned one) on one task, score validation and test
    (the multi-label threshold tuned on validation), save the model with its threshold and write the report."""

    run_arguments = RunArguments
    trainer_class = EmotionTrainer

    def prepare(self) -> None:
        run, config = self.run, self.config
        dd, self.spec = load_data(run)
        if run.max_train_samples:
            dd["train"] = (
                dd["train"].shuffle(seed=config.seed).select(range(min(run.max_train_samples, len(dd["train"]))))
            )
        self.row_caps = cap_rows(dd, {"validation": run.max_eval_samples, "test": run.max_test_samples}, config.seed)
        self.overlap = split_overlap(dd)
        warn_about_overlap(self.overlap)
        self.tokenizer = tokenizer = load_tokenizer(run.model_name_or_path)
        if is_classifier(run.model_name_or_path):
            self.model = load_classifier(run.model_name_or_path)
        else:
            self.model = build_classifier(
                run.model_name_or_path,
                self.spec,
                pooling=run.pooling,
                text_prefix=run.text_prefix,
                max_length=run.max_length,
                num_layers=run.num_layers,
            )
        self.dd = self.with_teachers(dd)
        self.tokenized = tokenize_dataset(self.dd, tokenizer, max_length=run.max_length, text_prefix=run.text_prefix)
        self.trainer = self.trainer_class(
            model=self.model,
            args=config,
            task_spec=self.spec,
            train_dataset=self.tokenized["train"],
            eval_dataset=self.tokenized.get("validation"),
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
            **self.trainer_arguments(),
        )

    def with_teachers(self, dd):
        """The data the trainer reads (a distillation job adds the teachers' logits)."""
        return dd

    def trainer_arguments(self) -> dict[str, Any]:
        """Constructor arguments of the trainer beyond the shared ones (a distillation job's live teachers)."""
        return {}

    def score(self) -> tuple[dict[str, dict], dict[str, Any]]:
        self.outputs = {}
        for split in ("validation", "test"):
            if split in self.tokenized:
                pred = self.trainer.predict(self.tokenized[split], metric_key_prefix=split)
                self.outputs[split] = (pred.predictions, pred.label_ids)
        config = self.config
        results, self.threshold = score_splits(
            self.spec,
            self.outputs,
            threshold=config.threshold,
            tune=config.tune_threshold,
            per_label=config.threshold_tuning == "per_label",
        )
        test = self.outputs.get("test")
        detail = detailed_report(self.spec, test[1], test[0], self.threshold) if test is not None else {}
        return results, detail

    def save(self) -> None:
        self.model.config.hf_emo_threshold = self.threshold
        super().save()

    def facts(self) -> dict[str, Any]:
        run = self.run
        return {
            "task": self.spec.name,
            "model": run.model_name_or_path,
            "num_layers": run.num_layers,
            "pooling": run.pooling,
            "text_prefix": run.text_prefix,
            "max_length": run.max_length,
            "threshold": self.threshold,
            "split_sizes": {k: len(v) for k, v in self.dd.items()},
            "split_note": self.spec.split_note,
            "split_overlap": self.overlap,
            **({"row_caps": self.row_caps} if self.row_caps else {}),
        }

    def report(self, record: RunRecord) -> None:
        write_report(
            self.config.output_dir, spec=self.spec, record=record.to_dict(), log_history=self.trainer.state.log_history
        )


class DistillationJob(SingleTaskJob):
    """``hf-emo distil``: :class:`SingleTaskJob` with teachers (models, cached or live, or a column of teacher
    probabilities); the student's loyalty to a cached teacher, and that teacher's own scores, are reported too."""

    run_arguments = DistillRunArguments
    trainer_class = DistillationTrainer

    def check(self) -> None:
        run = self.run
        if run.teacher and run.teacher_column:
            raise JobError(
                f"give --teacher or --teacher_column, not both (teacher {run.teacher}, teacher_column "
                f"{run.teacher_column!r})"
            )
        if not run.teacher and not run.teacher_column:
            raise JobError("distillation needs at least one --teacher, or a --teacher_column of teacher probabilities")

    def with_teachers(self, dd):
        run, config, spec = self.run, self.config, self.spec
        self.teachers = [load_classifier(t) for t in run.teacher]
        for i, t in enumerate(self.teachers):
            check_teacher_label_space(t, spec, i)
        if run.teacher_column:
            try:
                return teacher_logits_from_column(dd, run.teacher_column, spec, temperature=config.temperature)
            except ValueError as e:
                raise JobError(f"{run.task or run.train_file}: {e}") from None
        if run.cached_teachers:
            return cache_teacher_logits(
                self.teachers,
                dd,
                [load_tokenizer(t) for t in run.teacher],
                batch_size=run.inference_batch_size,
                device=config.device,
                cache_dir=run.teacher_cache_dir or None,
            )
        check_same_tokenizer(run.teacher, run.model_name_or_path, self.tokenizer)
        return dd

    def trainer_arguments(self) -> dict[str, Any]:
        return {"teacher_model": None if self.run.cached_teachers else self.teachers}

    def score(self) -> tuple[dict[str, dict], dict[str, Any]]:
        results, detail = super().score()
        if self.run.cached_teachers:
            for split, (logits, labels) in self.outputs.items():
                teacher_logits = np.asarray(self.dd[split]["teacher_logits"])
                results[f"{split}_loyalty"] = loyalty_metrics(self.spec, teacher_logits, logits, self.threshold)
                if len(self.teachers) == 1:
                    t_thr = getattr(self.teachers[0].config, "hf_emo_threshold", self.config.threshold)
                    results[f"{split}_teacher"] = task_metrics(self.spec, labels, teacher_logits, t_thr)
        return results, detail

    def method_facts(self) -> dict[str, Any]:
        return {"teacher_names": [public_name(t) for t in self.run.teacher], "teacher_column": self.run.teacher_column}

    def planned_method(self) -> MethodDescription:
        run = self.run
        problem_type = TASKS[run.task].problem_type if run.task in TASKS else run.problem_type
        return self.trainer_class.describe(
            self.config,
            problem_type=problem_type,
            pooling=run.pooling,
            teachers=max(1, len(run.teacher)),
            cached_teacher_logits=run.cached_teachers,
            **self.method_facts(),
        )


def check_same_tokenizer(teachers: list[str], student: str, student_tokenizer) -> None:
    """Live teachers read the student's ``input_ids``: refuse a teacher whose tokenizer maps text differently."""
    try:
        check_same_vocabulary(
            [load_tokenizer(t) for t in teachers], student_tokenizer, [f"teacher {public_name(t)}" for t in teachers]
        )
    except ValueError as e:
        raise JobError(f"{e}: set teacher_mode cached") from None


register_method("train", SingleTaskJob, help="fine-tune on a task: hf-emo train --config FILE.yaml [--key value ...]")
register_method(
    "distil", DistillationJob, help="distil teacher(s) into a student: hf-emo distil --config FILE.yaml --teacher DIR"
)
