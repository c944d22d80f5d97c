"""``PretrainingDistillationTrainer``: a language model distilled into a smaller one, from one teacher or several
(Sanh et al. 2019; Avram et al. 2022)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import Trainer

from ..losses import kd_kl_loss, token_cosine_loss
from ..method import MethodDescription
from ..teachers import Teachers
from .emotion_config import as_config
from .loss_log import LossLog, LossLogMixin
from .pretraining_distillation_config import PretrainingDistillationConfig


def objective_of(model) -> str:
    """``clm`` for a causal LM, ``mlm`` for a masked LM (by the model class), else an error naming it."""
    name = type(model.get_base_model() if hasattr(model, "get_base_model") else model).__name__
    if name.endswith("ForCausalLM"):
        return "clm"
    if name.endswith(("ForMaskedLM", "ForPreTraining")):
        return "mlm"
    raise ValueError(
        f"{name} is neither a causal nor a masked LM: pretraining distillation needs a model with its "
        "language-model head (AutoModelForCausalLM / AutoModelForMaskedLM)"
    )


class PretrainingDistillationTrainer(LossLogMixin, Trainer):
    """Distil one or several language-model teachers into a student on unlabelled text (Avram et al. 2022, Eq. 1-5):
    ``L = kd_weight * L_KD + lm_weight * L_LM + cosine_weight * L_cos``.

    * ``L_KD``: :func:`hf_emo.losses.kd_kl_loss` on the positions the LM loss scores (the masked tokens for MLM,
      every next-token position for CLM), averaged over the teachers (Eq. 4);
    * ``L_LM``: the student's own masked- or causal-LM cross-entropy, with labels from transformers'
      ``DataCollatorForLanguageModeling`` (15 % masking, 80/10/10 for MLM);
    * ``L_cos``: :func:`hf_emo.losses.token_cosine_loss` between the last hidden states on the non-padding tokens,
      averaged over the teachers (Eq. 5).

    Every term is a sum divided by the optimizer step's item count (positions for KD and LM, tokens for cosine), so
    gradient accumulation equals one large batch. Teachers share the student's vocabulary and hidden size (refused
    otherwise, naming both); they run frozen, in eval mode, under inference mode, and are never saved. The student
    is a normal ``AutoModelForMaskedLM`` / ``AutoModelForCausalLM`` (start one with
    :func:`hf_emo.models.init_student_from_teacher`), which ``AutoModelForSequenceClassification`` loads to fine-tune.

    Resuming repeats the straight run exactly, masks included. MLM masks are drawn when a batch is collated, which
    happens ahead of the step (Accelerate's loader prefetches a batch, and Trainer restores its RNG only after the
    first resumed batches), so no RNG state saved with a checkpoint can reproduce them. Instead an MLM collator is
    wrapped in :class:`SeededMasking`: each batch's masks are drawn from a generator seeded by ``args.seed``, the epoch
    and the batch's token ids (dynamic masking, different in every epoch, and the same on a resumed run).
    """

    _name = "Pretraining distillation"
    _tag_names: tuple[str, ...] = ("hf_emo", "knowledge-distillation", "distilbert-style")
    _citations: tuple[str, ...] = ("avram2022", "sanh2019", "hinton2015")
    config_class = PretrainingDistillationConfig

    def __init__(
        self, model=None, args: PretrainingDistillationConfig | None = None, teacher_model=None, **kwargs: Any
    ) -> None:
        if model is None:
            raise ValueError("PretrainingDistillationTrainer needs a student model")
        args = as_config(args, self.config_class, type(self).__name__)
        collator = kwargs.get("data_collator")
        if getattr(collator, "mlm", False):  # random masks at collation: make them a function of the batch
            kwargs["data_collator"] = SeededMasking(collator, args.seed)
        super().__init__(model=model, args=args, **kwargs)
        self.model_accepts_loss_kwargs = True  # compute_loss divides by the step's item counts itself
        self.objective = objective_of(model) if args.objective == "auto" else args.objective
        from ..teachers import as_teacher_list

        self.teachers = Teachers(
            [_load_lm(t, self.objective) for t in as_teacher_list(teacher_model)], None, dtype=args.teacher_dtype
        )
        if not len(self.teachers):
            raise ValueError("pretraining distillation needs teacher_model=... (one model, a folder, or a list)")
        for i, teacher in enumerate(self.teachers):
            _check_compatible(model, teacher, i, needs_hidden=args.cosine_weight > 0)
        self.teachers.place(self.accelerator, sharded_training=self.is_deepspeed_enabled or self.is_fsdp_enabled)
        self.loss_log = LossLog()

    def _run_epoch(self, model, epoch, *args, **kwargs):
        if isinstance(self.data_collator, SeededMasking):
            self.data_collator.epoch = int(epoch)
        return super()._run_epoch(model, epoch, *args, **kwargs)

    # -- the method --------------------------------------------------------------------------------------------
    @classmethod
    def describe(cls, args: PretrainingDistillationConfig, **facts: Any) -> MethodDescription:
        objective = facts.get("objective", args.objective)
        lm = {"mlm": "masked-LM", "clm": "causal-LM"}.get(objective, "language-model")
        n = facts.get("teachers", 1)
        summary = (
            f"Task-agnostic distillation of a language model (Sanh et al. 2019; Avram et al. 2022, Eq. 1-5): "
            f"L = {args.kd_weight} * L_KD + {args.lm_weight} * L_{lm} + {args.cosine_weight} * L_cos, with "
            f"L_KD = T^2 KL(softmax(t/T) || softmax(s/T)) at T = {args.temperature} on the positions the "
            f"{lm} loss scores and L_cos = 1 - cos of the last hidden states on every token"
            + (f", both averaged over {n} teachers." if n > 1 else ".")
            + (
                f" The student started as {facts['student_layers']} of the teacher's layers."
                if facts.get("student_layers")
                else ""
            )
        )
        steps = (
            {"max_steps": args.max_steps}
            if args.max_steps and args.max_steps > 0
            else {"num_train_epochs": args.num_train_epochs}
        )
        settings = {
            "objective": objective,
            "temperature": args.temperature,
            "kd_weight": args.kd_weight,
            "lm_weight": args.lm_weight,
            "cosine_weight": args.cosine_weight,
            "learning_rate": args.learning_rate,
            **steps,
            "per_device_train_batch_size": args.per_device_train_batch_size,
            "seed": args.seed,
        }
        if objective == "mlm":
            settings["mlm_probability"] = args.mlm_probability
        return MethodDescription(
            cls.__name__, cls._name, summary, settings=settings, tags=cls._tag_names, citations=cls._citations
        )

    def method_description(self, **facts: Any) -> MethodDescription:
        student = getattr(self.accelerator.unwrap_model(self.model).config, "hf_emo_student_of", None) or {}
        return type(self).describe(
            self.args,
            **{
                "objective": self.objective,
                "teachers": len(self.teachers),
                "student_layers": student.get("layers"),
                **facts,
            },
        )

    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """A card with the method, its settings and citations (the student has no task yet: fine-tune it next)."""
        if not self.is_world_process_zero():
            return
        from huggingface_hub import ModelCard, ModelCardData

        method = self.method_description()
        name = kwargs.get("model_name") or Path(self.args.output_dir).name
        rows = "\n".join(f"| {k} | `{v}` |" for k, v in method.settings.items())
        data = ModelCardData(library_name="transformers", tags=list(method.tags), model_name=name)
        text = (
            f"---\n{data.to_yaml()}\n---\n\n# {name}\n\nA student language model distilled by hf_emo's "
            f"`{method.trainer}` ({method.name.lower()}). Fine-tune it for a task, e.g. with `EmotionTrainer`."
            f"\n\n## Method\n\n{method.summary}\n\n| setting | value |\n|---|---|\n{rows}\n\n## Citation\n\n"
            f"```bibtex\n{method.bibtex()}\n```\n"
        )
        (Path(self.args.output_dir) / "README.md").write_text(str(ModelCard(text)), encoding="utf-8")

    # -- counting ----------------------------------------------------------------------------------------------
    def _scored(self, labels: torch.Tensor) -> torch.Tensor:
        """The positions the LM loss scores: masked tokens (MLM) or next-token targets (CLM, shifted)."""
        return labels[:, 1:].ne(-100) if self.objective == "clm" else labels.ne(-100)

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device):
        """``[LM positions, tokens]`` of the optimizer step (summed over processes): KD and LM divide by the first,
        the cosine term by the second."""
        counts = torch.zeros(2, dtype=torch.long, device=device)
        for b in batch_samples:
            counts[0] += int(self._scored(b["labels"]).sum())
            counts[1] += int(b["attention_mask"].sum())
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            counts = self.accelerator.gather(counts).view(-1, 2).sum(0)
        # a step whose masking drew no position has sums of 0: divided by 1 they stay 0 (0 / 0 made every weight
        # NaN, silently, until the loss check stopped it)
        return counts.clamp(min=1)

    # -- loss ----------------------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        args = self.args
        labels, mask = inputs["labels"], inputs["attention_mask"]
        model_inputs = {"input_ids": inputs["input_ids"], "attention_mask": mask}
        out = model(**model_inputs, output_hidden_states=True)
        scored = self._scored(labels)
        targets = labels[:, 1:] if self.objective == "clm" else labels
        student_logits = out.logits[:, :-1] if self.objective == "clm" else out.logits
        n_lm, n_tok = (num_items_in_batch[0], num_items_in_batch[1]) if num_items_in_batch is not None else (None, None)
        lm_sum = F.cross_entropy(student_logits[scored].float(), targets[scored], reduction="sum")
        lm = lm_sum / (scored.sum().clamp(min=1) if n_lm is None else n_lm.to(lm_sum.device))
        kd_terms, cos_terms = [], []
        for teacher in self.teachers:
            teacher.eval()
            with torch.inference_mode():
                t_out = teacher(**model_inputs, output_hidden_states=args.cosine_weight > 0)
            t_logits = t_out.logits.float().clone()  # out of inference mode, for the student's backward
            t_logits = t_logits[:, :-1] if self.objective == "clm" else t_logits
            kd_terms.append(kd_kl_loss(student_logits[scored], t_logits[scored], args.temperature, None, n_lm))
            if args.cosine_weight > 0:
                cos_terms.append(
                    token_cosine_loss(out.hidden_states[-1], t_out.hidden_states[-1].float().clone(), mask, n_tok)
                )
        kd = torch.stack(kd_terms).mean()  # Avram et al. 2022, Eq. 4: the teachers' KD losses averaged
        cos = torch.stack(cos_terms).mean() if cos_terms else torch.zeros((), device=lm.device)  # Eq. 5
        loss = args.kd_weight * kd + args.lm_weight * lm + args.cosine_weight * cos
        if model.training:
            share = 1.0 if num_items_in_batch is not None else 1.0 / args.gradient_accumulation_steps
            for name, value in (("loss_kd", kd), ("loss_lm", lm), ("loss_cosine", cos)):
                self.loss_log.add(name, value, share)
        if num_items_in_batch is not None and args.average_tokens_across_devices:
            loss = loss * self.accelerator.num_processes  # DDP averages gradients; the counts were summed
        return (loss, out) if return_outputs else loss


class SeededMasking:
    """Wraps a masking collator (``DataCollatorForLanguageModeling(mlm=True)``) so that a batch's masks depend only
    on ``seed``, ``epoch`` and its token ids: drawn under ``torch.random.fork_rng`` from a seed hashed from those,
    so the global RNG (dropout, data order) is left untouched and a resumed run masks exactly as the straight run."""

    def __init__(self, collator, seed: int) -> None:
        self.collator, self.seed, self.epoch = collator, int(seed), 0

    def __call__(self, examples: list) -> dict:
        ids = [list(e["input_ids"]) if isinstance(e, dict) else list(e) for e in examples]
        digest = hashlib.sha256(repr((self.seed, self.epoch, ids)).encode()).digest()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
            return self.collator(examples)

    def __getattr__(self, name: str) -> Any:  # tokenizer, mlm, ... of the wrapped collator
        if name == "collator":
            raise AttributeError(name)
        return getattr(self.collator, name)


def _load_lm(teacher, objective: str):
    """A teacher given as a folder / Hub id / zoo name, loaded with its language-model head."""
    if not isinstance(teacher, str):
        return teacher
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

    from ..zoo import resolve_model

    model, info = (AutoModelForCausalLM if objective == "clm" else AutoModelForMaskedLM).from_pretrained(
        resolve_model(teacher), output_loading_info=True
    )
    prefix = getattr(model, "base_model_prefix", "") + "."
    head = [k for k in info.get("missing_keys", ()) if not k.startswith(prefix)]
    if head:  # transformers would start it from random weights, with only a load report on stderr
        raise ValueError(
            f"teacher {teacher!r} has no trained language-model head ({len(head)} of its weights are missing, e.g. "
            f"{head[0]}): pretraining distillation reads the teacher's token predictions; give a checkpoint saved "
            "with its head (a *ForMaskedLM or *ForCausalLM model)"
        )
    return model


def _check_compatible(student, teacher, index: int, *, needs_hidden: bool) -> None:
    where = f"teacher {index} ({getattr(teacher.config, '_name_or_path', '') or type(teacher).__name__})"
    sv, tv = student.config.vocab_size, teacher.config.vocab_size
    if sv != tv:
        raise ValueError(
            f"{where} has a vocabulary of {tv} pieces, the student {sv}: token-level KD needs one "
            "vocabulary (a teacher with another tokenizer is not supported by this trainer)"
        )
    sh, th = student.config.hidden_size, teacher.config.hidden_size
    if needs_hidden and sh != th:
        raise ValueError(
            f"{where} has hidden size {th}, the student {sh}: the cosine term needs equal sizes (set "
            "cosine_weight 0, or distil into a student of the teacher's width)"
        )
