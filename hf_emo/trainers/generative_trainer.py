"""``GenerativeTrainer``: a decoder-only emotion classifier trained through a LoRA / QLoRA adapter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers.trainer_utils import PredictionOutput

from ..data.spec import TaskSpec
from ..generative.decoder import GENERATIVE_FILE
from ..generative.prompts import PromptFormat
from ..models.portable import make_portable
from ..generative.scoring import decisions_as_logits, generate_labels, label_scores
from ..generative.tokens import CompletionTokens
from ..losses import causal_lm_loss
from ..method import MethodDescription
from ..metrics import task_metrics
from ..scrub import public_name
from .emotion_trainer import EmotionTrainer
from .generative_config import GenerativeConfig


class GenerativeTrainer(EmotionTrainer):
    """Fine-tune a decoder through a peft adapter (:func:`hf_emo.generative.build_decoder`), as Wang et al. 2024's
    BLOOMZ baseline (``label_mode='completion'``: prompt -> label name + EOS, the loss on the completion only) or as a
    sequence classifier on the last real token (``'sequence_classification'``, the LoRA alternative that
    Shreya et al. name).

    * Completion mode trains on :func:`hf_emo.generative.tokenize_prompt_completion` rows (``input_ids``,
      ``labels`` with the prompt masked to -100, the gold label in ``gold``, the ``text``); its loss is
      :func:`hf_emo.losses.causal_lm_loss`, normalised by the step's completion tokens.
    * Evaluation and ``predict`` score every label (:func:`hf_emo.generative.label_scores`) and return ``(N, C)``
      logits, so metrics, tuned thresholds and loyalty work as for encoders; ``scoring='generate'`` generates and
      parses strictly instead, and reports ``invalid_rate``.
    * ``save_model`` writes the adapter (never the base weights), the tokenizer and ``hf_emo_generative.json`` (the
      task, the prompt, the verbalisers, the label mode); :func:`hf_emo.generative.load_generative` reloads them.
    """

    _name = "Generative baseline"
    _tag_names = (*EmotionTrainer._tag_names, "peft", "lora", "generative")
    _citations = ("wang2024", "hu2022lora")
    config_class = GenerativeConfig
    extra_columns: tuple[str, ...] = ("weight", "gold")

    def __init__(
        self,
        model=None,
        args: GenerativeConfig | None = None,
        *,
        task_spec: TaskSpec | None = None,
        prompt_format: PromptFormat | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("processing_class") is None:
            raise ValueError("GenerativeTrainer needs the decoder's tokenizer as processing_class")
        self._prompt_format = prompt_format
        super().__init__(model=model, args=args, task_spec=task_spec, **kwargs)
        trainable = [n for n, p in self.model.named_parameters() if p.requires_grad]
        if not trainable:
            raise ValueError(
                "the model has no trainable parameters: build it with hf_emo.generative.build_decoder (a LoRA adapter)"
            )

    @property
    def completion_mode(self) -> bool:
        return self.args.label_mode == "completion"

    def _setup_task(self, model, task_spec, args, compute_metrics):
        if args.label_mode == "sequence_classification":
            compute_metrics = super()._setup_task(model, task_spec, args, compute_metrics)
        else:  # a causal LM has no label head to check; metrics come from scoring
            from ..models.factory import task_spec_of

            self.task_spec = task_spec or task_spec_of(model)
            if self.task_spec is None:
                raise ValueError("pass task_spec=TaskSpec(...) or a decoder built by hf_emo.generative.build_decoder")
            self.loss_name, self.loss_fn = "causal_lm", None
            compute_metrics = None
        self.prompt_format = self._prompt_format or PromptFormat(
            self.task_spec, args.prompt_template, tuple(args.verbalisers or ())
        )
        return compute_metrics

    # -- the method ------------------------------------------------------------------------------------------
    @classmethod
    def describe(cls, args: GenerativeConfig, **facts: Any) -> MethodDescription:
        quant = (
            f"QLoRA (Dettmers et al. 2023): the base in 4-bit {args.bnb_4bit_quant_type}"
            + (" with double quantisation" if args.bnb_4bit_use_double_quant else "")
            + ", a LoRA adapter"
            if args.load_in_4bit
            else "LoRA (Hu et al. 2022): a low-rank adapter"
        )
        quant += f" of rank {args.lora_r} (alpha {args.lora_alpha}, dropout {args.lora_dropout}) on " + ", ".join(
            facts.get("lora_target_modules") or args.lora_target_modules or ["the attention projections"]
        )
        if args.label_mode == "completion":
            how = (
                "The decoder writes the label after an instruction prompt (Wang et al. 2024's Alpaca prompt by "
                "default); the loss covers the completion and its EOS, not the prompt. "
            )
            how += (
                "Predictions score every label by the likelihood of its completion (single-label: a softmax over "
                "the labels' log-likelihoods; multi-label: p(yes) against p(no) for each label in turn)."
                if args.scoring == "likelihood"
                else "Predictions are greedy generations read strictly; outputs that are not a label count as wrong"
                + (" (a fuzzy mapping to the closest label is reported beside them)." if args.fuzzy_match else ".")
            )
        else:
            how = "A score head on the decoder's last real token classifies the text; the head is trained and saved."
        settings = cls._common_settings(
            args,
            label_mode=args.label_mode,
            scoring=args.scoring,
            load_in_4bit=args.load_in_4bit,
            lora_r=args.lora_r,
            lora_alpha=args.lora_alpha,
            lora_dropout=args.lora_dropout,
        )
        citations = cls._citations + (("dettmers2023",) if args.load_in_4bit else ())
        tags = cls._tag_names + (("qlora", "4-bit") if args.load_in_4bit else ())
        return MethodDescription(
            cls.__name__, cls._name, f"{quant}. {how}", settings=settings, tags=tags, citations=citations
        )

    def method_facts(self) -> dict[str, Any]:
        peft_config = getattr(self.accelerator.unwrap_model(self.model), "peft_config", {}).get("default")
        targets = sorted(peft_config.target_modules) if peft_config is not None and peft_config.target_modules else None
        return {"problem_type": self.task_spec.problem_type, "lora_target_modules": targets}

    # -- loss ------------------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        if not self.completion_mode:
            inputs = {k: v for k, v in inputs.items() if k != "gold"}
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        loss = causal_lm_loss(outputs.logits, inputs["labels"], num_items_in_batch)
        loss = self._scale_for_devices(loss, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        if not self.completion_mode:
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            loss = self.compute_loss(model, inputs).detach()
        return loss, None, None  # the vocabulary logits of every position are never gathered

    # -- evaluation and prediction ---------------------------------------------------------------------------
    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        self._scored_dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        try:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        finally:
            self._scored_dataset = None

    def evaluation_loop(
        self,
        dataloader,
        description: str,
        prediction_loss_only: bool | None = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ):
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        dataset = getattr(self, "_scored_dataset", None)
        if self.completion_mode and dataset is not None:
            metrics = self.score(dataset)[1]
            output.metrics.update({f"{metric_key_prefix}_{k}": v for k, v in metrics.items()})
        return output

    def predict(self, test_dataset, ignore_keys=None, metric_key_prefix: str = "test") -> PredictionOutput:
        """``PredictionOutput`` with ``(N, C)`` label logits, the gold labels and ``<prefix>_<metric>``."""
        if not self.completion_mode:
            return super().predict(test_dataset, ignore_keys, metric_key_prefix)
        logits, metrics, gold = self.score(test_dataset, return_gold=True)
        return PredictionOutput(
            predictions=logits, label_ids=gold, metrics={f"{metric_key_prefix}_{k}": v for k, v in metrics.items()}
        )

    def score(self, dataset, return_gold: bool = False):
        """``(logits (N, C), metrics)`` of a prompt-completion dataset (it needs ``text`` and ``gold``)."""
        for column in ("text", "gold"):
            if column not in dataset.column_names:
                raise ValueError(
                    f"the evaluation set has no {column!r} column (columns: {dataset.column_names}); "
                    "build it with hf_emo.generative.tokenize_prompt_completion"
                )
        model = self.accelerator.unwrap_model(self.model)
        args, spec, fmt = self.args, self.task_spec, self.prompt_format
        texts, gold = list(dataset["text"]), np.asarray(dataset["gold"])
        batch = args.per_device_eval_batch_size
        if args.scoring == "likelihood":
            logits = label_scores(
                model, self.processing_class, fmt, texts, batch_size=batch, max_text_tokens=args.max_text_tokens
            )
            metrics = task_metrics(spec, gold, logits, args.threshold)
        else:
            gen = generate_labels(
                model,
                self.processing_class,
                fmt,
                texts,
                batch_size=batch,
                max_text_tokens=args.max_text_tokens,
                fuzzy=args.fuzzy_match,
            )
            logits = decisions_as_logits(spec, gen.labels)
            metrics = {**task_metrics(spec, gold, logits, 0.5), "invalid_rate": gen.invalid_rate}
            if gen.mapped is not None:
                fuzzy = task_metrics(spec, gold, decisions_as_logits(spec, gen.mapped), 0.5)
                metrics.update({f"fuzzy_{k}": v for k, v in fuzzy.items()})
        return (logits, metrics, gold) if return_gold else (logits, metrics)

    # -- saving ----------------------------------------------------------------------------------------------
    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        super()._save(output_dir, state_dict)
        out = Path(output_dir or self.args.output_dir)
        if not self.args.should_save:
            return
        model = self.accelerator.unwrap_model(self.model)
        (out / GENERATIVE_FILE).write_text(
            json.dumps(
                {
                    "label_mode": self.args.label_mode,
                    "task": self.task_spec.to_dict(),
                    "prompt": self.prompt_format.to_dict(),
                    "max_text_tokens": self.args.max_text_tokens,
                    "base_model": public_name(getattr(model.peft_config.get("default"), "base_model_name_or_path", ""))
                    if hasattr(model, "peft_config")
                    else None,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        adapter_config = out / "adapter_config.json"
        if adapter_config.is_file():  # a Hub id or zoo name, never a local path
            cfg = json.loads(adapter_config.read_text())
            cfg["base_model_name_or_path"] = public_name(cfg.get("base_model_name_or_path"))
            adapter_config.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
        readme = out / "README.md"
        if readme.is_file():  # peft's card names the base model by the path it was loaded from: a Hub id or nothing
            from huggingface_hub import ModelCard

            from ..cards import hub_base_model

            card = ModelCard.load(readme)
            path = str(card.data.base_model or "")
            hub_id = hub_base_model(public_name(path)) or None
            card.data.base_model = hub_id
            card.data.tags = [t for t in card.data.tags or [] if not t.startswith("base_model:")] + (
                [f"base_model:adapter:{hub_id}"] if hub_id else []
            )
            text = str(card)
            readme.write_text(text.replace(path, hub_id or Path(path).name) if path else text, encoding="utf-8")
        make_portable(out)  # the scoring code, so that the adapter answers without hf_emo

    def check_tokenizer(self) -> CompletionTokens:
        """Every completion is writable with this tokenizer (raises naming the label otherwise)."""
        return CompletionTokens.build(self.prompt_format, self.processing_class)
