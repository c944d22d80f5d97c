"""``MultiTaskTrainer``: one shared encoder, several tasks (one task per batch, or mixed batches); MTL, MTKD and
GradNorm."""

from __future__ import annotations

import time
from typing import Any, Mapping

import torch
from torch.utils.data import DataLoader
from transformers import default_data_collator
from transformers.trainer_utils import seed_worker

from ..data.multitask_dataset import MixedTaskCollator, MultiTaskDataset, check_task_columns, task_splits
from ..data.spec import TaskSpec
from ..data.task_sampler import MultiTaskBatchSampler
from ..gradient_reversal import adversarial_lambda_at
from ..gradnorm import GradNormWeights
from ..losses import get_kd_loss, get_supervised_loss
from ..method import MethodDescription
from ..metrics import build_compute_metrics
from ..teachers import Teachers
from .emotion_config import as_config
from .emotion_trainer import EmotionTrainer
from .kd_objective import cells_per_example, distillation_objective
from .multitask_config import MultiTaskConfig

_NOT_MODEL_INPUTS = ("weight", "teacher_logits")


class MultiTaskTrainer(EmotionTrainer):
    """Train a :class:`~hf_emo.models.MultiTaskModel` on ``{task_name: Dataset}`` (or ``{task_name: DatasetDict}``,
    whose ``train`` / ``validation`` splits are used).

    * Batches hold one task, chosen by ``args.task_sampler`` (:class:`~hf_emo.data.MultiTaskBatchSampler`); the
      model routes each batch to that task's head. ``task_sampler='mixed'`` draws batches from the union of the
      tasks (TBED-MTL §4); each task's rows of a batch go to its head and the tasks' losses are summed in
      proportion to their rows.
    * The loss of an optimizer step is ``sum_t w_t L_t`` (Matei §3.2.2 with the §3.3 task scaling; TBED-MTL Eq. 1),
      ``L_t`` the mean loss over task ``t``'s label items in the step (``loss`` or the task's entry in
      ``task_losses``): per-task item counts replace ``num_items_in_batch``, so gradient accumulation over batches
      of different tasks is exact. A task's gold column may be ``labels`` or the HF ``label``.
    * ``loss_weighting='gradnorm'``: GradNorm (Chen et al. 2018; TBED-MTL §3.4) on the model's shared weights,
      updated once per
      optimizer step from the tasks seen in it (use ``gradient_accumulation_steps >= number of tasks`` with the
      ``round_robin`` sampler so that every step sees every task). The weights are logged as ``task_weight_<task>``.
    * MTKD (Matei §3.2.3-3.2.4; born-again multi-task networks, Clark et al. 2019): a task whose training rows carry
      ``teacher_logits`` (see :func:`hf_emo.cache_teacher_logits`), or that has a live teacher in
      ``teacher_model={task: model}``, trains on ``alpha L_hard + (1 - alpha) L_KD`` with that task's KD loss.
    * ``evaluate`` reports every task's metrics as ``eval_<task>_<metric>``, and ``eval_loss``, the sum of the
      tasks' gold-label losses (TBED-MTL's early-stopping criterion). ``metric_for_best_model`` selects, e.g.
      ``redv2_f1_micro``.
    """

    _name = "Multi-task learning"
    _tag_names = (*EmotionTrainer._tag_names, "multi-task-learning")
    _citations = ("matei_mtkd", "mtl_disparate")
    config_class = MultiTaskConfig
    extra_columns: tuple[str, ...] = ("weight", "teacher_logits", "task")

    def __init__(
        self,
        model=None,
        args: MultiTaskConfig | None = None,
        train_dataset=None,
        eval_dataset=None,
        teacher_model: Mapping[str, Any] | None = None,
        *,
        compute_metrics=None,
        **kwargs: Any,
    ) -> None:
        args = as_config(args, self.config_class, type(self).__name__)
        if model is None or not hasattr(model, "task_names") or not hasattr(model, "head_logits"):
            raise TypeError("MultiTaskTrainer needs a hf_emo MultiTaskModel (hf_emo.models.build_multitask_model)")
        train_sets, eval_sets = task_splits(train_dataset, eval_dataset)
        self.task_names: list[str] = list(model.task_names)
        self.task_specs: dict[str, TaskSpec] = {t: model.task_spec(t) for t in self.task_names}
        for what, sets in (("train_dataset", train_sets), ("eval_dataset", eval_sets)):
            unknown = [t for t in sets if t not in self.task_specs]
            if unknown:
                raise ValueError(
                    f"{what} has task(s) {unknown} that the model does not have; its tasks are {self.task_names}"
                )
        for t, ds in train_sets.items():
            check_task_columns(t, ds)
        for field_name in ("task_weights", "adversarial_tasks", "task_losses", "task_kd_losses"):
            for t in getattr(args, field_name) or ():
                if t not in self.task_specs:
                    raise ValueError(f"{field_name} names task {t!r}; the model's tasks are {self.task_names}")
        self.train_sets, self.eval_sets = train_sets, eval_sets
        train = MultiTaskDataset(train_sets, {t: model.task_id(t) for t in train_sets}) if train_sets else None
        if (
            kwargs.get("data_collator") is None
            and train_sets
            and all("input_ids" not in getattr(d, "column_names", ["input_ids"]) for d in train_sets.values())
        ):
            kwargs["data_collator"] = default_data_collator  # cached encoder features: nothing to pad
        super().__init__(
            model=model,
            args=args,
            train_dataset=train,
            eval_dataset=eval_sets or None,
            compute_metrics=compute_metrics,
            **kwargs,
        )
        # -- MTKD: per-task teachers and KD losses
        unknown = [t for t in (teacher_model or {}) if t not in self.task_specs]
        if unknown:
            raise ValueError(f"teacher_model names task(s) {unknown}; the model's tasks are {self.task_names}")
        sharded = self.is_deepspeed_enabled or self.is_fsdp_enabled
        self.task_teachers: dict[str, Teachers] = {
            t: Teachers(models, self.task_specs[t], dtype=self.args.teacher_dtype).place(
                self.accelerator, sharded_training=sharded
            )
            for t, models in (teacher_model or {}).items()
        }
        self.kd_fns = {t: get_kd_loss(self.args.kd_loss_name(t, s.problem_type))[1] for t, s in self.task_specs.items()}
        # -- loss weighting
        self.gradnorm = (
            GradNormWeights(self.task_names, self.args.gradnorm_alpha, self.args.gradnorm_lr)
            if self.args.loss_weighting == "gradnorm"
            else None
        )
        self._task_sampler: MultiTaskBatchSampler | None = None

    def _setup_task(self, model, task_spec, args, compute_metrics):
        """Every task's loss and metrics (the model holds the tasks; ``task_spec`` does not apply)."""
        thresholds = getattr(model.config, "thresholds", {}) or {}
        self.task_loss_fns = {
            t: get_supervised_loss((args.task_losses or {}).get(t, args.loss), s.problem_type)
            for t, s in self.task_specs.items()
        }
        if compute_metrics is None:
            compute_metrics = {
                t: build_compute_metrics(s, thresholds.get(t, args.threshold), self.extra_metrics)
                for t, s in self.task_specs.items()
            }
        elif callable(compute_metrics):
            compute_metrics = {t: compute_metrics for t in self.task_specs}
        self.task_compute_metrics = dict(compute_metrics)
        self.task_spec = None
        return None

    # -- the method ------------------------------------------------------------------------------------
    @classmethod
    def describe(cls, args: MultiTaskConfig, **facts: Any) -> MethodDescription:
        """Facts: ``head_layout``, ``shared_layer_size``, ``freeze_encoder``, ``teachers`` (tasks with teachers),
        ``kd_losses`` (their resolved KD losses), ``teacher_names``, ``teacher_columns``."""
        layout = facts.get("head_layout")
        parts = [
            "Multi-task learning (Matei §3.2.2; TBED-MTL §3): one shared encoder"
            + (" (frozen, its features computed once)" if facts.get("freeze_encoder") else "")
            + (f", a shared {facts['shared_layer_size']}-unit ReLU layer" if facts.get("shared_layer_size") else "")
            + (
                ", one linear head per task"
                if layout == "multi_head"
                else ", one bias-free shared-embedding output layer over all tasks' labels, masked per task"
                if layout
                else ""
            )
            + (
                ". Batches are drawn from the union of the tasks (`mixed` sampler); the loss of an optimizer step "
                "is the sum of the tasks' mean losses, each in proportion to its rows in the step (TBED-MTL §4)"
                if args.task_sampler == "mixed"
                else f". Batches hold one task, chosen by the `{args.task_sampler}` sampler; the loss of an optimizer "
                "step is the weighted sum of the tasks' mean losses"
            )
        ]
        if args.loss_weighting == "gradnorm":
            parts.append("with weights learned by GradNorm (Chen et al. 2018) on the shared weights")
        elif args.task_weights:
            parts.append(f"with task weights {args.task_weights} (unlisted tasks: 1)")
        summary = " ".join(parts) + "."
        if args.task_losses:
            summary += f" Task losses: {args.task_losses} (others: {args.loss})."
        kd_tasks = facts.get("teachers") or []
        citations = list(cls._citations)
        settings = cls._common_settings(args, task_sampler=args.task_sampler, loss_weighting=args.loss_weighting)
        settings.update({k: getattr(args, k) for k in ("task_weights", "task_losses") if getattr(args, k)})
        tags = list(cls._tag_names)
        if kd_tasks:
            summary += (
                f" Multi-task knowledge distillation (born-again multi-task network, Clark et al. 2019; Matei "
                f"§3.2.3-3.2.4): each task with a teacher ({', '.join(kd_tasks)}) trains on alpha * L_gold + "
                f"(1 - alpha) * L_KD with T = {args.temperature} and {args.describe_alpha()}; KD loss: "
                f"{args.kd_loss}" + (f", per task {args.task_kd_losses}" if args.task_kd_losses else "") + "."
            )
            settings.update(
                temperature=args.temperature,
                alpha_schedule=args.alpha_schedule,
                annealing=args.annealing,
                teacher_aggregation=args.teacher_aggregation,
                kd_loss=facts.get("kd_losses") or args.kd_loss,
            )  # per task, resolved, when known
            if args.task_kd_losses:
                settings["task_kd_losses"] = args.task_kd_losses
            settings.update(
                {"alpha_start": args.alpha_start, "alpha_end": args.alpha_end}
                if args.alpha_schedule == "linear"
                else {"alpha": args.alpha}
            )
            if facts.get("teacher_names"):  # {task: teacher or [teachers]}, as the job names them
                settings["teachers"] = facts["teacher_names"]
            if facts.get("teacher_columns"):
                settings["teacher_columns"] = facts["teacher_columns"]
            citations += ["hinton2015", "clark2019"]
            tags.append("knowledge-distillation")
        if args.loss_weighting == "gradnorm":
            citations.append("chen2018")
            tags.append("gradnorm")
        if args.adversarial_tasks:
            summary += (
                f" {', '.join(args.adversarial_tasks)} trained adversarially by "
                f"{args.adversarial_mode.replace('_', ' ')} (ADAN, Chen et al. 2018)."
            )
            citations.append("chen2018adan")
        return MethodDescription(
            cls.__name__,
            cls._name,
            summary,
            settings=settings,
            tags=tuple(tags),
            citations=tuple(dict.fromkeys(citations)),
        )

    def method_facts(self) -> dict[str, Any]:
        cfg = self.accelerator.unwrap_model(self.model).config
        cached = [t for t, d in self.train_sets.items() if "teacher_logits" in getattr(d, "column_names", ())]
        return {
            "head_layout": getattr(cfg, "head_layout", None),
            "shared_layer_size": getattr(cfg, "shared_layer_size", None),
            "freeze_encoder": getattr(cfg, "freeze_encoder", None),
            "teachers": sorted(set(cached) | set(self.task_teachers)),
            "kd_losses": {
                t: self.args.kd_loss_name(t, self.task_specs[t].problem_type)
                for t in sorted(set(cached) | set(self.task_teachers))
            },
        }

    def _card_config(self) -> dict[str, Any]:
        return self.accelerator.unwrap_model(self.model).config.to_dict()

    def current_alpha(self) -> float:
        return self.args.alpha_at(self.state.global_step, self.state.max_steps)

    # -- weights ---------------------------------------------------------------------------------------
    def task_weight(self, task: str) -> float:
        """The current loss weight of ``task``: GradNorm's, or the static ``task_weights`` entry (default 1)."""
        if self.gradnorm is not None:
            return self.gradnorm.weight(self.task_names.index(task))
        return float((self.args.task_weights or {}).get(task, 1.0))

    # -- data ------------------------------------------------------------------------------------------
    def get_train_dataloader(self) -> DataLoader:
        if self.train_dataset is None:
            raise ValueError("MultiTaskTrainer: training requires a train_dataset")
        a = self.args
        sampler = MultiTaskBatchSampler(
            self.train_dataset.sizes,
            self._train_batch_size,
            a.task_sampler,
            temperature=a.task_sampling_temperature,
            cap=a.task_cap,
            seed=a.data_seed if a.data_seed is not None else a.seed,
            num_replicas=a.world_size,
            rank=a.process_index,
            drop_last=a.dataloader_drop_last,
        )
        self._task_sampler = sampler
        collator = self._get_collator_with_removed_columns(self.data_collator, description="training")
        if a.task_sampler == "mixed":
            collator = MixedTaskCollator(collator)
        loader = DataLoader(
            self.train_dataset,
            batch_sampler=sampler,
            collate_fn=collator,
            num_workers=a.dataloader_num_workers,
            pin_memory=self._pin_memory(),
            persistent_workers=a.dataloader_persistent_workers,
            worker_init_fn=lambda wid: seed_worker(wid, a.dataloader_num_workers, a.process_index),
        )
        loader = self.accelerator.prepare(loader)
        # the sampler is rank-aware: neutralise the sharding wrapper Accelerate adds (as Trainer does for its own
        # rank-aware BatchRebalanceSampler), or ranks would get different tasks
        shard = getattr(loader, "batch_sampler", None)
        if shard is not None and getattr(shard, "batch_sampler", None) is sampler:
            shard.num_processes, shard.process_index = 1, 0
        return loader

    def _pin_memory(self) -> bool:
        return bool(self.args.dataloader_pin_memory) and self.args.device.type == "cuda"

    def _run_epoch(self, model, epoch, *args, **kwargs):
        if self._task_sampler is not None:  # also on resume, where Accelerate's skip wrapper hides the sampler
            self._task_sampler.set_epoch(epoch)
        return super()._run_epoch(model, epoch, *args, **kwargs)

    def _task_loader(self, task: str, dataset) -> DataLoader:
        ds = MultiTaskDataset({task: dataset}, {task: self.task_names.index(task)})
        loader = DataLoader(
            ds,
            batch_size=self.args.eval_batch_size,
            sampler=self._get_eval_sampler(ds),
            collate_fn=self._get_collator_with_removed_columns(self.data_collator, "evaluation"),
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self._pin_memory(),
        )
        return self.accelerator.prepare(loader)

    # -- counting --------------------------------------------------------------------------------------
    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device):
        """Per-task label-item counts of the optimizer step, shape ``(num_tasks,)``; with mixed batches
        ``(2, num_tasks)``: the items and the rows of each task (summed over processes)."""
        mixed = any("task_batches" in b for b in batch_samples)
        counts = torch.zeros(2, len(self.task_names), dtype=torch.long, device=device)
        for b in (s for b in batch_samples for s in b.get("task_batches", [b])):
            t = int(b["task"].reshape(-1)[0])
            spec = self.task_specs[self.task_names[t]]
            if "labels" in b:
                n = int(b["labels"].ne(-100).sum()) if spec.problem_type == "single_label" else b["labels"].numel()
            else:
                n = len(b["task"]) * cells_per_example(spec.problem_type, spec.num_labels)
            counts[0, t] += n
            counts[1, t] += len(b["task"])
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            counts = self.accelerator.gather(counts).view(-1, 2, len(self.task_names)).sum(0)
        return counts if mixed else counts[0]

    # -- loss ------------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        if "task_batches" in inputs:  # several tasks in one batch (task_sampler='mixed')
            return self._mixed_batch_loss(model, inputs["task_batches"], return_outputs, num_items_in_batch)
        loss, outputs = self._task_loss(model, inputs, num_items_in_batch)
        loss = self._scale_for_devices(loss, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def _mixed_batch_loss(self, model, task_batches: list[dict[str, Any]], return_outputs: bool, num_items_in_batch):
        """``sum_t (n_t / N) w_t L_t`` over the tasks of a mixed batch: "the losses for each task are computed
        proportionally to the number of samples from that task in each randomly sampled batch" (TBED-MTL §4).
        ``n_t`` and ``N`` count the optimizer step's rows when the step's counts are known (then gradient
        accumulation equals one large batch), else the batch's."""
        if num_items_in_batch is not None:
            items, rows = num_items_in_batch[0], num_items_in_batch[1]
        else:
            items, rows = None, torch.zeros(len(self.task_names))
            for b in task_batches:
                rows[int(b["task"].reshape(-1)[0])] += len(b["task"])
        loss, outputs = 0.0, []
        for b in task_batches:
            t = int(b["task"].reshape(-1)[0])
            part, out = self._task_loss(model, b, items)
            loss = loss + part * (rows[t] / rows.sum()).to(part.device, part.dtype)
            outputs.append(out)
        loss = self._scale_for_devices(loss, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def _unwrapped(self, model):
        """``accelerator.unwrap_model(model)``, looked up once per wrapper: the lookup walks every module (a frozen
        encoder's hundreds), which cost more than a step of the heads on cached features."""
        cached = getattr(self, "_unwrapped_cache", None)
        if cached is None or cached[0] is not model:
            cached = self._unwrapped_cache = (model, self.accelerator.unwrap_model(model))
        return cached[1]

    def _task_loss(self, model, inputs: dict[str, Any], num_items_in_batch) -> tuple[torch.Tensor, Any]:
        """One task's weighted loss on a one-task batch and the model's outputs (before the device scaling)."""
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        weight = inputs.pop("weight", None)
        cached = inputs.pop("teacher_logits", None)
        core = self._unwrapped(model)
        task = core.task_name(inputs["task"])
        t = self.task_names.index(task)
        spec = self.task_specs[task]
        n_items = num_items_in_batch
        if torch.is_tensor(n_items) and n_items.dim() == 1:
            n_items = n_items[t]
        adv = self.adversarial_lambda(task) if model.training else None
        if adv is not None and self.args.adversarial_mode == "gradient_reversal":
            core.set_gradient_reversal(task, adv)
        outputs = model(**{k: v for k, v in inputs.items() if k not in _NOT_MODEL_INPUTS})
        student = outputs.logits
        teacher = None
        if model.training:
            if cached is not None:
                teacher = cached.to(student.device, torch.float32)
            elif task in self.task_teachers:
                teacher = self._task_teacher_logits(task, inputs)
        loss_fn = self.task_loss_fns[task][1]
        share = self._log_share(n_items)
        if teacher is not None:
            alpha = self.current_alpha()
            loss, hard, kd = distillation_objective(
                student,
                labels,
                teacher,
                spec.problem_type,
                alpha=alpha,
                temperature=self.args.temperature,
                kd_fn=self.kd_fns[task],
                annealing=self.args.annealing,
                teacher_aggregation=self.args.teacher_aggregation,
                weight=weight,
                num_items_in_batch=n_items,
                hard_fn=lambda *a: self.supervised_loss(*a, loss_fn=loss_fn),
            )
            self.loss_log.add("loss_hard", hard, share)
            self.loss_log.add("loss_kd", kd, share)
            self.loss_log.add_mean("alpha", alpha)
        else:
            if labels is None:
                raise ValueError(f"task {task!r}: the batch has no labels and no teacher logits")
            loss = self.supervised_loss(student, labels, weight, n_items, loss_fn=loss_fn)
        if model.training:
            self.loss_log.add(f"loss_{task}", loss, share)
            if self.gradnorm is not None:
                self.gradnorm.accumulate(t, loss, core.gradnorm_parameters())
            loss = loss * self.task_weight(task)
            if adv is not None:
                self.loss_log.add_mean("adversarial_lambda", adv)
                if self.args.adversarial_mode == "loss_sign_reversal":
                    loss = -adv * loss
        return loss, outputs

    def _task_teacher_logits(self, task: str, inputs: dict[str, Any]) -> torch.Tensor:
        model_inputs = {k: v for k, v in inputs.items() if k not in (*_NOT_MODEL_INPUTS, "task", "features")}
        return self.task_teachers[task].logits(model_inputs)[0]

    def train(self, *args, **kwargs):
        try:
            return super().train(*args, **kwargs)
        finally:  # the model leaves training without gradient-reversal layers (it may be trained on, e.g. a stage)
            core = self.accelerator.unwrap_model(self.model)
            for t in self.args.adversarial_tasks or ():
                core.set_gradient_reversal(t, None)

    def adversarial_lambda(self, task: str) -> float | None:
        """The adversarial coefficient of ``task`` at the current step (``None`` for a plain task): a pure function
        of the global step, so a resumed run continues the schedule exactly."""
        if task not in (self.args.adversarial_tasks or ()):
            return None
        a = self.args
        return adversarial_lambda_at(
            self.state.global_step,
            self.state.max_steps,
            a.adversarial_schedule,
            a.adversarial_lambda,
            a.adversarial_gamma,
        )

    # -- GradNorm: its state and bookkeeping live in hf_emo.gradnorm.GradNormWeights -------------------------
    @property
    def gradnorm_history(self) -> list[dict]:
        """GradNorm's weights after every optimizer step (TBED-MTL Fig. 3); empty without GradNorm."""
        return self.gradnorm.history if self.gradnorm is not None else []

    def end_optimizer_step(self) -> None:
        if self.gradnorm is not None:
            distributed = self.args.world_size > 1
            # each rank holds its share of the step: losses normalised by the global item count add up across ranks
            self.gradnorm.end_step(
                self.state.global_step + 1,
                device=self.args.device,
                num_parameters=sum(p.numel() for p in self.accelerator.unwrap_model(self.model).gradnorm_parameters()),
                reduce=self.accelerator.reduce if distributed else None,
                op="sum" if self.args.average_tokens_across_devices else "mean",
                every_task=self.args.task_sampler == "mixed",
            )
        super().end_optimizer_step()

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self.gradnorm is not None:
            logs.update({f"task_weight_{t}": round(w, 6) for t, w in self.gradnorm.as_dict().items()})
        super().log(logs, start_time)

    # -- checkpoints: GradNorm's weights and optimiser resume with the rest ----------------------------
    def _save_optimizer_and_scheduler(self, output_dir: str) -> None:
        super()._save_optimizer_and_scheduler(output_dir)
        if self.gradnorm is not None and self.args.should_save:
            import os

            torch.save(self.gradnorm.state_dict(), os.path.join(output_dir, "gradnorm.pt"))

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is not None and self.gradnorm is not None:
            import os

            path = os.path.join(checkpoint, "gradnorm.pt")
            if os.path.isfile(path):
                self.gradnorm.load_state_dict(torch.load(path, weights_only=True))

    # -- evaluation ------------------------------------------------------------------------------------
    def predict_task(self, task: str, dataset, metric_key_prefix: str = "test", ignore_keys=None):
        """``PredictionOutput`` (logits, labels, ``<prefix>_<metric>``) of one task's dataset."""
        if task not in self.task_specs:
            raise ValueError(f"unknown task {task!r}; the model's tasks are {self.task_names}")
        saved = self.compute_metrics
        self.compute_metrics = self.task_compute_metrics.get(task)
        try:
            return self.evaluation_loop(
                self._task_loader(task, dataset),
                description=f"Evaluating {task}",
                prediction_loss_only=False if self.compute_metrics else None,
                ignore_keys=ignore_keys,
                metric_key_prefix=metric_key_prefix,
            )
        finally:
            self.compute_metrics = saved

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Every task's metrics (``<prefix>_<task>_<metric>``) and ``<prefix>_loss``, the sum of the task losses."""
        sets = eval_dataset if eval_dataset is not None else self.eval_sets
        if not isinstance(sets, Mapping) or not sets:
            raise ValueError("MultiTaskTrainer.evaluate needs a {task_name: Dataset} mapping")
        self._memory_tracker.start()
        start = time.time()
        metrics: dict[str, float] = {}
        total = 0.0
        for task, ds in sets.items():
            out = self.predict_task(task, ds, f"{metric_key_prefix}_{task}", ignore_keys)
            metrics.update(out.metrics)
            total += float(out.metrics.get(f"{metric_key_prefix}_{task}_loss", 0.0))
        metrics[f"{metric_key_prefix}_loss"] = total
        metrics[f"{metric_key_prefix}_runtime"] = round(time.time() - start, 4)
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        self._memory_tracker.stop_and_update_metrics(metrics)
        return metrics
