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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.build import cap_rows
from ..data.stats import split_overlap, warn_about_overlap
from ..data.paired_collator import PairedDataCollator
from ..data.tokenize import tokenize_dataset
from ..inference import decision_threshold, mean_threshold
from ..metrics import detailed_report, loyalty_metrics, task_metrics
from ..models import is_classifier, load_classifier, load_tokenizer
from ..quality_weights import add_translation_disagreement, minmax_quality
from ..report import write_report
from ..scrub import public_name
from ..teachers import cache_teacher_logits, check_teacher_label_space
from ..trainers import ConsistencyDistillationTrainer
from .pipeline import TrainingJob, register_method
from .record import RunRecord
from .run_folder import JobError
from .train import RunArguments, load_data

NOISE_SIGNALS = ("pivot_lang", "alignment", "en_text_source")


@dataclass
class ConsistencyRunArguments(RunArguments):
    """``RunArguments`` for stage 2: ``model_name_or_path`` is the stage-1 student (a fine-tuned classifier)."""

    task: str | None = field(
        default="xed_en_ro",
        metadata={"help": "A registered task whose rows hold an original text (text_column) and its translation."},
    )
    teacher: list[str] = field(
        default_factory=list,
        metadata={"help": "The monolingual teacher(s): fine-tuned folders or Hub ids with the task's label names."},
    )
    translation_column: str = field(
        default="en_text",
        metadata={"help": "The translated (teacher-side) text column; hf_emo.translate.translate_column makes one."},
    )
    inference_batch_size: int = field(
        default=64,
        metadata={
            "help": "Batch size of the forward passes outside training (teacher logits on the translation, the stage-1 "
            "student's disagreement)."
        },
    )
    max_length: int = 64
    prepared_cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "Keep the refinement set with its teacher logits and disagreements here, keyed by student, "
            "teachers, data and settings: runs that differ only in the weighting or the optimiser reuse it."
        },
    )


def _translation_logits(teachers, dataset, run: ConsistencyRunArguments, device):
    return cache_teacher_logits(
        teachers,
        dataset,
        [load_tokenizer(t) for t in run.teacher],
        text_column=run.translation_column,
        batch_size=run.inference_batch_size,
        desc=f"teacher on {run.translation_column}",
        device=device,
    )


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
    key = json.dumps(
        {
            "student": _model_key(run.model_name_or_path),
            "teachers": [_model_key(t) for t in run.teacher],
            "data": data.hexdigest(),
            "text": run.text_column,
            "translation": run.translation_column,
            "max_length": run.max_length,
        },
        sort_keys=True,
    )
    return Path(run.prepared_cache_dir) / hashlib.sha256(key.encode()).hexdigest()[:16]


def weight_noise_correlations(dataset, weight_column: str = "weight") -> dict[str, float]:
    """Pearson correlation of the learned quality weights with the data's own noise signals (XED en-ro: Danish
    pivot, 1:n alignments, English text taken from the annotation, and the |log| length ratio of the pair)."""
    w = np.asarray(dataset[weight_column], dtype=float)
    out: dict[str, float] = {}
    flags = {
        "pivot_lang": ("da", "pivot_lang=da"),
        "alignment": ("1:n", "alignment=1:n"),
        "en_text_source": ("annotated_phrase", "en_text_source=annotated_phrase"),
    }
    for col, (value, name) in flags.items():
        if col in dataset.column_names:
            x = np.asarray([v == value for v in dataset[col]], dtype=float)
            out[name] = _pearson(w, x)
    if {"text", "en_text"} <= set(dataset.column_names):
        ratio = np.array(
            [abs(np.log(max(len(a), 1) / max(len(b), 1))) for a, b in zip(dataset["text"], dataset["en_text"])]
        )
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


