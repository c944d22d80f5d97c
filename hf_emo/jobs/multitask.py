"""The multi-task job behind ``hf-emo mtl``: tasks -> MultiTaskModel -> MultiTaskTrainer (MTL / MTKD / GradNorm) ->
report.

``metrics.json`` holds ``{split: {"<task>_<metric>": value}}`` (splits ``validation``, ``test`` and, for multi-label
tasks, ``*_tuned`` with the threshold chosen on validation), so ``hf-emo table seeds`` reads it like a single-task run.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import DataCollatorWithPadding

from ..data import TASKS, load_task
from ..data.build import cap_rows
from ..data.stats import split_overlap, warn_about_overlap
from ..data.tokenize import tokenize_dataset
from ..models import build_multitask_model, load_classifier, load_tokenizer
from ..report import method_section
from ..teachers import cache_teacher_logits, check_teacher_label_space, teacher_logits_from_column
from ..method import MethodDescription
from ..metrics import score_splits
from ..scrub import public_name
from ..trainers import MultiTaskConfig, MultiTaskTrainer
from .pipeline import TrainingJob, register_method
from .record import RunRecord
from .run_folder import JobArguments

logger = logging.getLogger(__name__)


def _mapping(value, name: str) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise ValueError(f"{name} is not valid JSON ({e}): {value!r}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a mapping task -> value, got {value!r}")
    return value


@dataclass
class MultiTaskRunArguments(JobArguments):
    """What a multi-task run trains on: the encoder, the tasks and their sizes, the head layout, the teachers."""

    model_name_or_path: str = field(
        default="multilingual-e5-small", metadata={"help": "Encoder: Hub id, local folder, or an offline zoo name."}
    )
    tasks: list[str] = field(
        default_factory=lambda: ["redv2", "laroseda", "ag_news"],
        metadata={
            "help": "Registered tasks (hf-emo data); the first is the primary task unless primary_task says otherwise."
        },
    )
    primary_task: str | None = None
    data_dir: str | None = None
    head_layout: str = field(default="multi_head", metadata={"help": "multi_head or shared_embedding."})
    shared_layer_size: int | None = field(
        default=None,
        metadata={
            "help": "Width of the shared base layer (TBED-MTL: 256, ReLU); none = heads on the pooled encoder output."
        },
    )
    pooling: str = "mean"
    text_prefix: str = ""
    max_length: int = 128
    freeze_encoder: bool = field(
        default=False,
        metadata={"help": "Keep the encoder fixed and train on its pooled outputs, computed once (TBED-MTL)."},
    )
    max_train_samples: dict | str | None = field(
        default=None,
        metadata={
            "help": 'Cap per task, JSON, e.g. {"laroseda": 2000}, or one number for every task: a seeded random '
            "subset of the training rows."
        },
    )
    max_eval_samples: int | None = field(
        default=None,
        metadata={"help": "Cap every task's validation rows (a seeded subset, stated in the record): quick runs only."},
    )
    max_test_samples: int | None = field(
        default=None,
        metadata={"help": "Cap every task's test rows (a seeded subset, stated in the record): quick runs only."},
    )
    train_fraction: dict | str | None = field(
        default=None,
        metadata={
            "help": 'Fraction of a task\'s training rows, JSON, e.g. {"semeval2018_ec": 0.1} (TBED-MTL Table 2).'
        },
    )
    teacher: dict | str | None = field(
        default=None,
        metadata={
            "help": 'MTKD teachers per task, JSON, e.g. {"redv2": "runs/redv2_baseline"}, or a list of folders for an '
            'ensemble, {"redv2": ["runs/a", "runs/b"]} (combined by teacher_aggregation): their logits are '
            "cached on every split (each with its own tokenizer)."
        },
    )
    teacher_columns: dict | str | None = field(
        default=None,
        metadata={
            "help": "Per task, a data column of teacher probabilities to distil instead of a teacher model, JSON, e.g. "
            '{"redv2": "soft_labels"} (each label\'s share of REDv2\'s annotators\' votes); a task takes a '
            "teacher or a teacher column, not both."
        },
    )
    teacher_batch_size: int = 64
    teacher_cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "Keep the teachers' logits of each split here, keyed by the teachers' weights and the data, and "
            "reuse them across runs (a T x alpha grid: each cell then costs only the student's training)."
        },
    )
    features_cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "With freeze_encoder: keep the encoder features of each split here and reuse them across runs."
        },
    )
    early_stopping_patience: int | None = field(
        default=None,
        metadata={
            "help": "Stop after this many evaluations without improvement of metric_for_best_model (default: "
            "eval_loss, "
            "the sum of the tasks' validation losses, TBED-MTL) and restore the best weights (kept in memory)."
        },
    )

    def __post_init__(self) -> None:
        for name in ("max_eval_samples", "max_test_samples"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if isinstance(self.max_train_samples, str) and self.max_train_samples.strip().isdigit():
            self.max_train_samples = int(self.max_train_samples)
        if isinstance(self.max_train_samples, int) and not isinstance(self.max_train_samples, bool):
            if self.max_train_samples < 1:
                raise ValueError(f"max_train_samples must be >= 1, got {self.max_train_samples}")
            self.max_train_samples = {t: self.max_train_samples for t in self.tasks}  # one cap for every task
        self.max_train_samples = _mapping(self.max_train_samples, "max_train_samples")
        self.train_fraction = _mapping(self.train_fraction, "train_fraction")
        self.teacher = _mapping(self.teacher, "teacher")
        self.teacher_columns = _mapping(self.teacher_columns, "teacher_columns")
        if not self.tasks:
            raise ValueError("tasks is empty")
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"unknown task(s) {unknown}; registered: {sorted(TASKS)}")
        self.primary_task = self.primary_task or self.tasks[0]
        if self.primary_task not in self.tasks:
            raise ValueError(f"primary_task {self.primary_task!r} is not one of tasks {self.tasks}")
        for name, m in (
            ("max_train_samples", self.max_train_samples),
            ("train_fraction", self.train_fraction),
            ("teacher", self.teacher),
            ("teacher_columns", self.teacher_columns),
        ):
            unknown = [t for t in m if t not in TASKS]
            if unknown:
                raise ValueError(f"{name} names unknown task(s) {unknown}; registered: {sorted(TASKS)}")
            for t in [t for t in m if t not in self.tasks]:  # a shared config may name tasks this run leaves out
                logger.warning("%s[%r] ignored: %r is not one of this run's tasks %s", name, t, t, self.tasks)
                del m[t]
        both = sorted(set(self.teacher) & set(self.teacher_columns))
        if both:
            raise ValueError(
                f"task(s) {both} have both a teacher ({ {t: self.teacher[t] for t in both} }) and a "
                f"teacher column ({ {t: self.teacher_columns[t] for t in both} }): give one per task"
            )
        for t, col in self.teacher_columns.items():
            if not isinstance(col, str) or not col:
                raise ValueError(f"teacher_columns[{t!r}] must be a column name, got {col!r}")
        for t, f in self.train_fraction.items():
            if not 0 < float(f) <= 1:
                raise ValueError(f"train_fraction[{t!r}] must be in (0, 1], got {f}")


def subsample(data: dict, run: MultiTaskRunArguments, seed: int) -> dict:
    """Apply the run's ``train_fraction`` and ``max_train_samples`` to the training splits (a seeded random subset)."""
    out = {}
    for t, dd in data.items():
        n = len(dd["train"])
        keep = n
        if t in run.train_fraction:
            keep = max(1, int(round(float(run.train_fraction[t]) * n)))
        if t in run.max_train_samples:
            keep = min(keep, int(run.max_train_samples[t]))
        if keep < n:
            dd = type(dd)({**dd, "train": dd["train"].shuffle(seed=seed).select(range(keep))})
        out[t] = dd
    return out


