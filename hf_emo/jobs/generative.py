"""The job behind ``hf-emo generative``: a decoder-only baseline (LoRA / QLoRA), trained, scored, reported, saved as
an adapter."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from transformers import DataCollatorForSeq2Seq, DataCollatorWithPadding

from ..data.build import cap_rows
from ..data.stats import split_overlap, warn_about_overlap
from ..data.tokenize import tokenize_dataset
from ..generative import PromptFormat, build_decoder, load_decoder_tokenizer, tokenize_prompt_completion
from ..metrics import detailed_report, score_splits
from ..report import write_report
from ..trainers import GenerativeConfig, GenerativeTrainer
from .pipeline import TrainingJob, register_method
from .record import RunRecord
from .run_folder import JobError
from .train import RunArguments, load_data


@dataclass
class GenerativeRunArguments(RunArguments):
    """``RunArguments`` for a decoder: its name, seeded row caps for CPU runs, and the merge option."""

    model_name_or_path: str = field(
        default="SmolLM2-135M-Instruct",
        metadata={
            "help": "A decoder: Hub id (bigscience/bloomz-7b1), local folder, or zoo name (SmolLM2-135M-Instruct, "
            "gemma-3-270m)."
        },
    )
    max_eval_samples: int | None = field(
        default=None,
        metadata={
            "help": "Cap the validation rows, and the test rows unless max_test_samples says otherwise (a seeded "
            "subset; stated in the report). Use for quick runs only: figures to compare must use the full splits."
        },
    )
    merge_adapter: bool = field(
        default=False,
        metadata={"help": "Also save the base with the adapter merged in (merged/); lossy on a 4-bit base."},
    )
    early_stopping_patience: int | None = field(
        default=None,
        metadata={
            "help": "Stop after this many evaluations without improvement of metric_for_best_model (Wang et al. 2024: "
            "up to 20 epochs with early stopping); needs load_best_model_at_end."
        },
    )


class GenerativeJob(TrainingJob):
    """``hf-emo generative``: fine-tune a decoder's LoRA / QLoRA adapter, score validation and test (the multi-label
    threshold tuned on likelihood scores), save the adapter with its tokenizer, prompt and threshold, report."""

    run_arguments = GenerativeRunArguments
    trainer_class = GenerativeTrainer

    def check(self) -> None:
        if self.run.early_stopping_patience and not self.config.load_best_model_at_end:
            raise JobError(
                "early_stopping_patience needs load_best_model_at_end true (and matching eval and save strategies)"
            )

    def prepare(self) -> None:
        run, config = self.run, self.config
        dd, spec = load_data(run)
        self.caps = {}
        if run.max_train_samples and run.max_train_samples < len(dd["train"]):
            dd["train"] = dd["train"].shuffle(seed=config.seed).select(range(run.max_train_samples))
            self.caps["train"] = run.max_train_samples
        test_cap = run.max_test_samples if run.max_test_samples is not None else run.max_eval_samples
        self.caps.update(cap_rows(dd, {"validation": run.max_eval_samples, "test": test_cap}, config.seed))
        self.overlap = split_overlap(dd)
        warn_about_overlap(self.overlap)
        self.dd, self.spec = dd, spec
        tokenizer = load_decoder_tokenizer(run.model_name_or_path, config.pad_token)
        self.prompt_format = fmt = PromptFormat(spec, config.prompt_template, tuple(config.verbalisers or ()))
        self.model = build_decoder(
            run.model_name_or_path,
            spec,
            tokenizer,
            label_mode=config.label_mode,
            load_in_4bit=config.load_in_4bit,
            quant_type=config.bnb_4bit_quant_type,
            double_quant=config.bnb_4bit_use_double_quant,
            compute_dtype=config.bnb_4bit_compute_dtype,
            quant_storage=config.bnb_4bit_quant_storage,
            lora_r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            lora_target_modules=config.lora_target_modules,
            gradient_checkpointing=config.activation_checkpointing,
            fsdp=uses_fsdp(config),
        )
        if config.label_mode == "completion":
            self.data = tokenize_prompt_completion(dd, tokenizer, fmt, max_text_tokens=config.max_text_tokens)
            collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
        else:
            self.data = tokenize_dataset(dd, tokenizer, max_length=run.max_length, text_prefix=run.text_prefix)
            collator = DataCollatorWithPadding(tokenizer)
        callbacks = []
        if run.early_stopping_patience:
            from transformers import EarlyStoppingCallback

            callbacks.append(EarlyStoppingCallback(run.early_stopping_patience))
        self.trainer = self.trainer_class(
            self.model,
            config,
            task_spec=spec,
            prompt_format=fmt,
            processing_class=tokenizer,
            train_dataset=self.data["train"],
            eval_dataset=self.data.get("validation"),
            data_collator=collator,
            callbacks=callbacks,
        )

    def score(self) -> tuple[dict[str, dict], dict[str, Any]]:
        config, spec = self.config, self.spec
        outputs, extra = {}, {}
        for split in ("validation", "test"):
            if split in self.data:
                pred = self.trainer.predict(self.data[split], metric_key_prefix=split)
                outputs[split] = (pred.predictions, pred.label_ids)
                extra.update({k: v for k, v in pred.metrics.items() if "invalid_rate" in k or "fuzzy_" in k})
        tune = config.tune_threshold and config.scoring == "likelihood"
        results, self.threshold = score_splits(
            spec, outputs, threshold=config.threshold, tune=tune, per_label=config.threshold_tuning == "per_label"
        )
        for key, value in extra.items():  # generation: the invalid-output rate (and fuzzy metrics) per split
            split, name = key.split("_", 1)
            results.setdefault(split, {})[name] = value
        detail = (
            detailed_report(spec, outputs["test"][1], outputs["test"][0], self.threshold) if "test" in outputs else {}
        )
        return results, detail

    def export(self) -> None:
        _pass_on_base_terms(self.run.model_name_or_path, self.config.output_dir)
        _record_threshold(self.config.output_dir, self.threshold)
        if self.run.merge_adapter:
            _save_merged(self.trainer, self.config)

    def facts(self) -> dict[str, Any]:
        config = self.config
        return {
            "task": self.spec.name,
            "model": self.run.model_name_or_path,
            "label_mode": config.label_mode,
            "prompt": self.prompt_format.to_dict(),
            "max_text_tokens": config.max_text_tokens,
            "threshold": self.threshold,
            "row_caps": self.caps,
            "split_sizes": {k: len(v) for k, v in self.dd.items()},
            "split_note": self.spec.split_note,
            "split_overlap": self.overlap,
            "trainable_parameters": sum(p.numel() for p in self.model.parameters() if p.requires_grad),
            "processes": config.world_size,
        }

    def report(self, record: RunRecord) -> None:
        write_report(
            self.config.output_dir, spec=self.spec, record=record.to_dict(), log_history=self.trainer.state.log_history
        )


def uses_fsdp(config) -> bool:
    """Whether the run is sharded by FSDP: ``accelerate launch`` with an FSDP file (which sets
    ``ACCELERATE_USE_FSDP``), or ``fsdp`` in the training arguments."""
    import os

    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() in ("1", "true") or bool(
        getattr(config, "fsdp", None)
    )


def _record_threshold(out_dir: str, threshold: float) -> None:
    """The tuned multi-label threshold goes into the adapter's ``hf_emo_generative.json`` (``hf-emo predict`` uses
    it)."""
    import json
    from pathlib import Path

    path = Path(out_dir) / "hf_emo_generative.json"
    meta = json.loads(path.read_text())
    meta["threshold"] = threshold
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _pass_on_base_terms(base: str, out_dir: str) -> None:
    """A base model whose terms must travel with derivatives (Gemma: NOTICE and the Terms of Use) has them copied
    into the run folder, so they are in the manifest and go up with the adapter."""
    import shutil
    from pathlib import Path

    from ..zoo import resolve_model

    folder = Path(resolve_model(base))
    if not folder.is_dir():
        return
    for name in ("NOTICE", "GEMMA_TERMS.html", "LICENSE"):
        if (folder / name).is_file():
            shutil.copy2(folder / name, Path(out_dir) / name)


def _save_merged(trainer: GenerativeTrainer, config: GenerativeConfig) -> None:
    if config.load_in_4bit:
        warnings.warn(
            "merging a LoRA adapter into a 4-bit base rounds the merged weights to the 4-bit grid again: "
            "the merged model is not the trained one (keep the adapter as the artefact)",
            stacklevel=2,
        )
    model = trainer.accelerator.unwrap_model(trainer.model)
    if not hasattr(model, "merge_and_unload"):
        raise JobError("merge_adapter needs a peft model")
    merged = model.merge_and_unload()
    merged.save_pretrained(f"{config.output_dir}/merged")
    trainer.processing_class.save_pretrained(f"{config.output_dir}/merged")


register_method(
    "generative",
    GenerativeJob,
    help="a decoder-only baseline through a LoRA / QLoRA adapter (completion or classifier head)",
)
