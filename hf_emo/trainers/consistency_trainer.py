"""``ConsistencyDistillationTrainer``: translation-quality-weighted consistency KD (Wang et al. 2024, §2.2-2.3)."""

from __future__ import annotations

from typing import Any

import torch

from ..data.paired_collator import TEACHER_INPUTS, TEACHER_PREFIX
from ..method import MethodDescription
from ..quality_weights import add_quality_weights, minmax_quality
from .consistency_config import ConsistencyDistillationConfig
from .distillation_trainer import DistillationTrainer
from .emotion_config import as_config

WEIGHT_WORDS = {"uniform": "1 for every pair (plain consistency KD)", "column": "the dataset's own `weight` column"}


class ConsistencyDistillationTrainer(DistillationTrainer):
    """A monolingual teacher reads the translated side ``x'``; the multilingual student reads the original ``x``;
    the loss is the per-example weighted ``KL(P_teacher(x') || Q_student(x))`` (Wang et al. 2024, Eq. 1).

    Training set columns:

    * the student's ``input_ids`` / ``attention_mask`` (the original, e.g. Romanian, text);
    * the teacher's side: a cached ``teacher_logits`` column (:func:`hf_emo.cache_teacher_logits` on the
      translation column), or ``teacher_input_ids`` / ``teacher_attention_mask`` for a live teacher
      (:func:`hf_emo.data.tokenize_teacher_side`, batched by :class:`hf_emo.PairedDataCollator`);
    * ``disagreement`` (:func:`hf_emo.add_translation_disagreement`, Eq. 2) for ``quality`` and ``threshold``
      weighting, or your own ``weight`` column with ``quality_weighting='column'``;
    * ``labels`` only when ``alpha > 0`` mixes in a supervised loss.

    The quality weights (Eq. 3) are computed over the whole refinement set when the trainer is built, before
    refinement starts (``weight_normalization='global'``), or from each batch's disagreements (``'batch'``).
    Single-label tasks use the softmax KL, multi-label tasks the per-label Bernoulli KL (``kd_loss='auto'``).
    Evaluation sets need no translation: without teacher outputs their loss is the gold-label loss.
    """

    _name = "Cross-lingual consistency distillation"
    _tag_names = (*DistillationTrainer._tag_names, "cross-lingual")
    _citations = ("wang2024", "hinton2015")
    config_class = ConsistencyDistillationConfig
    extra_columns: tuple[str, ...] = ("weight", "teacher_logits", "task", "disagreement", *TEACHER_INPUTS)

    def __init__(
        self, model=None, args: ConsistencyDistillationConfig | None = None, teacher_model=None, **kwargs: Any
    ) -> None:
        args = as_config(args, self.config_class, type(self).__name__)
        train = kwargs.get("train_dataset")
        if train is not None and hasattr(train, "column_names"):
            kwargs["train_dataset"] = self._prepare_weights(train, args)
            if (
                teacher_model is not None
                and "teacher_logits" not in train.column_names
                and "teacher_input_ids" not in train.column_names
            ):
                raise ValueError(
                    "a live teacher reads the translated side: give train_dataset "
                    "'teacher_input_ids' (hf_emo.data.tokenize_teacher_side) or cache 'teacher_logits' "
                    f"from the translation column; its columns are {train.column_names}"
                )
        super().__init__(model=model, args=args, teacher_model=teacher_model, **kwargs)

    @staticmethod
    def _prepare_weights(dataset, args: ConsistencyDistillationConfig):
        cols = dataset.column_names
        how = args.quality_weighting
        if how in ("quality", "threshold") and "disagreement" not in cols:
            raise ValueError(
                f"quality_weighting={how!r} needs a 'disagreement' column (add it with "
                "hf_emo.add_translation_disagreement(stage1_student, dataset, tokenizer, ...)), or use "
                f"quality_weighting='column' with your own 'weight' column; the columns are {cols}"
            )
        if how == "column" and "weight" not in cols:
            raise ValueError(f"quality_weighting='column' needs a 'weight' column; the columns are {cols}")
        if how == "threshold" or (how == "quality" and args.weight_normalization == "global"):
            return add_quality_weights(dataset, how, args.drop_fraction)
        if how == "uniform" and "weight" in cols:
            return dataset.remove_columns("weight")
        return dataset

    @classmethod
    def describe(cls, args: ConsistencyDistillationConfig, **facts: Any) -> MethodDescription:
        problem_type = facts.get("problem_type")
        base = super().describe(args, **facts)
        how = args.quality_weighting
        weights = {
            "quality": "1 - min-max-normalised disagreement of the stage-1 student between the original and "
            "its translation (Wang et al. 2024, Eq. 2-3, "
            + ("over the whole refinement set)" if args.weight_normalization == "global" else "within each batch)"),
            "threshold": f"1, except 0 for the {args.drop_fraction} share of pairs with the largest "
            "disagreement (dropped)",
            **WEIGHT_WORDS,
        }.get(how, how)
        form = "per-label Bernoulli KL" if base.settings.get("kd_loss") == "kl_bernoulli" else "softmax KL"
        column = facts.get("translation_column", "the translation")
        summary = (
            f"Cross-lingual consistency distillation (Wang et al. 2024, §2.2-2.3): a monolingual teacher reads "
            f"the translated side (`{column}`), this multilingual student the original; the loss is "
            f"sum_i w_i * KL(P_teacher(x'_i) || Q_student(x_i)) / N ({form}, T = {args.temperature}), with "
            f"w_i = {weights}. "
            + (
                "No gold label of the original side was used."
                if not args.alpha
                else f"Mixed with the gold-label loss at alpha = {args.alpha}."
            )
        )
        settings = {**base.settings, "quality_weighting": how, "weight_normalization": args.weight_normalization}
        if how == "threshold":
            settings["drop_fraction"] = args.drop_fraction
        if facts.get("translation_column"):
            settings["translation_column"] = facts["translation_column"]
        return MethodDescription(
            cls.__name__,
            cls._name,
            summary,
            settings=settings,
            tags=cls._tag_names,
            citations=cls._citations
            + cls._loss_citations(cls._resolved_loss(args, problem_type), base.settings.get("kd_loss")),
        )

    def teacher_outputs(
        self, inputs: dict[str, Any], output_hidden_states: bool = False
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """The teacher reads the translated side: cached ``teacher_logits``, or the live teachers on the batch's
        ``teacher_input_ids`` / ``teacher_attention_mask`` (never on the student's inputs)."""
        teacher_inputs = {k[len(TEACHER_PREFIX) :]: inputs.pop(k) for k in TEACHER_INPUTS if k in inputs}
        cached = inputs.pop("teacher_logits", None)
        if cached is not None:
            return cached.float(), []
        if teacher_inputs and len(self.teachers):
            return self.teachers.logits(teacher_inputs, output_hidden_states)
        return None, []

    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        """Wang et al. 2024, Eq. 1 with the configured pair weights (plus ``alpha`` times the gold-label loss when
        labels exist), normalised by ``num_items_in_batch`` for exact gradient accumulation."""
        inputs = dict(inputs)
        disagreement = inputs.pop("disagreement", None)
        how = self.args.quality_weighting
        if how == "uniform":
            inputs.pop("weight", None)
        elif how == "quality" and self.args.weight_normalization == "batch":
            if disagreement is not None:
                inputs["weight"] = minmax_quality(disagreement.float()).to(disagreement.device)
            elif model.training:  # evaluation batches (the labelled target side) carry no pairs and need no weights
                raise ValueError("weight_normalization='batch' needs the 'disagreement' column in every training batch")
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
