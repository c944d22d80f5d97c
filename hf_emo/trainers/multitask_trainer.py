"""``MultiTaskTrainer``: one shared encoder, several tasks, one task per batch; MTL, MTKD and GradNorm."""

from __future__ import annotations

import time
from typing import Any, Mapping

import torch
from torch.utils.data import DataLoader
from transformers import default_data_collator
from transformers.trainer_utils import seed_worker

from ..data.multitask_dataset import MultiTaskDataset
from ..data.spec import TaskSpec
from ..data.task_sampler import MultiTaskBatchSampler
from ..gradient_reversal import adversarial_lambda_at
from ..gradnorm import GradNormWeights
from ..losses import get_kd_loss, supervised_loss
from ..metrics import build_compute_metrics
from ..teachers import as_teacher_list, check_teacher_label_space
from .distillation_trainer import DistillationTrainer
from .emotion_trainer import EmotionTrainer
from .kd_objective import cells_per_example, distillation_objective
from .multitask_config import MultiTaskConfig

_NOT_MODEL_INPUTS = ("weight", "teacher_logits")


class MultiTaskTrainer(DistillationTrainer):
    """Train a :class:`~hf_emo.models.MultiTaskModel` on ``{task_name: Dataset}`` (or ``{task_name: DatasetDict}``,
    whose ``train`` / ``validation`` splits are used).

    * Batches hold one task, chosen by ``args.task_sampler`` (:class:`~hf_emo.data.MultiTaskBatchSampler`); the
      model routes each batch to that task's head.
    * The loss of an optimizer step is ``sum_t w_t L_t`` (paper 000 §3.2.2 with the §3.3 task scaling; paper 002
      Eq. 1), ``L_t`` the mean loss over task ``t``'s label items in the step: per-task item counts replace
      ``num_items_in_batch``, so gradient accumulation over batches of different tasks is exact.
    * ``loss_weighting='gradnorm'``: GradNorm (paper 002 §3.4) on the model's shared weights, updated once per
      optimizer step from the tasks seen in it (use ``gradient_accumulation_steps >= number of tasks`` with the
      ``round_robin`` sampler so that every step sees every task). The weights are logged as ``task_weight_<task>``.
    * MTKD (paper 000 §3.2.3-3.2.4, born-again multi-task networks): a task whose training rows carry
      ``teacher_logits`` (see :func:`hf_emo.cache_teacher_logits`), or that has a live teacher in
      ``teacher_model={task: model}``, trains on ``alpha L_hard + (1 - alpha) L_KD`` with that task's KD loss.
    * ``evaluate`` reports every task's metrics as ``eval_<task>_<metric>``, and ``eval_loss``, the sum of the
      tasks' gold-label losses (paper 002's early-stopping criterion). ``metric_for_best_model`` selects, e.g.
      ``redv2_f1_micro``.
    """

    extra_columns: tuple[str, ...] = ("weight", "teacher_logits", "task")

    def __init__(self, model=None, args: MultiTaskConfig | None = None, train_dataset=None, eval_dataset=None,
                 teacher_model: Mapping[str, Any] | None = None, *, compute_metrics=None, **kwargs: Any) -> None:
        args = args if args is not None else MultiTaskConfig(output_dir="hf_emo_output")
        if not isinstance(args, MultiTaskConfig):
            raise TypeError(f"MultiTaskTrainer needs a MultiTaskConfig, got {type(args).__name__}")
        if model is None or not hasattr(model, "task_names") or not hasattr(model, "head_logits"):
            raise TypeError("MultiTaskTrainer needs a hf_emo MultiTaskModel (hf_emo.models.build_multitask_model)")
        train_sets, eval_sets = _task_splits(train_dataset, eval_dataset)
        self.task_names: list[str] = list(model.task_names)
        self.task_specs: dict[str, TaskSpec] = {t: model.task_spec(t) for t in self.task_names}
        for what, sets in (("train_dataset", train_sets), ("eval_dataset", eval_sets)):
            unknown = [t for t in sets if t not in self.task_specs]
            if unknown:
                raise ValueError(f"{what} has task(s) {unknown} that the model does not have; its tasks are "
                                 f"{self.task_names}")
        for t, ds in train_sets.items():
            _check_columns(t, ds, self.task_specs[t], args)
        for w in (args.task_weights or {}):
            if w not in self.task_specs:
                raise ValueError(f"task_weights names task {w!r}; the model's tasks are {self.task_names}")
        for w in (args.adversarial_tasks or []):
            if w not in self.task_specs:
                raise ValueError(f"adversarial_tasks names task {w!r}; the model's tasks are {self.task_names}")
        self.train_sets, self.eval_sets = train_sets, eval_sets
        train = MultiTaskDataset(train_sets, {t: model.task_id(t) for t in train_sets}) if train_sets else None
        if kwargs.get("data_collator") is None and train_sets and all(
                "input_ids" not in getattr(d, "column_names", ["input_ids"]) for d in train_sets.values()):
            kwargs["data_collator"] = default_data_collator  # cached encoder features: nothing to pad
        EmotionTrainer.__init__(self, model=model, args=args, train_dataset=train, eval_dataset=eval_sets or None,
                                compute_metrics=compute_metrics, **kwargs)
        # -- MTKD: per-task teachers and KD losses
        self.task_teachers: dict[str, list] = {}
        for t, teachers in (teacher_model or {}).items():
            if t not in self.task_specs:
                raise ValueError(f"teacher_model names task {t!r}; the model's tasks are {self.task_names}")
            loaded = [self._load_teacher(x) for x in as_teacher_list(teachers)]
            for i, x in enumerate(loaded):
                check_teacher_label_space(x, self.task_specs[t], i)
            self.task_teachers[t] = [self._prepare_teacher(x) for x in loaded]
        self.kd_fns = {t: get_kd_loss("auto" if s.problem_type == "regression" else args.kd_loss, s.problem_type)[1]
                       for t, s in self.task_specs.items()}
        self.teachers = []  # DistillationTrainer's single-task teachers: unused here
        self._kd_sums, self._kd_calls, self._kd_alpha_sum = {}, 0, 0.0
        # -- loss weighting
        self.gradnorm = GradNormWeights(self.task_names, args.gradnorm_alpha, args.gradnorm_lr) \
            if args.loss_weighting == "gradnorm" else None
        self.gradnorm_history: list[dict] = []  # GradNorm's weights after every optimizer step (paper 002 Fig. 3)
        self._gn_grads: dict[int, torch.Tensor] = {}
        self._gn_losses: dict[int, torch.Tensor] = {}
        self._task_loss_sums: dict[str, torch.Tensor] = {}
        self._task_windows: dict[str, int] = {}
        self._window_tasks: set[str] = set()
        self._task_sampler: MultiTaskBatchSampler | None = None
        self._adv_lambda_sum, self._adv_calls = 0.0, 0

    def _setup_task(self, model, task_spec, args, compute_metrics):
        thresholds = getattr(model.config, "thresholds", {}) or {}
        if compute_metrics is None:
            compute_metrics = {t: build_compute_metrics(s, thresholds.get(t, args.threshold))
                               for t, s in self.task_specs.items()}
        elif callable(compute_metrics):
            compute_metrics = {t: compute_metrics for t in self.task_specs}
        self.task_compute_metrics = dict(compute_metrics)
        self.task_spec = None
        return None

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
            self.train_dataset.sizes, self._train_batch_size, a.task_sampler, temperature=a.task_sampling_temperature,
            cap=a.task_cap, seed=a.data_seed if a.data_seed is not None else a.seed, num_replicas=a.world_size,
            rank=a.process_index, drop_last=a.dataloader_drop_last)
        self._task_sampler = sampler
        loader = DataLoader(
            self.train_dataset, batch_sampler=sampler,
            collate_fn=self._get_collator_with_removed_columns(self.data_collator, description="training"),
            num_workers=a.dataloader_num_workers, pin_memory=self._pin_memory(),
            persistent_workers=a.dataloader_persistent_workers,
            worker_init_fn=lambda wid: seed_worker(wid, a.dataloader_num_workers, a.process_index))
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
        loader = DataLoader(ds, batch_size=self.args.eval_batch_size, sampler=self._get_eval_sampler(ds),
                            collate_fn=self._get_collator_with_removed_columns(self.data_collator, "evaluation"),
                            num_workers=self.args.dataloader_num_workers, pin_memory=self._pin_memory())
        return self.accelerator.prepare(loader)

    # -- counting --------------------------------------------------------------------------------------
    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device):
        """Per-task label-item counts of the optimizer step, shape ``(num_tasks,)`` (summed over processes)."""
        counts = torch.zeros(len(self.task_names), dtype=torch.long, device=device)
        for b in batch_samples:
            t = int(b["task"].reshape(-1)[0])
            spec = self.task_specs[self.task_names[t]]
            if "labels" in b:
                n = int(b["labels"].ne(-100).sum()) if spec.problem_type == "single_label" else b["labels"].numel()
            else:
                n = len(b["task"]) * cells_per_example(spec.problem_type, spec.num_labels)
            counts[t] += n
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            counts = self.accelerator.gather(counts).view(-1, len(self.task_names)).sum(0)
        return counts

    # -- loss ------------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        weight = inputs.pop("weight", None)
        cached = inputs.pop("teacher_logits", None)
        core = self.accelerator.unwrap_model(model)
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
        if teacher is not None:
            alpha = self.current_alpha()
            loss, hard, kd = distillation_objective(
                student, labels, teacher, spec.problem_type, alpha=alpha, temperature=self.args.temperature,
                kd_fn=self.kd_fns[task], annealing=self.args.annealing,
                teacher_aggregation=self.args.teacher_aggregation, weight=weight, num_items_in_batch=n_items)
            self._record(hard, kd, None, alpha, n_items is not None)
        else:
            if labels is None:
                raise ValueError(f"task {task!r}: the batch has no labels and no teacher logits")
            loss = supervised_loss(student, labels, spec.problem_type, weight, n_items)
        if model.training:
            self._record_task(task, loss, n_items is not None)
            if self.gradnorm is not None:
                self._gradnorm_accumulate(core, t, loss)
            loss = loss * self.task_weight(task)
            if adv is not None:
                self._adv_lambda_sum, self._adv_calls = self._adv_lambda_sum + adv, self._adv_calls + 1
                if self.args.adversarial_mode == "loss_sign_reversal":
                    loss = -adv * loss
        loss = self._scale_for_devices(loss, n_items)
        return (loss, outputs) if return_outputs else loss

    def _task_teacher_logits(self, task: str, inputs: dict[str, Any]) -> torch.Tensor:
        model_inputs = {k: v for k, v in inputs.items() if k not in (*_NOT_MODEL_INPUTS, "task", "features")}
        return self.teacher_logits(model_inputs, teachers=self.task_teachers[task])[0]

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
        return adversarial_lambda_at(self.state.global_step, self.state.max_steps, a.adversarial_schedule,
                                     a.adversarial_lambda, a.adversarial_gamma)

    # -- GradNorm --------------------------------------------------------------------------------------
    def _gradnorm_accumulate(self, core, t: int, loss: torch.Tensor) -> None:
        """Accumulate ``grad_W L_t`` over the step's micro-batches of task ``t`` (a second, partial backward)."""
        params = core.gradnorm_parameters()
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        flat = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1).float()
                          for g, p in zip(grads, params)])
        self._gn_grads[t] = self._gn_grads.get(t, 0) + flat
        self._gn_losses[t] = self._gn_losses.get(t, 0) + loss.detach().float()

    def _gradnorm_update(self) -> None:
        n = len(self.task_names)
        norms, losses, present = torch.zeros(n), torch.zeros(n), torch.zeros(n, dtype=torch.bool)
        # each rank holds its share of the step: losses normalised by the global item count add up across ranks
        op = "sum" if self.args.average_tokens_across_devices else "mean"
        for t in sorted(self._gn_grads):  # the same tasks on every rank (the sampler's guarantee), same order
            g, l = self._gn_grads[t], self._gn_losses[t]
            if self.args.world_size > 1:
                g, l = self.accelerator.reduce(g, op), self.accelerator.reduce(l, op)
            norms[t], losses[t], present[t] = g.norm().cpu(), l.cpu(), True
        self._gn_grads.clear()
        self._gn_losses.clear()
        self.gradnorm.step(norms, losses, present)
        self.gradnorm_history.append({"step": self.state.global_step + 1,
                                      **{f"task_weight_{t}": w for t, w in self.gradnorm.as_dict().items()}})

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        if self.accelerator.sync_gradients:  # the last micro-batch of the optimizer step
            if self.gradnorm is not None:
                self._gradnorm_update()
            for task in self._window_tasks:
                self._task_windows[task] = self._task_windows.get(task, 0) + 1
            self._window_tasks.clear()
        return loss

    # -- logging ---------------------------------------------------------------------------------------
    def _record_task(self, task: str, loss: torch.Tensor, normalised: bool) -> None:
        scale = 1.0 if normalised else 1.0 / self.args.gradient_accumulation_steps
        self._task_loss_sums[task] = self._task_loss_sums.get(task, 0.0) + loss.detach() * scale
        self._window_tasks.add(task)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            for task, total in self._task_loss_sums.items():
                if self._task_windows.get(task):
                    logs[f"loss_{task}"] = round(float(total) / self._task_windows[task], 6)
            self._task_loss_sums.clear()
            self._task_windows.clear()
            if self.gradnorm is not None:
                logs.update({f"task_weight_{t}": round(w, 6) for t, w in self.gradnorm.as_dict().items()})
            if self._adv_calls:
                logs["adversarial_lambda"] = round(self._adv_lambda_sum / self._adv_calls, 6)
                self._adv_lambda_sum, self._adv_calls = 0.0, 0
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
            return self.evaluation_loop(self._task_loader(task, dataset), description=f"Evaluating {task}",
                                        prediction_loss_only=False if self.compute_metrics else None,
                                        ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)
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