class ConsistencyJob(TrainingJob):
    """``hf-emo consistency``: Wang et al.'s (2024) stage 2. The teacher's logits on the translation and the stage-1
    student's disagreement are computed once; the student is scored before and after refinement, beside the
    teacher on the English side of the test rows; the quality weights are set against the data's noise signals."""

    run_arguments = ConsistencyRunArguments
    trainer_class = ConsistencyDistillationTrainer

    def check(self) -> None:
        if not is_classifier(self.run.model_name_or_path):
            raise JobError(
                f"model_name_or_path {self.run.model_name_or_path!r} is not a fine-tuned classifier: "
                "stage 2 refines the stage-1 student (train it first with `hf-emo train`)"
            )
        if not self.run.teacher:
            raise JobError("consistency distillation needs a --teacher (the monolingual model on the translation)")

    def prepare(self) -> None:
        run, config = self.run, self.config
        dd, spec = load_data(run)
        for split in dd:
            if run.translation_column not in dd[split].column_names:
                raise ValueError(
                    f"task {spec.name!r} split {split!r} has no translation column "
                    f"{run.translation_column!r}; columns: {dd[split].column_names}"
                )
        if run.max_train_samples:
            n = min(run.max_train_samples, len(dd["train"]))
            dd["train"] = dd["train"].shuffle(seed=config.seed).select(range(n))
        self.row_caps = cap_rows(dd, {"validation": run.max_eval_samples, "test": run.max_test_samples}, config.seed)
        self.overlap = split_overlap(dd, run.text_column)
        warn_about_overlap(self.overlap)
        self.dd, self.spec = dd, spec
        model, tokenizer = load_classifier(run.model_name_or_path), load_tokenizer(run.model_name_or_path)
        check_teacher_label_space(model, spec)
        self.prefix = prefix = run.text_prefix or getattr(model.config, "text_prefix", "") or ""
        model.config.max_seq_length = run.max_length
        self.threshold = decision_threshold(
            getattr(model.config, "hf_emo_threshold", config.threshold), spec.num_labels
        )
        self.teachers = [load_classifier(t) for t in run.teacher]
        for i, t in enumerate(self.teachers):
            check_teacher_label_space(t, spec, i)

        cached = _prepared_path(run, dd["train"]) if run.prepared_cache_dir else None
        if cached is not None and cached.is_dir():
            from datasets import load_from_disk

            train = load_from_disk(str(cached))
        else:
            train = _translation_logits(self.teachers, dd["train"], run, config.device)
            train = add_translation_disagreement(
                model,
                train,
                tokenizer,
                source_column=run.text_column,
                translation_column=run.translation_column,
                problem_type=spec.problem_type,
                max_length=run.max_length,
                batch_size=run.inference_batch_size,
                device=config.device,
            )
            if cached is not None:
                train.save_to_disk(str(cached))
        self.refinement_set = train
        if config.alpha == 0 and "labels" in train.column_names:
            train = train.remove_columns("labels")  # the target side needs no gold labels
        keep = ("labels", "weight", "teacher_logits", "disagreement")
        tok_train = tokenize_dataset(
            train, tokenizer, max_length=run.max_length, text_prefix=prefix, text_column=run.text_column, keep=keep
        )
        self.evals = {
            s: tokenize_dataset(
                dd[s], tokenizer, max_length=run.max_length, text_prefix=prefix, text_column=run.text_column
            )
            for s in ("validation", "test")
            if s in dd
        }
        self.trainer = self.trainer_class(
            model=model,
            args=config,
            task_spec=spec,
            train_dataset=tok_train,
            eval_dataset=self.evals.get("validation"),
            processing_class=tokenizer,
            data_collator=PairedDataCollator(tokenizer),
        )
        self.stage1 = {}
        for split, ds in self.evals.items():  # the stage-1 student, before refinement
            pred = self.trainer.predict(ds, metric_key_prefix=split)
            self.stage1[f"{split}_stage1"] = task_metrics(spec, pred.label_ids, pred.predictions, self.threshold)
        self.weighted_rows = len(self.trainer.train_dataset)  # the weights the trainer computed over the whole set

    def score(self) -> tuple[dict[str, dict], dict[str, Any]]:
        spec, config, threshold = self.spec, self.config, self.threshold
        results, logits = dict(self.stage1), {}
        for split, ds in self.evals.items():
            pred = self.trainer.predict(ds, metric_key_prefix=split)
            logits[split] = (pred.predictions, pred.label_ids)
            results[split] = task_metrics(spec, pred.label_ids, pred.predictions, threshold)
        if "test" in self.dd:  # the teacher on the English side of the same rows: upper reference (Wang 2024, Tab. 1)
            t_test = np.asarray(
                _translation_logits(self.teachers, self.dd["test"], self.run, config.device)["teacher_logits"]
            )
            t_thr = mean_threshold(
                [getattr(t.config, "hf_emo_threshold", config.threshold) for t in self.teachers], spec.num_labels
            )
            results["test_teacher"] = task_metrics(
                spec, logits["test"][1], t_test if t_test.ndim == 2 else t_test.mean(1), t_thr
            )
            results["test_loyalty"] = loyalty_metrics(spec, t_test, logits["test"][0], threshold)
        detail = detailed_report(spec, logits["test"][1], logits["test"][0], threshold) if "test" in logits else {}
        return results, detail

    def export(self) -> None:
        """The Eq. 3 weights over the whole refinement set (whatever scheme trained) against the data's noise
        signals: correlations for the record, a histogram beside the model."""
        run, train = self.run, self.refinement_set
        self.disagreement = dis = np.asarray(train["disagreement"], dtype=float)
        cols = [c for c in (*NOISE_SIGNALS, run.text_column, run.translation_column) if c in train.column_names]
        noise = train.select_columns(cols).add_column("weight", minmax_quality(dis).numpy().tolist())
        noise = noise.rename_columns(
            {k: v for k, v in ((run.text_column, "text"), (run.translation_column, "en_text")) if k != v}
        )
        self.correlations = weight_noise_correlations(noise)
        plot_weights(noise, Path(self.config.output_dir) / "quality_weights.png")

    def facts(self) -> dict[str, Any]:
        dis = self.disagreement
        return {
            "task": self.spec.name,
            "model": self.run.model_name_or_path,
            "text_prefix": self.prefix,
            "max_length": self.run.max_length,
            "threshold": self.threshold,
            "refinement": {
                "rows": self.weighted_rows,
                "disagreement_mean": float(dis.mean()),
                "disagreement_max": float(dis.max()),
            },
            "weight_noise_correlations": self.correlations,
            "split_sizes": {k: len(v) for k, v in self.dd.items()},
            "split_overlap": self.overlap,
            **({"row_caps": self.row_caps} if self.row_caps else {}),
        }

    def method_facts(self) -> dict[str, Any]:
        return {
            "translation_column": self.run.translation_column,
            "teacher_names": [public_name(t) for t in self.run.teacher],
        }

    def report(self, record: RunRecord) -> None:
        write_report(
            self.config.output_dir, spec=self.spec, record=record.to_dict(), log_history=self.trainer.state.log_history
        )


register_method(
    "consistency",
    ConsistencyJob,
    help="refine a multilingual student by translation-quality-weighted consistency KD (Wang et al. 2024)",
)
