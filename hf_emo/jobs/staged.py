"""The job behind ``hf-emo stages``: one model trained through a schedule of stages (Matei §2.3).

Each stage trains the shared encoder (and the heads of its tasks) on its own mix of tasks, continuing from the
previous stage's weights. One schedule format covers Matei's cross-lingual settings:

* **multi-stage** (Fig. 1): English emotions (dair-ai) first, then REDv2 with its own head;
* **gradual** (Xu et al. 2021): the share of source-domain (English) examples shrinks stage by stage until the last
  stage holds only the target task;
* **multi-task cross-lingual** (Fig. 2): after an English stage, REDv2 together with a language discriminator
  (``xed_language``) that is adversarial (gradient reversal), discriminative (a plain task) or sign-reversed.

A stage is a mapping: ``tasks`` (task -> ``null`` for every training row, an int row count or a fraction in (0, 1]),
and optionally ``name``, ``num_train_epochs``, ``learning_rate``, ``task_weights``, ``adversarial_tasks`` (other
fields come from the run's config). ``metrics.json`` is written like a multi-task run's.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import DataCollatorWithPadding

from ..data.tokenize import tokenize_dataset
from ..method import MethodDescription
from ..trainers import MultiTaskConfig
from .multitask import MultiTaskJob, MultiTaskRunArguments, write_multitask_report
from .pipeline import register_method
from .record import RunRecord
from .run_folder import JobError

STAGE_KEYS = {
    "name",
    "tasks",
    "num_train_epochs",
    "learning_rate",
    "task_weights",
    "adversarial_tasks",
    "adversarial_mode",
    "task_sampler",
}


@dataclass
class StagedRunArguments(MultiTaskRunArguments):
    """``MultiTaskRunArguments`` (``tasks`` = every task of any stage) plus the stage schedule."""

    stages: str | None = field(
        default=None,
        metadata={
            "help": 'The schedule, JSON or YAML list: [{"name": "english", "tasks": {"dair_emotion": null}, '
            '"num_train_epochs": 1}, {"tasks": {"redv2": null}}].'
        },
    )
    eval_tasks: list[str] | None = field(
        default=None, metadata={"help": "Tasks evaluated after the last stage (default: the primary task)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.stages, str):
            try:
                self.stages = json.loads(self.stages)
            except json.JSONDecodeError as e:
                raise ValueError(f"stages is not valid JSON ({e}): {self.stages!r}") from None
        self.stages = validate_stages(self.stages, self.tasks)
        self.eval_tasks = list(self.eval_tasks or [self.primary_task])
        unknown = [t for t in self.eval_tasks if t not in self.tasks]
        if unknown:
            raise ValueError(f"eval_tasks {unknown} are not among tasks {self.tasks}")
        if self.freeze_encoder or self.teacher or self.teacher_columns:
            raise ValueError(
                "staged runs fine-tune the encoder without teachers: freeze_encoder, teacher and "
                "teacher_columns are not supported here"
            )


def validate_stages(stages, tasks: list[str]) -> list[dict]:
    """Check a schedule: a non-empty list of stages whose tasks are among ``tasks`` and whose sizes are valid."""
    if not isinstance(stages, list) or not stages:
        raise ValueError(f"stages must be a non-empty list of stage mappings, got {stages!r}")
    out = []
    for i, st in enumerate(stages):
        where = f"stage {i + 1}" + (f" ({st.get('name')})" if isinstance(st, dict) and st.get("name") else "")
        if not isinstance(st, dict) or not isinstance(st.get("tasks"), dict) or not st["tasks"]:
            raise ValueError(f"{where}: expected a mapping with a non-empty 'tasks' mapping, got {st!r}")
        extra = set(st) - STAGE_KEYS
        if extra:
            raise ValueError(f"{where}: unknown key(s) {sorted(extra)}; allowed: {sorted(STAGE_KEYS)}")
        for t, size in st["tasks"].items():
            if t not in tasks:
                raise ValueError(f"{where}: task {t!r} is not among the run's tasks {tasks}")
            ok = (
                size is None
                or (isinstance(size, int) and not isinstance(size, bool) and size > 0)
                or (isinstance(size, float) and 0 < size <= 1)
            )
            if not ok:
                raise ValueError(
                    f"{where}: size of {t!r} must be null (all rows), a positive row count or a "
                    f"fraction in (0, 1], got {size!r}"
                )
        if "num_train_epochs" in st and not float(st["num_train_epochs"]) > 0:
            raise ValueError(f"{where}: num_train_epochs must be > 0, got {st['num_train_epochs']!r}")
        out.append({**st, "name": st.get("name") or f"stage{i + 1}"})
    return out


def stage_rows(n: int, size) -> int:
    """Rows a stage takes from a training split of ``n`` rows: all, a count (at most ``n``) or a fraction."""
    if size is None:
        return n
    if isinstance(size, float):
        return max(1, int(round(size * n)))
    return min(int(size), n)


def stage_config(config: MultiTaskConfig, stage: dict) -> MultiTaskConfig:
    """The run's config with the stage's overrides (epochs, learning rate, task weights, adversarial tasks)."""
    over = {
        k: stage[k]
        for k in (
            "num_train_epochs",
            "learning_rate",
            "task_weights",
            "adversarial_tasks",
            "adversarial_mode",
            "task_sampler",
        )
        if k in stage
    }
    if "task_weights" in over:
        over["task_weights"] = {t: w for t, w in (over["task_weights"] or {}).items() if t in stage["tasks"]}
    return dataclasses.replace(config, **over)


class StagedJob(MultiTaskJob):
    """``hf-emo stages``: one model through a schedule of stages, each a multi-task training continuing from the
    previous stage's weights; then ``eval_tasks`` are scored on validation and test."""

    run_arguments = StagedRunArguments

    def check(self) -> None:
        super().check()
        if self.config.resume_from_checkpoint:
            raise JobError(
                "staged runs cannot resume from a checkpoint (each stage starts its own trainer): re-run "
                "with --overwrite_output_dir true"
            )

    def prepare(self) -> None:
        run = self.run
        self.model = self.build_model()
        self.data = self.load_tasks()
        self.tokenized = {
            t: tokenize_dataset(dd, self.tokenizer, max_length=run.max_length, text_prefix=run.text_prefix)
            for t, dd in self.data.items()
        }

    def train(self):
        """Every stage with its own trainer (its config overrides, its seeded subsets); ``self.trainer`` is the last."""
        config, collator = self.config, DataCollatorWithPadding(self.tokenizer)
        self.stage_info, self.history, output = [], [], None
        for i, st in enumerate(self.run.stages):
            cfg = stage_config(config, st)
            train = {}
            for t, size in st["tasks"].items():
                ds = self.tokenized[t]["train"]
                k = stage_rows(len(ds), size)
                # a different seeded subset per stage, so a shrinking source share still sees varied examples
                train[t] = ds if k == len(ds) else ds.shuffle(seed=config.seed + i).select(range(k))
            evals = {t: self.tokenized[t]["validation"] for t in st["tasks"] if "validation" in self.tokenized[t]}
            self.trainer = self.trainer_class(
                self.model,
                cfg,
                train_dataset=train,
                eval_dataset=evals or None,
                data_collator=collator,
                processing_class=self.tokenizer,
            )
            output = self.trainer.train()
            self.history += [{**h, "stage": st["name"]} for h in self.trainer.state.log_history]
            self.stage_info.append(
                {
                    "name": st["name"],
                    "rows": {t: len(d) for t, d in train.items()},
                    "num_train_epochs": cfg.num_train_epochs,
                    "learning_rate": cfg.learning_rate,
                    "steps": self.trainer.state.global_step,
                    "task_weights": cfg.task_weights or {},
                    "adversarial_tasks": cfg.adversarial_tasks or [],
                    "adversarial_mode": cfg.adversarial_mode if cfg.adversarial_tasks else None,
                    "train_loss": output.training_loss,
                }
            )
        return output  # the last stage's: its training loss is the run's

    def facts(self) -> dict[str, Any]:
        run = self.run
        return {
            "model": run.model_name_or_path,
            "tasks": run.tasks,
            "primary_task": run.primary_task,
            "eval_tasks": run.eval_tasks,
            "stages": self.stage_info,
            "head_layout": run.head_layout,
            "shared_layer_size": run.shared_layer_size,
            "pooling": run.pooling,
            "max_length": run.max_length,
            "thresholds": self.thresholds,
            "task_sampler": self.config.task_sampler,
            "split_sizes": {t: {k: len(v) for k, v in dd.items()} for t, dd in self.data.items()},
            "split_overlap": self.overlap,
            **({"row_caps": self.row_caps} if self.row_caps else {}),
        }

    def method(self) -> MethodDescription:
        """The multi-task method of the run's config (not the last stage's overrides; adversarial tasks are the
        stages' to say), then every stage."""
        base = self.trainer_class.describe(
            dataclasses.replace(self.config, adversarial_tasks=None), **self.trainer.method_facts()
        )
        words, citations = describe_stages(self.stage_info, self.run.eval_tasks)
        return dataclasses.replace(base, summary=base.summary + words, citations=(*base.citations, *citations))

    def report(self, record: RunRecord) -> None:
        write_multitask_report(
            self.config.output_dir, model=self.model, record=record.to_dict(), log_history=self.history
        )
        _append_stages(Path(self.config.output_dir) / "report.md", self.stage_info)


