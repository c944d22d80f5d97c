"""``DistillationTrainer``: KD with temperature, teacher annealing and several teachers, live or cached."""

from __future__ import annotations

from typing import Any

import torch

from ..data.spec import TaskSpec
from ..losses import cosine_hidden_loss, get_kd_loss, loss_info
from ..method import MethodDescription
from ..teachers import Teachers
from .distillation_config import DistillationConfig
from .emotion_trainer import EmotionTrainer, _model_inputs
from .kd_objective import cells_per_example, distillation_objective


class DistillationTrainer(EmotionTrainer):
    """Distil one or several teachers into the student (Hinton et al. 2015; Matei §3.2.3-3.2.4; Avram et al. 2022,
    Eq. 1-4).

    * ``teacher_model``: a model, a folder / Hub id, or a list of them, held by a :class:`~hf_emo.teachers.Teachers`
      component (label-space check, eval mode, no gradients, placement). Optional when the training set has a
      ``teacher_logits`` column (see :func:`hf_emo.cache_teacher_logits`); cached logits win over live teachers.
    * ``alpha`` comes from the config's schedule at the current global step, so resuming from a checkpoint continues
      teacher annealing exactly.
    * Training logs ``loss_hard``, ``loss_kd`` (and ``loss_cosine``) and the mean ``alpha`` next to ``loss``.
    * ``eval_loss`` is the gold-label loss only, whatever alpha is at that step (so ``load_best_model_at_end`` on
      ``eval_loss`` compares like with like in an annealed run); the KD part is reported as ``eval_loss_kd`` when
      the evaluation set has teacher outputs.
    """

    _name = "Knowledge distillation"
    _tag_names = (*EmotionTrainer._tag_names, "knowledge-distillation")
    _citations = ("matei_mtkd", "hinton2015")
    config_class = DistillationConfig
    extra_columns: tuple[str, ...] = ("weight", "teacher_logits", "task")

    def __init__(
        self,
        model=None,
        args: DistillationConfig | None = None,
        teacher_model=None,
        *,
        task_spec: TaskSpec | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, args=args, task_spec=task_spec, **kwargs)
        self.kd_loss_name, self.kd_loss_fn = get_kd_loss(self.args.kd_loss, self.task_spec.problem_type)
        self.teachers = Teachers(teacher_model, self.task_spec, dtype=self.args.teacher_dtype).place(
            self.accelerator, sharded_training=self.is_deepspeed_enabled or self.is_fsdp_enabled
        )
        if (
            not len(self.teachers)
            and self.train_dataset is not None
            and hasattr(self.train_dataset, "column_names")
            and "teacher_logits" not in self.train_dataset.column_names
        ):
            raise ValueError(
                "no teacher: pass teacher_model=..., or give train_dataset a 'teacher_logits' column "
                f"(hf_emo.cache_teacher_logits); its columns are {self.train_dataset.column_names}"
            )
        if self.args.cosine_loss_weight > 0 and not len(self.teachers):
            raise ValueError("cosine_loss_weight > 0 needs a live teacher (hidden states are not cached)")
        self._eval_kd = [0.0, 0]  # sum of batch KD losses x batch size, examples

    # -- the method ----------------------------------------------------------------------------------------
    @classmethod
    def describe(cls, args: DistillationConfig, **facts: Any) -> MethodDescription:
        problem_type = facts.get("problem_type")
        kd = get_kd_loss(args.kd_loss, problem_type)[0] if problem_type else args.kd_loss
        n_teachers = facts.get("teachers", 1)
        summary = (
            f"Knowledge distillation (Hinton et al. 2015; Matei §3.2.3): L = alpha * L_gold + (1 - alpha) * "
            f"T^2 * L_KD with T = {args.temperature} and {args.describe_alpha()}. The KD term is "
            f"{loss_info(kd, 'kd').summary}"
            + (
                f", {'averaged over' if args.teacher_aggregation == 'loss' else 'against the mean of'} "
                f"{n_teachers} teachers"
                if n_teachers > 1
                else ""
            )
            + ". "
            + (
                "Teacher logits were computed once and cached."
                if facts.get("cached_teacher_logits")
                else "Teachers ran live on every batch."
            )
        )
        if args.annealing == "target_mix":
            summary += " Annealing form: one loss against the mixed target alpha * gold + (1 - alpha) * teacher (BAM)."
        if getattr(args, "cosine_loss_weight", 0) > 0:
            summary += (
                f" Plus {args.cosine_loss_weight} times DistilBERT's cosine loss between the student's and "
                "the teachers' last hidden states (Sanh et al. 2019)."
            )
        settings = cls._common_settings(
            args, kd_loss=kd, temperature=args.temperature, alpha_schedule=args.alpha_schedule, annealing=args.annealing
        )
        settings.update(
            {"alpha_start": args.alpha_start, "alpha_end": args.alpha_end}
            if args.alpha_schedule == "linear"
            else {"alpha": args.alpha}
        )
        if n_teachers > 1:
            settings["teacher_aggregation"] = args.teacher_aggregation
        if facts.get("teacher_names"):  # the teachers as the job names them (Hub ids or folder names)
            settings["teachers"] = list(facts["teacher_names"])
        if facts.get("teacher_column"):
            settings["teacher_column"] = facts["teacher_column"]
        if "cached_teacher_logits" in facts:
            settings["cached_teacher_logits"] = bool(facts["cached_teacher_logits"])
        citations = (
            cls._citations
            + (("clark2019",) if args.alpha_schedule == "linear" or args.annealing == "target_mix" else ())
            + (("avram2022",) if n_teachers > 1 else ())
            + (("sanh2019",) if getattr(args, "cosine_loss_weight", 0) > 0 else ())
        )
        loss = cls._resolved_loss(args, problem_type)
        return MethodDescription(
            cls.__name__,
            cls._name,
            summary,
            settings=settings,
            tags=cls._tag_names,
            citations=citations + cls._loss_citations(loss, kd),
        )

    def method_facts(self) -> dict[str, Any]:
        cached = self.train_dataset is not None and "teacher_logits" in getattr(self.train_dataset, "column_names", ())
        shape = None
        if cached and len(self.train_dataset):
            shape = torch.as_tensor(self.train_dataset[0]["teacher_logits"]).dim()
        n = len(self.teachers) or (2 if shape == 2 else 1)
        return {**super().method_facts(), "teachers": n, "cached_teacher_logits": cached}

    # -- schedule ------------------------------------------------------------------------------------------
    def current_alpha(self) -> float:
        return self.args.alpha_at(self.state.global_step, self.state.max_steps)

    # -- counting ------------------------------------------------------------------------------------------
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

    # -- teachers ------------------------------------------------------------------------------------------
    def teacher_outputs(
        self, inputs: dict[str, Any], output_hidden_states: bool = False
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """The teachers' logits for this batch (and their hidden states, live teachers only); takes the teacher
        columns out of ``inputs``. Cached ``teacher_logits`` win; ``None`` when the batch has no teacher output."""
        cached = inputs.pop("teacher_logits", None)
        if cached is not None:
            return cached.float(), []
        if len(self.teachers):
            return self.teachers.logits(_model_inputs(inputs, self.extra_columns), output_hidden_states)
        return None, []

    # -- loss ----------------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        """Training: ``alpha * L_hard + (1 - alpha) * L_KD`` (loss_mix) or the loss against ``alpha*gold +
        (1-alpha)*teacher`` (target_mix), normalised by ``num_items_in_batch`` for exact gradient accumulation.
        Evaluation: the gold-label loss (the KD loss when the set has no labels); the KD part goes to
        ``eval_loss_kd``."""
        args = self.args
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        weight = inputs.pop("weight", None)
        want_hidden = args.cosine_loss_weight > 0 and model.training
        teacher, t_hidden = self.teacher_outputs(inputs, want_hidden)
        model_inputs = _model_inputs(inputs, self.extra_columns)
        outputs = model(**model_inputs, **({"output_hidden_states": True} if want_hidden else {}))
        student = outputs.logits
        if teacher is None and (model.training or labels is None):
            raise ValueError("this batch has no 'teacher_logits' and the trainer has no teacher model")
        if teacher is not None:
            teacher = teacher.to(student.device)
        if not model.training:
            loss = self._evaluation_loss(student, labels, teacher, weight)
        else:
            alpha = self.current_alpha()
            loss, hard, kd = distillation_objective(
                student,
                labels,
                teacher,
                self.task_spec.problem_type,
                alpha=alpha,
                temperature=args.temperature,
                kd_fn=self.kd_loss_fn,
                annealing=args.annealing,
                teacher_aggregation=args.teacher_aggregation,
                weight=weight,
                num_items_in_batch=num_items_in_batch,
                hard_fn=self.supervised_loss,
            )
            share = self._log_share(num_items_in_batch)
            if t_hidden:
                n_examples = None if num_items_in_batch is None else num_items_in_batch / self._cells_per_example()
                mask = model_inputs.get("attention_mask")
                cos = torch.stack(
                    [cosine_hidden_loss(outputs.hidden_states[-1], h, mask, weight, n_examples) for h in t_hidden]
                ).mean()  # averaged over teachers (Avram et al. 2022, Eq. 5)
                loss = loss + args.cosine_loss_weight * cos
                self.loss_log.add("loss_cosine", cos, share)
            self.loss_log.add("loss_hard", hard, share)
            self.loss_log.add("loss_kd", kd, share)
            self.loss_log.add_mean("alpha", alpha)
        loss = self._scale_for_devices(loss, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def _evaluation_loss(self, student, labels, teacher, weight) -> torch.Tensor:
        kd = None
        if teacher is not None:
            teachers = [teacher] if teacher.dim() == student.dim() else list(teacher.unbind(1))
            kd = torch.stack([self.kd_loss_fn(student, t, self.args.temperature, weight) for t in teachers]).mean()
            self._eval_kd[0] += float(kd) * len(student)
            self._eval_kd[1] += len(student)
        return self.supervised_loss(student, labels, weight) if labels is not None else kd

    def evaluation_loop(
        self,
        dataloader,
        description: str,
        prediction_loss_only: bool | None = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ):
        self._eval_kd = [0.0, 0]
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        total, n = self._eval_kd
        if n:
            output.metrics[f"{metric_key_prefix}_loss_kd"] = total / n
        return output
