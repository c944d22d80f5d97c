"""The job behind ``hf-emo pretrain``: distil a language model into its half-depth student on a text corpus (by
default the Romanian training texts of the project's data sets; or a user's files or a Hub dataset, optionally
streamed), then save the student for fine-tuning."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.corpus import group_blocks, load_text_corpus, task_corpus
from ..models.factory import check_max_length
from ..models.student import init_student_from_teacher
from ..models.vocab import prune_vocabulary
from ..report import plot_loss_parts
from ..scrub import public_name
from ..trainers import PretrainingDistillationTrainer
from ..trainers.pretraining_distillation_trainer import _load_lm, objective_of
from .pipeline import TrainingJob, register_method
from .record import RunRecord
from .run_folder import JobArguments, JobError

ROMANIAN_CORPUS = ("redv2", "redv1", "laroseda", "xed_en_ro")


@dataclass
class PretrainingRunArguments(JobArguments):
    """The teachers, the student's layers and the corpus of a pretraining distillation run."""

    teacher: list[str] = field(
        default_factory=lambda: ["SmolLM2-135M-Instruct"],
        metadata={
            "help": "Teacher language model(s), with their LM head: Hub ids, folders or zoo names; the first one's "
            "tokenizer and architecture make the student."
        },
    )
    student_layers: list[int] | None = field(
        default=None,
        metadata={"help": "The teacher layers the student keeps (default: every other one, 0, 2, 4, ...)."},
    )
    corpus_tasks: list[str] = field(
        default_factory=lambda: list(ROMANIAN_CORPUS),
        metadata={
            "help": "Registered tasks whose training texts make the corpus (never their validation or test splits); "
            "used when `corpus` is not set."
        },
    )
    corpus: str | None = field(
        default=None,
        metadata={
            "help": "A corpus instead of corpus_tasks: a Hub dataset id, a text / JSON(L) / CSV / Parquet file, a "
            "folder "
            "of them, or a save_to_disk folder."
        },
    )
    corpus_config: str | None = field(default=None, metadata={"help": "The Hub dataset's configuration name."})
    corpus_split: str = field(default="train", metadata={"help": "The corpus split to read."})
    corpus_text_column: str = field(default="text", metadata={"help": "The corpus column holding the texts."})
    prune_vocabulary: bool = field(
        default=False,
        metadata={
            "help": "Keep only the vocabulary pieces that the corpus uses (WordPiece / Unigram tokenizers, e.g. a "
            "multilingual teacher): the teachers' and the student's embeddings and LM heads shrink alike."
        },
    )
    prune_min_count: int = field(default=1, metadata={"help": "A piece is kept when it occurs this often."})
    streaming: bool = field(
        default=False,
        metadata={"help": "Stream the corpus and tokenise it on the fly (datasets.IterableDataset; needs max_steps)."},
    )
    data_dir: str | None = None
    block_size: int = field(default=128, metadata={"help": "Tokens per training block (texts are concatenated)."})
    max_corpus_rows: int | None = field(
        default=None,
        metadata={"help": "Cap the corpus to a seeded subset of this many texts (CPU runs; stated in the report)."},
    )

    def __post_init__(self) -> None:
        if not self.teacher:
            raise ValueError("pretraining distillation needs at least one --teacher")
        if self.streaming and not self.corpus:
            raise ValueError("streaming reads a `corpus` (a Hub dataset or files); corpus_tasks are loaded whole")
        if self.streaming and self.prune_vocabulary:
            raise ValueError("prune_vocabulary counts the pieces of the whole corpus: it cannot stream")
        for name in ("block_size", "max_corpus_rows"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value!r}")