class MultiTaskJob(TrainingJob):
    """``hf-emo mtl``: train on every task at once (MTL, MTKD with teachers per task, GradNorm), score each task on
    validation and test, save the model with its tuned thresholds and write the report."""

    run_arguments = MultiTaskRunArguments
    trainer_class = MultiTaskTrainer

    def check(self) -> None:
        self.config = drop_other_tasks(self.config, self.run.tasks)

    def build_model(self, **extra: Any):
        """The tokenizer (``self.tokenizer``) and the multi-task model of the run's encoder, tasks and head layout."""
        run = self.run
        self.tokenizer = load_tokenizer(run.model_name_or_path)
        return build_multitask_model(
            run.model_name_or_path,
            [TASKS[t] for t in run.tasks],
            pooling=run.pooling,
            head_layout=run.head_layout,
            shared_layer_size=run.shared_layer_size,
            text_prefix=run.text_prefix,
            max_length=run.max_length,
            **extra,
        )

    def prepare(self) -> None:
        run, config = self.run, self.config
        self.model = self.build_model(freeze_encoder=run.freeze_encoder)
        tokenizer = self.tokenizer
        data = self.load_tasks()
        if run.freeze_encoder:  # features of the full splits, computed once (and kept on disk across seeds)
            from ..features import cache_encoder_features

            data = {
                t: cache_encoder_features(
                    self.model,
                    dd,
                    tokenizer,
                    max_length=run.max_length,
                    batch_size=run.teacher_batch_size,
                    desc=f"encoder features {t}",
                    cache_dir=run.features_cache_dir or None,
                    device=config.device,
                )
                for t, dd in data.items()
            }
        data = subsample(data, run, config.seed)
        self.data = data = with_task_teachers(data, run, config)
        if run.freeze_encoder:
            from transformers import default_data_collator

            keep = ("features", "labels", "teacher_logits", "weight")
            # tensors straight from Arrow: a batch of python float lists costs more to collate than the step itself
            self.tokenized = {
                t: dd.select_columns([c for c in keep if c in dd["train"].column_names]).with_format("torch")
                for t, dd in data.items()
            }
            collator = default_data_collator
        else:
            self.tokenized = {
                t: tokenize_dataset(dd, tokenizer, max_length=run.max_length, text_prefix=run.text_prefix)
                for t, dd in data.items()
            }
            collator = DataCollatorWithPadding(tokenizer)
        callbacks = []
        if run.early_stopping_patience:
            from ..callbacks import EarlyStoppingInMemory

            callbacks.append(EarlyStoppingInMemory(run.early_stopping_patience))
        self.trainer = self.trainer_class(
            self.model,
            config,
            train_dataset={t: dd["train"] for t, dd in self.tokenized.items()},
            eval_dataset={t: dd["validation"] for t, dd in self.tokenized.items() if "validation" in dd},
            data_collator=collator,
            processing_class=tokenizer,
            callbacks=callbacks,
        )

    def load_tasks(self) -> dict:
        """Every task's splits, validation and test cut to ``max_eval_samples`` / ``max_test_samples`` rows."""
        run = self.run
        data = {t: load_task(t, run.data_dir) for t in run.tasks}
        caps = {"validation": run.max_eval_samples, "test": run.max_test_samples}
        self.row_caps = {t: cut for t, dd in data.items() if (cut := cap_rows(dd, caps, self.config.seed))}
        self.overlap = {t: split_overlap(dd) for t, dd in data.items()}
        for t, overlap in self.overlap.items():
            warn_about_overlap(overlap, f"task {t}: ")
        return data

    def score(self) -> tuple[dict[str, dict], dict[str, Any]]:
        results, self.thresholds = evaluate_tasks(
            self.trainer, self.tokenized, self.config, getattr(self.run, "eval_tasks", None)
        )
        return results, {}

    def save(self) -> None:
        self.model.config.thresholds = self.thresholds
        super().save()

    def facts(self) -> dict[str, Any]:
        run, config, state = self.run, self.config, self.trainer.state
        return {
            "model": run.model_name_or_path,
            "tasks": run.tasks,
            "primary_task": run.primary_task,
            "head_layout": run.head_layout,
            "shared_layer_size": run.shared_layer_size,
            "pooling": run.pooling,
            "freeze_encoder": run.freeze_encoder,
            "max_length": run.max_length,
            "thresholds": self.thresholds,
            "task_sampler": config.task_sampler,
            "early_stopping_patience": run.early_stopping_patience,
            "best_step": state.best_global_step,
            "steps": state.global_step,
            "loss_weighting": config.loss_weighting,
            "task_weights": config.task_weights or {},
            "train_fraction": run.train_fraction,
            "max_train_samples": run.max_train_samples,
            "split_sizes": {t: {k: len(v) for k, v in dd.items()} for t, dd in self.data.items()},
            "split_overlap": self.overlap,
            **({"row_caps": self.row_caps} if self.row_caps else {}),
        }

    def method_facts(self) -> dict[str, Any]:
        return task_teacher_names(self.run)

    def planned_method(self) -> MethodDescription:
        run, config = self.run, self.config
        taught = sorted({*run.teacher, *run.teacher_columns})
        return self.trainer_class.describe(
            config,
            head_layout=run.head_layout,
            shared_layer_size=run.shared_layer_size,
            freeze_encoder=run.freeze_encoder,
            teachers=taught,
            kd_losses={t: config.kd_loss_name(t, TASKS[t].problem_type) for t in taught},
            **self.method_facts(),
        )

    def report(self, record: RunRecord) -> None:
        write_multitask_report(
            self.config.output_dir,
            model=self.model,
            record=record.to_dict(),
            log_history=self.trainer.state.log_history,
            task_weight_history=self.trainer.gradnorm_history,
        )


