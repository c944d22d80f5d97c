"""``DistillationTrainer``: KD with temperature, teacher annealing and several teachers, live or cached."""

from __future__ import annotations

from typing import Any

import torch

from ..data.spec import TaskSpec
from ..losses import cosine_hidden_loss, get_kd_loss, supervised_loss
from ..schedules import alpha_at_step
from ..teachers import as_teacher_list, check_teacher_label_space
from .distillation_config import DistillationConfig
from .emotion_trainer import EmotionTrainer, _model_inputs
from .kd_objective import cells_per_example, distillation_objective

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class DistillationTrainer(EmotionTrainer):
    """Distil one or several teachers into the student (paper 000 §3.2.3-3.2.4; paper 003 Eq. 1-4).

    * ``teacher_model``: a model, a folder / Hub id, or a list of them. Optional when the training set has a
      ``teacher_logits`` column (see :func:`hf_emo.cache_teacher_logits`); cached logits win over live teachers.
    * Teachers are checked against the student's label names, kept in eval mode without gradients, placed by
      Accelerate (never wrapped for DDP), optionally cast to ``teacher_dtype``; they are not in the optimizer
      and not saved with the student.
    * ``alpha`` comes from :func:`hf_emo.schedules.alpha_at_step` at the current global step, so resuming from a
      checkpoint continues teacher annealing exactly.
    * Logs ``loss_hard``, ``loss_kd`` (and ``loss_cosine``) and the current ``alpha`` next to ``loss``.
    """

    extra_columns: tuple[str, ...] = ("weight", "teacher_logits", "task")

    def __init__(self, model=None, args: DistillationConfig | None = None, teacher_model=None, *,
                 task_spec: TaskSpec | None = None, **kwargs: Any) -> None:
        args = args if args is not None else DistillationConfig(output_dir="hf_emo_output")
        if not isinstance(args, DistillationConfig):
            raise TypeError(f"DistillationTrainer needs a DistillationConfig, got {type(args).__name__}")
        super().__init__(model=model, args=args, task_spec=task_spec, **kwargs)
        self.kd_loss_name, self.kd_loss_fn = get_kd_loss(args.kd_loss, self.task_spec.problem_type)
        teachers = [self._load_teacher(t) for t in as_teacher_list(teacher_model)]
        for i, t in enumerate(teachers):
            check_teacher_label_space(t, self.task_spec, i)
        self.teachers = [self._prepare_teacher(t) for t in teachers]
        if not self.teachers and self.train_dataset is not None and hasattr(self.train_dataset, "column_names") \
                and "teacher_logits" not in self.train_dataset.column_names:
            raise ValueError("no teacher: pass teacher_model=..., or give train_dataset a 'teacher_logits' column "
                             f"(hf_emo.cache_teacher_logits); its columns are {self.train_dataset.column_names}")
        if args.cosine_loss_weight > 0 and not self.teachers:
            raise ValueError("cosine_loss_weight > 0 needs a live teacher (hidden states are not cached)")
        self._kd_sums: dict[str, torch.Tensor | float] = {}
        self._kd_calls = 0
        self._kd_alpha_sum = 0.0

    # -- teachers ------------------------------------------------------------------------------------
    @staticmethod
    def _load_teacher(teacher):
        if isinstance(teacher, str):
            from ..models.factory import load_classifier

            return load_classifier(teacher)
        return teacher

    def _prepare_teacher(self, teacher):
        teacher.eval()
        teacher.requires_grad_(False)
        if self.args.teacher_dtype:
            teacher.to(_DTYPES[self.args.teacher_dtype])
        if self.is_deepspeed_enabled or self.is_fsdp_enabled:
            return teacher.to(self.accelerator.device)  # a frozen teacher needs no sharding engine
        return self.accelerator.prepare_model(teacher, evaluation_mode=True)

    def teacher_logits(self, model_inputs: dict[str, torch.Tensor], output_hidden_states: bool = False,
                       teachers: list | None = None):
        """Live teachers' logits ``(B, C)`` or ``(B, K, C)`` (and the first teacher's last hidden states).
        ``teachers`` defaults to the trainer's own."""
        outs, hidden = [], None
        for k, teacher in enumerate(self.teachers if teachers is None else teachers):
            teacher.eval()
            with torch.inference_mode():
                out = teacher(**model_inputs, output_hidden_states=output_hidden_states and k == 0)
            # clone outside inference mode: inference tensors cannot be saved for backward
            outs.append(out.logits.float().clone())
            if output_hidden_states and k == 0:
                hidden = out.hidden_states[-1].float().clone()
        logits = outs[0] if len(outs) == 1 else torch.stack(outs, dim=1)
        return logits, hidden

    # -- schedule ------------------------------------------------------------------------------------
    def current_alpha(self) -> float:
        a = self.args
        return alpha_at_step(self.state.global_step, self.state.max_steps, a.alpha_schedule, a.alpha, a.alpha_start,
                             a.alpha_end)

    # -- counting ------------------------------------------------------------------------------------
    def _cells_per_example(self) -> int:
        return cells_per_example(self.task_spec.problem_type, self.task_spec.num_labels)

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device):
        """Label-free batches (pure distillation) are counted too: examples x label cells, as if labelled."""
        if not batch_samples or "labels" in batch_samples[0]:
            return super()._get_num_items_in_batch(batch_samples, device)
        n = torch.tensor(sum(len(b["input_ids"]) for b in batch_samples) * self._cells_per_example(), device=device)
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            n = self.accelerator.gather(n).sum()
        return n

    # -- loss ----------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        """``alpha * L_hard + (1 - alpha) * L_KD`` (loss_mix) or the loss against ``alpha*gold + (1-alpha)*teacher``
        (target_mix), both normalised by ``num_items_in_batch`` for exact gradient accumulation."""
        args = self.args
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        weight = inputs.pop("weight", None)
        cached = inputs.pop("teacher_logits", None)
        model_inputs = _model_inputs(inputs, self.extra_columns)
        want_hidden = args.cosine_loss_weight > 0 and model.training
        outputs = model(**model_inputs, **({"output_hidden_states": True} if want_hidden else {}))
        student = outputs.logits
        t_hidden = None
        if cached is not None:
            teacher = cached.to(student.device, torch.float32)
        elif self.teachers:
            teacher, t_hidden = self.teacher_logits(model_inputs, want_hidden)
        elif not model.training and labels is not None:
            # an evaluation set without cached logits: its loss is the gold-label loss
            loss = supervised_loss(student, labels, self.task_spec.problem_type, weight, num_items_in_batch)
            return (loss, outputs) if return_outputs else loss
        else:
            raise ValueError("this batch has no 'teacher_logits' and the trainer has no teacher model")
        alpha = self.current_alpha()
        loss, hard, kd = distillation_objective(
            student, labels, teacher, self.task_spec.problem_type, alpha=alpha, temperature=args.temperature,
            kd_fn=self.kd_loss_fn, annealing=args.annealing, teacher_aggregation=args.teacher_aggregation,
            weight=weight, num_items_in_batch=num_items_in_batch)
        n_examples = None if num_items_in_batch is None else num_items_in_batch / self._cells_per_example()
        cos = None
        if want_hidden and t_hidden is not None:
            cos = cosine_hidden_loss(outputs.hidden_states[-1], t_hidden, model_inputs.get("attention_mask"), weight,
                                     n_examples)
            loss = loss + args.cosine_loss_weight * cos
        if model.training:
            self._record(hard, kd, cos, alpha, num_items_in_batch is not None)
        loss = self._scale_for_devices(loss, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    # -- logging -------------------------------------------------------------------------------------
    def _record(self, hard, kd, cos, alpha: float, normalised: bool) -> None:
        # with num_items_in_batch each micro-batch holds its share of the step's loss: sum, then divide by steps
        scale = 1.0 if normalised else 1.0 / self.args.gradient_accumulation_steps
        for name, v in (("loss_hard", hard), ("loss_kd", kd), ("loss_cosine", cos)):
            if v is not None:  # detached tensors: no device sync in the training step, only when logging
                self._kd_sums[name] = self._kd_sums.get(name, 0.0) + v.detach() * scale
        self._kd_alpha_sum += alpha
        self._kd_calls += 1

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._kd_calls:
            steps = self._kd_calls / self.args.gradient_accumulation_steps  # optimizer steps since the last log
            for k, v in self._kd_sums.items():
                logs[k] = round(float(v) / steps, 6)
            logs["alpha"] = round(self._kd_alpha_sum / self._kd_calls, 6)  # mean alpha over the logged steps
            self._kd_sums.clear()
            self._kd_alpha_sum = 0.0
            self._kd_calls = 0
        super().log(logs, start_time)

