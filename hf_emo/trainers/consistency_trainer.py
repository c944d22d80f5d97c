"""``ConsistencyDistillationTrainer``: translation-quality-weighted consistency KD (paper 001 §2.2-2.3)."""

from __future__ import annotations

from typing import Any

from ..data.paired_collator import TEACHER_INPUTS, TEACHER_PREFIX
from ..quality_weights import add_quality_weights, minmax_quality
from .consistency_config import ConsistencyDistillationConfig
from .distillation_trainer import DistillationTrainer
from .emotion_trainer import EmotionTrainer


class ConsistencyDistillationTrainer(DistillationTrainer):
    """A monolingual teacher reads the translated side ``x'``; the multilingual student reads the original ``x``;
    the loss is the per-example weighted ``KL(P_teacher(x') || Q_student(x))`` (paper 001 Eq. 1).

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

    extra_columns: tuple[str, ...] = ("weight", "teacher_logits", "task", "disagreement", *TEACHER_INPUTS)

    def __init__(self, model=None, args: ConsistencyDistillationConfig | None = None, teacher_model=None,
                 **kwargs: Any) -> None:
        args = args if args is not None else ConsistencyDistillationConfig(output_dir="hf_emo_output")
        if not isinstance(args, ConsistencyDistillationConfig):
            raise TypeError(f"ConsistencyDistillationTrainer needs a ConsistencyDistillationConfig, got "
                            f"{type(args).__name__}")
        train = kwargs.get("train_dataset")
        if train is not None and hasattr(train, "column_names"):
            kwargs["train_dataset"] = self._prepare_weights(train, args)
            if teacher_model is not None and "teacher_logits" not in train.column_names \
                    and "teacher_input_ids" not in train.column_names:
                raise ValueError("a live teacher reads the translated side: give train_dataset "
                                 "'teacher_input_ids' (hf_emo.data.tokenize_teacher_side) or cache 'teacher_logits' "
                                 f"from the translation column; its columns are {train.column_names}")
        super().__init__(model=model, args=args, teacher_model=teacher_model, **kwargs)

    @staticmethod
    def _prepare_weights(dataset, args: ConsistencyDistillationConfig):
        cols = dataset.column_names
        how = args.quality_weighting
        if how in ("quality", "threshold") and "disagreement" not in cols:
            raise ValueError(f"quality_weighting={how!r} needs a 'disagreement' column (add it with "
                             "hf_emo.add_translation_disagreement(stage1_student, dataset, tokenizer, ...)), or use "
                             f"quality_weighting='column' with your own 'weight' column; the columns are {cols}")
        if how == "column" and "weight" not in cols:
            raise ValueError(f"quality_weighting='column' needs a 'weight' column; the columns are {cols}")
        if how == "threshold" or (how == "quality" and args.weight_normalization == "global"):
            return add_quality_weights(dataset, how, args.drop_fraction)
        if how == "uniform" and "weight" in cols:
            return dataset.remove_columns("weight")
        return dataset

    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        """Paper 001 Eq. 1 (plus ``alpha`` times the gold-label loss when labels exist), normalised by
        ``num_items_in_batch`` for exact gradient accumulation."""
        inputs = dict(inputs)
        disagreement = inputs.pop("disagreement", None)
        teacher_inputs = {k[len(TEACHER_PREFIX):]: inputs.pop(k) for k in TEACHER_INPUTS if k in inputs}
        how = self.args.quality_weighting
        if how == "uniform":
            inputs.pop("weight", None)
        elif how == "quality" and self.args.weight_normalization == "batch":
            if disagreement is None:
                raise ValueError("weight_normalization='batch' needs the 'disagreement' column in every batch")
            inputs["weight"] = minmax_quality(disagreement.float()).to(disagreement.device)
        if "teacher_logits" not in inputs:
            if teacher_inputs and self.teachers:
                inputs["teacher_logits"] = self.teacher_logits(teacher_inputs)[0]
            elif not model.training and "labels" in inputs:  # an evaluation set: its gold-label loss
                return EmotionTrainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)
            else:
                raise ValueError("this batch has neither 'teacher_logits' nor teacher inputs "
                                 "('teacher_input_ids') with a teacher model")
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