TASK_FIELDS = ("task_weights", "task_losses", "task_kd_losses", "adversarial_tasks")


def drop_other_tasks(config: MultiTaskConfig, tasks: list[str]) -> MultiTaskConfig:
    """``config`` without the per-task entries (``task_weights``, ``task_losses``, ``task_kd_losses``,
    ``adversarial_tasks``) of registered tasks this run leaves out, each with a warning: one config serves a study
    whose ablations drop a task with ``--tasks`` (the run arguments' own per-task mappings follow the same rule). A
    name that is no registered task is refused."""
    changes = {}
    for name in TASK_FIELDS:
        value = getattr(config, name, None) or ()
        unknown = [t for t in value if t not in TASKS]
        if unknown:
            raise ValueError(f"{name} names unknown task(s) {unknown}; registered: {sorted(TASKS)}")
        other = [t for t in value if t not in tasks]
        if other:
            logger.warning("%s: %s ignored: not among this run's tasks %s", name, other, tasks)
            kept = [t for t in value if t in tasks]
            changes[name] = {t: value[t] for t in kept} if isinstance(value, dict) else kept
    return dataclasses.replace(config, **changes) if changes else config


def with_task_teachers(data: dict, run: MultiTaskRunArguments, config: MultiTaskConfig) -> dict:
    """MTKD: each task with a teacher (or an ensemble, or a column of teacher probabilities) gets its logits as a
    ``teacher_logits`` column on every split."""
    data = dict(data)
    for t, paths in run.teacher.items():
        paths = paths if isinstance(paths, list) else [paths]
        teachers = [load_classifier(p) for p in paths]
        for i, teacher in enumerate(teachers):
            check_teacher_label_space(teacher, TASKS[t], i)
        data[t] = cache_teacher_logits(
            teachers if len(teachers) > 1 else teachers[0],
            data[t],
            [load_tokenizer(p) for p in paths] if len(paths) > 1 else load_tokenizer(paths[0]),
            batch_size=run.teacher_batch_size,
            desc=f"teacher logits {t}",
            cache_dir=run.teacher_cache_dir or None,
            device=config.device,
        )
    for t, column in run.teacher_columns.items():  # MTKD from a column of teacher probabilities (no teacher model)
        try:
            data[t] = teacher_logits_from_column(data[t], column, TASKS[t], temperature=config.temperature)
        except ValueError as e:
            raise ValueError(f"task {t!r}: {e}") from None
    return data