def describe_stages(stages: list[dict], eval_tasks: list[str] | None = None) -> tuple[str, tuple[str, ...]]:
    """The sentence a staged run adds to its method's summary (Matei §2.3; Xu et al. 2021; ADAN, Chen et al. 2018
    when a stage trains a task adversarially), and the citations it brings."""
    adversarial = any(st.get("adversarial_tasks") for st in stages)
    desc = []
    for st in stages:
        d = (
            f"`{st['name']}` ({', '.join(f'{t}: {n} rows' for t, n in st['rows'].items())}; "
            f"{st['num_train_epochs']:g} epochs at lr {st['learning_rate']:g}"
        )
        if st.get("adversarial_tasks"):
            d += f"; {', '.join(st['adversarial_tasks'])} trained by {st['adversarial_mode'].replace('_', ' ')}"
        desc.append(d + ")")
    words = (
        " Trained in stages, each continuing from the previous one's weights (Matei §2.3: multi-stage / gradual "
        "fine-tuning, Xu et al. 2021"
        + ("; a language discriminator against the shared encoder, ADAN, Chen et al. 2018" if adversarial else "")
        + "): "
        + "; then ".join(desc)
        + (f". Evaluated on {', '.join(eval_tasks)}." if eval_tasks else ".")
    )
    return words, ("xu2021", *(("chen2018adan",) if adversarial else ()))


def _append_stages(report: Path, stages: list[dict]) -> None:
    lines = [
        "",
        "## Stages",
        "",
        "| stage | rows per task | epochs | lr | steps | adversarial | train loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in stages:
        adv = f"{', '.join(s['adversarial_tasks'])} ({s['adversarial_mode']})" if s["adversarial_tasks"] else "–"
        lines.append(
            f"| {s['name']} | {s['rows']} | {s['num_train_epochs']:g} | {s['learning_rate']:g} | "
            f"{s['steps']} | {adv} | {s['train_loss']:.4f} |"
        )
    with open(report, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


register_method(
    "stages", StagedJob, help="one model through a schedule of stages (multi-stage / gradual / cross-lingual MTL)"
)
