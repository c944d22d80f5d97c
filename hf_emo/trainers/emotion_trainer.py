"""``EmotionTrainer``: one Trainer for multi-label, single-label and regression emotion tasks."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import SequentialSampler
from transformers import Trainer
from transformers.trainer_utils import has_length

from ..data.spec import TaskSpec
from ..losses import supervised_loss
from ..metrics import build_compute_metrics
from ..models.factory import task_spec_of
from .emotion_config import EmotionConfig

HEAD_PREFIXES = ("classifier.", "score.", "heads.", "shared_layer.", "shared_embedding.")


class EmotionTrainer(Trainer):
    """A ``transformers.Trainer`` whose loss is chosen by the task's problem type (BCE, CE or MSE).

    * ``compute_loss`` honours ``num_items_in_batch``: losses are summed and divided by the item count
      of the whole optimizer step, so gradient accumulation equals one large batch.
    * ``compute_metrics`` is built from the ``TaskSpec`` unless one is given.
    * Columns listed in ``extra_columns`` (a per-example ``weight`` here; subclasses add teacher logits,
      task ids, ...) survive ``remove_unused_columns=True``.
    """

    extra_columns: tuple[str, ...] = ("weight",)
    # compute_loss divides by num_items_in_batch, so Trainer must not divide by the accumulation steps again
    loss_is_scaled_for_ga = None

    def __init__(self, model=None, args: EmotionConfig | None = None, *, task_spec: TaskSpec | None = None,
                 compute_metrics=None, **kwargs: Any) -> None:
        if model is None:
            raise ValueError(f"{type(self).__name__} needs a model")
        args = args if args is not None else EmotionConfig(output_dir="hf_emo_output")
        compute_metrics = self._setup_task(model, task_spec, args, compute_metrics)
        if args.freeze_embeddings:
            model.get_input_embeddings().weight.requires_grad_(False)
        super().__init__(model=model, args=args, compute_metrics=compute_metrics, **kwargs)
        # We normalise by num_items_in_batch ourselves: ask Trainer to count it and not to rescale.
        self.model_accepts_loss_kwargs = True

    def _setup_task(self, model, task_spec: TaskSpec | None, args, compute_metrics):
        """Find and check the task (label names against the model's); return the ``compute_metrics`` to use."""
        spec = task_spec or task_spec_of(model)
        if spec is None:
            raise ValueError("pass task_spec=TaskSpec(...) or a model built by hf_emo.models.build_classifier")
        _check_label_space(model, spec)
        self.task_spec = spec
        if compute_metrics is None:
            compute_metrics = build_compute_metrics(spec, getattr(args, "threshold", 0.5))
        return compute_metrics

    # -- columns -------------------------------------------------------------------------------------
    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        for c in ("labels", *self.extra_columns):
            if c not in self._signature_columns:
                self._signature_columns.append(c)

    def _get_eval_sampler(self, eval_dataset):
        """Evaluation keeps the dataset's order, also with ``train_sampling_strategy='group_by_length'``
        (Trainer would length-group evaluation too), so predictions line up with rows (teacher logits, reports)."""
        if eval_dataset is None or not has_length(eval_dataset):
            return None
        return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """Write hf_emo's card (base model, teachers, data, method, metrics, citation) when ``output_dir`` holds a
        finished run (``metrics.json``, as ``hf_emo.jobs.train.train_and_evaluate`` writes); else Trainer's card."""
        from pathlib import Path

        out = Path(self.args.output_dir)
        if self.is_world_process_zero() and (out / "metrics.json").is_file() and (out / "config.json").is_file():
            from ..cards import render_model_card

            (out / "README.md").write_text(render_model_card(out, self.hub_model_id), encoding="utf-8")
            return
        super().create_model_card(*args, **kwargs)

    # -- optimizer -----------------------------------------------------------------------------------
    def create_optimizer(self, model=None):
        head_lr = getattr(self.args, "head_learning_rate", None)
        if head_lr is None or self.optimizer is not None:
            return super().create_optimizer(model)
        opt_model = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(opt_model))
        groups: dict[tuple[bool, bool], list] = {}
        for n, p in opt_model.named_parameters():
            if p.requires_grad:
                groups.setdefault((n.startswith(HEAD_PREFIXES), n in decay), []).append(p)
        params = [{"params": ps, "weight_decay": self.args.weight_decay if d else 0.0,
                   **({"lr": head_lr} if head else {})} for (head, d), ps in groups.items()]
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
        self.optimizer = optimizer_cls(params, **optimizer_kwargs)
        return self.optimizer

    # -- loss ----------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        """Gold-label loss (BCE / CE / MSE by problem type), normalised by ``num_items_in_batch``."""
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        weight = inputs.pop("weight", None)
        outputs = model(**_model_inputs(inputs, self.extra_columns))
        loss = supervised_loss(outputs.logits, labels, self.task_spec.problem_type, weight, num_items_in_batch)
        loss = self._scale_for_devices(loss, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def _scale_for_devices(self, loss: torch.Tensor, num_items_in_batch) -> torch.Tensor:
        """num_items_in_batch is summed over processes; DDP averages gradients, so undo that average."""
        if num_items_in_batch is not None and self.args.average_tokens_across_devices:
            loss = loss * self.accelerator.num_processes
        return loss


def _model_inputs(inputs: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if k not in drop}


def _check_label_space(model, spec: TaskSpec) -> None:
    n = model.config.num_labels
    if n != spec.num_labels:
        raise ValueError(f"model has {n} output labels but task {spec.name!r} has {spec.num_labels}: "
                         f"{list(spec.label_names)}")
    id2label = getattr(model.config, "id2label", None) or {}
    names = [id2label.get(i, id2label.get(str(i))) for i in range(n)]
    generic = all(str(x).startswith("LABEL_") for x in names)
    if not generic and names != list(spec.label_names):
        raise ValueError(f"label names differ: model {names} vs task {spec.name!r} {list(spec.label_names)}")