def task_teacher_names(run: MultiTaskRunArguments) -> dict[str, Any]:
    """The method facts of a multi-task run's teachers: ``teacher_names`` per task (Hub ids or folder names) and
    ``teacher_columns``."""
    return {
        "teacher_names": {
            t: [public_name(x) for x in p] if isinstance(p, list) else public_name(p) for t, p in run.teacher.items()
        },
        "teacher_columns": dict(run.teacher_columns),
    }


def evaluate_tasks(
    trainer: MultiTaskTrainer, tokenized: dict, config: MultiTaskConfig, tasks: list[str] | None = None
) -> tuple[dict[str, dict], dict[str, float]]:
    """``({split: {"<task>_<metric>": value}}, {task: tuned threshold})`` on validation and test of every task (or
    of ``tasks``); multi-label thresholds are tuned on validation and reported as ``*_tuned`` splits."""
    results: dict[str, dict] = {}
    thresholds: dict[str, float] = {}
    for t, dd in tokenized.items():
        if tasks is not None and t not in tasks:
            continue
        spec = TASKS[t]
        preds = {s: trainer.predict_task(t, dd[s], metric_key_prefix=s) for s in ("validation", "test") if s in dd}
        scored, thr = score_splits(
            spec,
            {s: (p.predictions, p.label_ids) for s, p in preds.items()},
            threshold=config.threshold,
            tune=config.tune_threshold,
            per_label=config.threshold_tuning == "per_label",
        )
        if any(s.endswith("_tuned") for s in scored):
            thresholds[t] = thr
        for split, metrics in scored.items():
            for k, v in metrics.items():
                results.setdefault(split, {})[f"{t}_{k}"] = v
    for s in list(results):  # tasks without a tuned threshold keep their plain numbers in the *_tuned split
        if s.endswith("_tuned"):
            base = results[s.removesuffix("_tuned")]
            results[s] = {**base, **results[s]}
    return results, thresholds