def _task_splits(train_dataset, eval_dataset) -> tuple[dict, dict]:
    """``{task: Dataset}`` for training and evaluation, from ``{task: Dataset}`` or ``{task: DatasetDict}``."""
    import datasets

    if train_dataset is not None and not isinstance(train_dataset, Mapping):
        raise TypeError("MultiTaskTrainer's train_dataset is a {task_name: Dataset or DatasetDict} mapping, got "
                        f"{type(train_dataset).__name__}")
    train, evals = {}, {}
    for t, d in (train_dataset or {}).items():
        if isinstance(d, datasets.DatasetDict):
            if "train" not in d:
                raise ValueError(f"task {t!r}: its DatasetDict has no 'train' split ({list(d)})")
            train[t] = d["train"]
            if eval_dataset is None and "validation" in d:
                evals[t] = d["validation"]
        else:
            train[t] = d
    if eval_dataset is not None:
        if not isinstance(eval_dataset, Mapping):
            raise TypeError("MultiTaskTrainer's eval_dataset is a {task_name: Dataset} mapping")
        evals = {t: (d["validation"] if isinstance(d, datasets.DatasetDict) else d) for t, d in eval_dataset.items()}
    return train, evals


def _check_columns(task: str, ds, spec: TaskSpec, args: MultiTaskConfig) -> None:
    cols = getattr(ds, "column_names", None)
    if cols is None:
        return
    if "input_ids" not in cols and "features" not in cols:
        raise ValueError(f"task {task!r}: the training set has neither 'input_ids' (tokenise it) nor 'features' "
                         f"(cached encoder outputs); its columns are {cols}")
    if "labels" not in cols and "teacher_logits" not in cols:
        raise ValueError(f"task {task!r}: the training set has no 'labels' column and no 'teacher_logits'; its "
                         f"columns are {cols}")
