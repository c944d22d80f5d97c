"""``EmotionTrainer``: one Trainer for multi-label, single-label and regression emotion tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import SequentialSampler
from transformers import Trainer
from transformers.trainer_utils import has_length

from ..data.spec import TaskSpec
from ..losses import get_supervised_loss, loss_info
from ..method import MethodDescription
from ..metrics import build_compute_metrics
from ..models.factory import task_spec_from_config, task_spec_of
from ..models.portable import make_portable
from .emotion_config import EmotionConfig, apply_flush_denormal, as_config
from .loss_log import LossLog, LossLogMixin

HEAD_PREFIXES = ("classifier.", "score.", "heads.", "shared_layer.", "shared_embedding.")


class EmotionTrainer(LossLogMixin, Trainer):
    """A ``transformers.Trainer`` whose gold-label loss is chosen by name (``args.loss``; by default BCE, CE or MSE
    by the task's problem type).

    * The task comes from ``task_spec``, from the hf_emo task saved in the model's config, or from any
      ``*ForSequenceClassification`` config (``num_labels``, ``problem_type``, ``id2label``).
    * ``compute_loss`` honours ``num_items_in_batch``: losses are summed and divided by the item count of the whole
      optimizer step, so gradient accumulation equals one large batch.
    * ``compute_metrics`` is built from the task unless one is given; ``extra_metrics`` adds ``evaluate`` modules.
    * Columns listed in ``extra_columns`` (a per-example ``weight`` here; subclasses add teacher logits, task ids,
      ...) survive ``remove_unused_columns=True``.
    * The trainer describes its method (``method_description()``) for ``metrics.json``, reports and the card that
      ``push_to_hub`` writes.
    """

    _name = "Supervised fine-tuning"
    _tag_names: tuple[str, ...] = ("hf_emo", "emotion-recognition", "text-classification")
    _citations: tuple[str, ...] = ("matei_mtkd",)
    config_class = EmotionConfig
    extra_columns: tuple[str, ...] = ("weight",)

    def __init__(
        self,
        model=None,
        args: EmotionConfig | None = None,
        *,
        task_spec: TaskSpec | None = None,
        compute_metrics=None,
        extra_metrics=(),
        **kwargs: Any,
    ) -> None:
        if model is None:
            raise ValueError(f"{type(self).__name__} needs a model")
        args = as_config(args, self.config_class, type(self).__name__)
        apply_flush_denormal(args)
        self.extra_metrics = list(extra_metrics)  # evaluate modules, added to the task's metrics
        compute_metrics = self._setup_task(model, task_spec, args, compute_metrics)
        if args.freeze_embeddings:
            model.get_input_embeddings().weight.requires_grad_(False)
        super().__init__(model=model, args=args, compute_metrics=compute_metrics, **kwargs)
        # compute_loss normalises by num_items_in_batch itself. With this flag Trainer counts the items of each
        # optimizer step and (loss_is_scaled_for_ga left None) divides by the accumulation steps only when no count
        # was passed, i.e. exactly when our loss is a per-batch mean.
        self.model_accepts_loss_kwargs = True
        self.loss_log = LossLog()

    def _setup_task(self, model, task_spec: TaskSpec | None, args, compute_metrics):
        """Find and check the task (label names against the model's) and the loss; return ``compute_metrics``."""
        spec = task_spec or task_spec_of(model) or task_spec_from_config(model.config)
        _check_label_space(model, spec)
        self.task_spec = spec
        self.loss_name, self.loss_fn = get_supervised_loss(args.loss, spec.problem_type)
        if compute_metrics is None:
            compute_metrics = build_compute_metrics(spec, args.threshold, self.extra_metrics)
        return compute_metrics

    def supervised_loss(
        self, logits: torch.Tensor, labels: torch.Tensor, weight=None, num_items_in_batch=None, loss_fn=None
    ) -> torch.Tensor:
        """The configured gold-label loss with the configured options."""
        return (loss_fn or self.loss_fn)(logits, labels, weight, num_items_in_batch, **(self.args.loss_kwargs or {}))

    # -- the method, for cards and records -----------------------------------------------------------------
    @classmethod
    def describe(cls, args: EmotionConfig, **facts: Any) -> MethodDescription:
        """The method and its settings for ``args``; ``facts`` are what the config does not hold (``problem_type``,
        ``pooling``, ...)."""
        loss = cls._resolved_loss(args, facts.get("problem_type"))
        words = loss_info(loss).summary
        pooling = facts.get("pooling")
        summary = f"Supervised fine-tuning with {words}" + (
            f" on a {pooling}-pooled encoder and a linear head." if pooling else "."
        )
        return MethodDescription(
            cls.__name__,
            cls._name,
            summary,
            settings=cls._common_settings(args, loss=loss),
            tags=cls._tag_names,
            citations=cls._citations + cls._loss_citations(loss),
        )

    @staticmethod
    def _resolved_loss(args, problem_type: str | None) -> str:
        return get_supervised_loss(args.loss, problem_type)[0] if problem_type else args.loss

    @staticmethod
    def _common_settings(args, **extra: Any) -> dict[str, Any]:
        steps = (
            {"max_steps": args.max_steps}
            if args.max_steps and args.max_steps > 0
            else {"num_train_epochs": args.num_train_epochs}
        )
        settings = {
            **extra,
            **({"loss_kwargs": args.loss_kwargs} if args.loss_kwargs else {}),
            "learning_rate": args.learning_rate,
            **steps,
            "per_device_train_batch_size": args.per_device_train_batch_size,
            "gradient_accumulation_steps": args.gradient_accumulation_steps,
            "seed": args.seed,
        }
        if getattr(args, "weight_decay_form", "decoupled") == "l2":
            settings["optimizer"] = f"Adam, L2 weight decay {args.weight_decay:g}"
        return settings

    @staticmethod
    def _loss_citations(loss: str, kd_loss: str | None = None) -> tuple[str, ...]:
        """The papers of the gold-label loss (and the KD loss), as their registrations name them."""
        cited = [loss_info(loss).citation] + ([loss_info(kd_loss, "kd").citation] if kd_loss else [])
        return tuple(c for c in cited if c)

    def method_facts(self) -> dict[str, Any]:
        """What this trainer knows beyond its config, for :meth:`describe`."""
        cfg = self.accelerator.unwrap_model(self.model).config
        return {"problem_type": self.task_spec.problem_type, "pooling": getattr(cfg, "pooling", None)}

    def method_description(self, **facts: Any) -> MethodDescription:
        return type(self).describe(self.args, **{**self.method_facts(), **facts})

    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """hf_emo's card (method, task, metrics, citation): from the run folder when ``output_dir`` holds a finished
        job's ``metrics.json``, else from what this trainer knows (its method, task, data sizes and last
        evaluation). ``Trainer.create_model_card``'s arguments (``language``, ``license``, ``tags``, ``model_name``,
        ``finetuned_from``, ``tasks``, ``dataset_tags``, ``dataset``, ``dataset_args``) set the card's metadata."""
        if not self.is_world_process_zero():
            return
        from ..cards import CARD_OVERRIDES, render_model_card, render_trainer_card

        overrides = {**dict(zip(CARD_OVERRIDES, args)), **{k: v for k, v in kwargs.items() if k in CARD_OVERRIDES}}
        out = Path(self.args.output_dir)
        if (out / "metrics.json").is_file() and (out / "config.json").is_file():
            card = render_model_card(out, self.hub_model_id)
        else:
            card = render_trainer_card(
                self._card_record(),
                self._card_config(),
                name=overrides.get("model_name") or out.name,
                repo_id=self.hub_model_id,
                overrides=overrides,
            )
        (out / "README.md").write_text(card, encoding="utf-8")

    def _card_config(self) -> dict[str, Any]:
        config = self.accelerator.unwrap_model(self.model).config.to_dict()
        config.setdefault("hf_emo_task", self.task_spec.to_dict())
        return config

    def _card_record(self) -> dict[str, Any]:
        """A ``metrics.json``-shaped record of this trainer: the last evaluation's metrics and the method."""
        last_eval = next((h for h in reversed(self.state.log_history) if any(k.startswith("eval_") for k in h)), {})
        metrics = {k[len("eval_") :]: v for k, v in last_eval.items() if k.startswith("eval_")}
        name = getattr(self.accelerator.unwrap_model(self.model).config, "_name_or_path", "")
        sizes = {
            split: len(data)
            for split, data in (("train", self.train_dataset), ("validation", self.eval_dataset))
            if data is not None and not isinstance(data, dict) and has_length(data)
        }
        return {
            **({"validation": metrics} if metrics else {}),
            "run": {
                "method": self.method_description().to_dict(),
                "model": name,
                "seed": self.args.seed,
                "split_sizes": sizes,
            },
        }

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        """Save as Trainer does, with the custom code that loads the classifier with transformers alone
        (:func:`~hf_emo.models.portable.make_portable`): every checkpoint, ``save_model`` and ``push_to_hub``."""
        super()._save(output_dir, state_dict)
        if self.args.should_save:
            make_portable(output_dir or self.args.output_dir)

    # -- columns -------------------------------------------------------------------------------------------
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

    # -- optimizer -----------------------------------------------------------------------------------------
    def create_optimizer(self, model=None):
        head_lr = self.args.head_learning_rate
        if head_lr is None or self.optimizer is not None:
            return super().create_optimizer(model)
        opt_model = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(opt_model))
        groups: dict[tuple[bool, bool], list] = {}
        for n, p in opt_model.named_parameters():
            if p.requires_grad:
                groups.setdefault((n.startswith(HEAD_PREFIXES), n in decay), []).append(p)
        params = [
            {"params": ps, "weight_decay": self.args.weight_decay if d else 0.0, **({"lr": head_lr} if head else {})}
            for (head, d), ps in groups.items()
        ]
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
        self.optimizer = optimizer_cls(params, **optimizer_kwargs)
        return self.optimizer

    @staticmethod
    def get_optimizer_cls_and_kwargs(args: EmotionConfig, model=None) -> tuple[Any, dict[str, Any]]:
        """Trainer's optimizer for ``args``; with ``weight_decay_form='l2'`` torch's Adam, whose weight decay is an
        L2 term in the gradient, in place of AdamW's decoupled decay (same lr, betas, eps)."""
        optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
        if getattr(args, "weight_decay_form", "decoupled") == "l2":
            optimizer_cls = torch.optim.Adam
        return optimizer_cls, optimizer_kwargs

    # -- loss ----------------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        """The gold-label loss, normalised by ``num_items_in_batch``."""
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        weight = inputs.pop("weight", None)
        outputs = model(**_model_inputs(inputs, self.extra_columns))
        loss = self.supervised_loss(outputs.logits, labels, weight, num_items_in_batch)
        loss = self._scale_for_devices(loss, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def _scale_for_devices(self, loss: torch.Tensor, num_items_in_batch) -> torch.Tensor:
        """num_items_in_batch is summed over processes; DDP averages gradients, so undo that average."""
        if num_items_in_batch is not None and self.args.average_tokens_across_devices:
            loss = loss * self.accelerator.num_processes
        return loss

    def _log_share(self, num_items_in_batch) -> float:
        """A micro-batch's share of its optimizer step's loss in :class:`LossLog` (see there)."""
        return 1.0 if num_items_in_batch is not None else 1.0 / self.args.gradient_accumulation_steps


def _model_inputs(inputs: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if k not in drop}


def _check_label_space(model, spec: TaskSpec) -> None:
    n = model.config.num_labels
    if n != spec.num_labels:
        raise ValueError(
            f"model has {n} output labels but task {spec.name!r} has {spec.num_labels}: {list(spec.label_names)}"
        )
    id2label = getattr(model.config, "id2label", None) or {}
    names = [id2label.get(i, id2label.get(str(i))) for i in range(n)]
    generic = all(str(x).startswith("LABEL_") for x in names)
    if not generic and names != list(spec.label_names):
        raise ValueError(f"label names differ: model {names} vs task {spec.name!r} {list(spec.label_names)}")