def write_multitask_report(
    out_dir: str | Path, *, model, record: dict, log_history: list[dict], task_weight_history: list[dict] | None = None
) -> dict[str, Path]:
    """``metrics.json``, ``report.md`` (one table per task), the label correlation (CSV + PNG), the training
    curves of the primary task and, with GradNorm, the task-weight curves."""
    from ..report import _fmt, plot_task_weights, plot_training_curves, write_label_correlation

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "report": out / "report.md"}
    paths["metrics"].write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    run_info = record["run"]
    metrics = {k: v for k, v in record.items() if k not in ("run", "detail") and isinstance(v, dict)}
    paths.update(
        write_label_correlation(
            *model.label_correlation(), out, title=f"Label correlation ({model.config.head_layout})"
        )
    )
    primary = run_info["primary_task"]
    curves = plot_training_curves(log_history, f"{primary}_{TASKS[primary].metric}", out / "training_curves.png")
    weights = plot_task_weights(task_weight_history or log_history, out / "task_weights.png")
    if task_weight_history:
        (out / "task_weights.json").write_text(json.dumps(task_weight_history))
    lines = [f"# Multi-task run: {', '.join(run_info['tasks'])} on {run_info['model']}", ""]
    for k in (
        "primary_task",
        "head_layout",
        "shared_layer_size",
        "freeze_encoder",
        "task_sampler",
        "loss_weighting",
        "task_weights",
        "train_fraction",
        "max_train_samples",
        "thresholds",
        "train_runtime_s",
        "machine",
        "command",
    ):
        if run_info.get(k) not in (None, {}, ""):
            lines.append(f"- {k}: `{run_info[k]}`")
    lines += method_section(run_info)
    for t in run_info["tasks"]:
        spec = TASKS[t]
        lines += ["", f"## {t} ({spec.problem_type}, {spec.language}; split sizes {run_info['split_sizes'][t]})", ""]
        if spec.split_note:
            lines += [f"Splits: {spec.split_note}.", ""]
        splits = [s for s in metrics if any(k.startswith(f"{t}_") for k in metrics[s])]
        keys = sorted({k for s in splits for k in metrics[s] if k.startswith(f"{t}_")})
        if not splits:
            lines.append("Not evaluated (trained on, but not in the run's evaluation tasks).")
            continue
        lines += ["| metric | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
        lines += [
            f"| {k.removeprefix(t + '_')} | " + " | ".join(_fmt(metrics[s].get(k, "")) for s in splits) + " |"
            for k in keys
        ]
    lines += ["", "![label correlation](label_correlation.png)"]
    if curves:
        paths["training_curves"] = curves
        lines += ["", "![training curves](training_curves.png)"]
    if weights:
        paths["task_weights"] = weights
        lines += ["", "![GradNorm task weights](task_weights.png)"]
    paths["report"].write_text("\n".join(lines) + "\n")
    return paths


register_method("mtl", MultiTaskJob, help="multi-task learning / MTKD / GradNorm: hf-emo mtl --config FILE.yaml")