class PretrainingJob(TrainingJob):
    """``hf-emo pretrain``: build the corpus and the half-depth student, distil, save the student (a plain LM) and
    write the record, the loss curves, the report and the card."""

    run_arguments = PretrainingRunArguments
    trainer_class = PretrainingDistillationTrainer

    def check(self) -> None:
        if self.run.streaming and not (self.config.max_steps and self.config.max_steps > 0):
            raise JobError("a streamed corpus has no length: set --max_steps (the number of optimizer steps)")

    def prepare(self) -> None:
        from transformers import AutoTokenizer, DataCollatorForLanguageModeling

        from ..generative import load_decoder_tokenizer
        from ..zoo import resolve_model

        run, config = self.run, self.config
        first = _load_lm(run.teacher[0], "clm" if config.objective != "mlm" else "mlm")
        self.objective = objective = objective_of(first) if config.objective == "auto" else config.objective
        teachers = [first] + [_load_lm(t, objective) for t in run.teacher[1:]]
        for name, teacher in zip(run.teacher, teachers):  # a block past the positions: an index error mid-training
            check_max_length(teacher.config, run.block_size, repr(name), option="block_size")
        tokenizer = (
            load_decoder_tokenizer(run.teacher[0])
            if objective == "clm"
            else AutoTokenizer.from_pretrained(resolve_model(run.teacher[0]))
        )
        if run.corpus:
            corpus = load_text_corpus(
                run.corpus,
                split=run.corpus_split,
                text_column=run.corpus_text_column,
                config_name=run.corpus_config,
                streaming=run.streaming,
                seed=config.seed,
                max_rows=run.max_corpus_rows,
            )
        else:
            corpus = task_corpus(run.corpus_tasks, run.data_dir, config.seed, run.max_corpus_rows)
        self.vocabulary = {"before": len(tokenizer)}
        if run.prune_vocabulary:  # the teachers first, so that the student inherits the pruned tables
            tokenizer, kept = prune_vocabulary(
                None, tokenizer, corpus["text"], min_count=run.prune_min_count, models=teachers
            )
            self.vocabulary.update(after=len(kept), min_count=run.prune_min_count)
        self.student = student = init_student_from_teacher(first, run.student_layers)
        self.first, self.corpus = first, corpus
        self.blocks = blocks = group_blocks(corpus, tokenizer, run.block_size)
        if not run.streaming and not len(blocks):
            raise JobError(f"the corpus ({len(corpus)} texts) is shorter than one block of {run.block_size} tokens")
        collator = DataCollatorForLanguageModeling(
            tokenizer, mlm=objective == "mlm", mlm_probability=config.mlm_probability
        )
        self.trainer = self.trainer_class(
            student,
            config,
            teacher_model=teachers,
            train_dataset=blocks,
            data_collator=collator,
            processing_class=tokenizer,
        )

    def score(self) -> tuple[dict[str, dict], dict[str, Any]]:
        """The loss parts at the last logged step (a language model has no labelled split to score)."""
        self.losses = [h for h in self.trainer.state.log_history if "loss" in h]
        return {
            "train_end": {k: v for k, v in (self.losses[-1] if self.losses else {}).items() if k.startswith("loss")}
        }, {}

    def facts(self) -> dict[str, Any]:
        run = self.run
        return {
            "teachers": [public_name(t) for t in run.teacher],
            "objective": self.objective,
            "student_layers": self.student.config.hf_emo_student_of["layers"],
            "parameters": {
                "teacher": sum(p.numel() for p in self.first.parameters()),
                "student": sum(p.numel() for p in self.student.parameters()),
            },
            "corpus": _corpus_info(run, self.corpus, self.blocks, self.trainer),
            "vocabulary": self.vocabulary,
            "loss_history": [
                {k: h[k] for k in ("step", "loss", "loss_kd", "loss_lm", "loss_cosine") if k in h} for h in self.losses
            ],
        }

    def report(self, record: RunRecord) -> None:
        config, out = self.config, Path(self.config.output_dir)
        record.save(out)
        plot_loss_parts(
            self.trainer.state.log_history,
            ("loss_kd", "loss_lm", "loss_cosine"),
            out / "training_curves.png",
            title=f"pretraining distillation: loss = {config.kd_weight} KD + {config.lm_weight} LM + "
            f"{config.cosine_weight} cosine",
        )
        _write_report(out, record.to_dict())
        self.trainer.create_model_card()


def _corpus_info(run: PretrainingRunArguments, corpus, blocks, trainer) -> dict:
    source = (
        {
            "source": public_name(run.corpus),
            "config": run.corpus_config,
            "split": run.corpus_split,
            "text_column": run.corpus_text_column,
        }
        if run.corpus
        else {"tasks": run.corpus_tasks, "split": "train"}
    )
    if run.streaming:  # no length: what the training read
        a = trainer.args
        seen = trainer.state.global_step * a.per_device_train_batch_size * a.gradient_accumulation_steps * a.world_size
        return {
            **source,
            "streaming": True,
            "blocks_read": seen,
            "tokens_read": seen * run.block_size,
            "max_corpus_rows": run.max_corpus_rows,
        }
    return {
        **source,
        "texts": len(corpus),
        "blocks": len(blocks),
        "tokens": len(blocks) * run.block_size,
        "max_corpus_rows": run.max_corpus_rows,
    }


def _write_report(out: Path, record: dict) -> None:
    run = record["run"]
    lines = [
        f"# Pretraining distillation: {', '.join(run['teachers'])} -> {len(run['student_layers'])} layers",
        "",
        f"{run['method']['summary']}",
        "",
        f"- corpus: {json.dumps(run['corpus'])}",
        f"- parameters: {json.dumps(run['parameters'])}",
        f"- loss at the end: {json.dumps(record.get('train_end', {}))}",
        f"- train runtime: {run['train_runtime_s']} s on {run['machine']}",
        f"- command: `{run['command']}`",
        "",
        "![training curves](training_curves.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


register_method(
    "pretrain", PretrainingJob, help="distil a language model into its half-depth student on the Romanian corpus"
)
