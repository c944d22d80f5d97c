"""hf_emo's classifiers, its prediction pipeline and its generative classifier as transformers custom code.

This file imports only torch and transformers. hf_emo saves it beside every classifier it trains (``config.json``
names it in ``auto_map`` and ``custom_pipelines``), so that a student loads and predicts where hf_emo is not
installed, with the text prefix, length limit, problem type and tuned thresholds it was trained with::

    from transformers import pipeline

    classify = pipeline("text-classification", model="user/student", trust_remote_code=True)
    classify(["What a lovely day!"])  # [{"labels": ["joy"], "scores": {"joy": 0.97, ...}}], as `hf-emo predict`

    AutoModelForSequenceClassification.from_pretrained("user/student", trust_remote_code=True)  # the model alone

A LoRA / QLoRA adapter of ``hf-emo generative`` ships this file too (peft then is needed, as for any adapter)::

    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    Classifier = get_class_from_dynamic_module("modeling_hf_emo.GenerativeEmotionClassifier", "user/adapter")
    classify = Classifier.from_pretrained("user/adapter")  # the base model named by the adapter, with the adapter
    classify(["What a lovely day!"])  # labels scored by likelihood, as `hf-emo predict` scores them

Inside hf_emo the training classes (``hf_emo.models``) subclass these and add its losses and training tools, and
the generative scoring (``hf_emo.generative``) runs the passes defined here.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    Pipeline,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.utils import ModelOutput

try:  # only an adapter needs peft; transformers' check of remote code skips imports inside a try
    from peft import PeftModel
except ImportError:  # pragma: no cover
    PeftModel = None

POOLINGS = ("mean", "cls")
HEAD_LAYOUTS = ("multi_head", "shared_embedding")
# hf_emo's short problem names and transformers' own
HF_PROBLEM_TYPES = {
    "single_label": "single_label_classification",
    "multi_label": "multi_label_classification",
    "regression": "regression",
}
SHORT_PROBLEM_TYPES = {v: k for k, v in HF_PROBLEM_TYPES.items()}
DEFAULT_MAX_LENGTH = 512  # where `hf-emo predict` cuts a text when the model was trained without a limit


class EncoderWrapperConfig(PretrainedConfig):
    """Base of the configs that wrap an HF encoder: its config (``encoder``, a dict, so that the wrapper saves and
    loads as one config), the pooling, an optional shared hidden layer (``shared_layer_size``, Linear + ReLU), the
    heads' dropout, the text prefix and the maximum length the model was trained with."""

    def __init__(
        self,
        encoder: dict | None = None,
        pooling: str = "mean",
        classifier_dropout: float = 0.1,
        text_prefix: str = "",
        max_seq_length: int | None = None,
        shared_layer_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        if shared_layer_size is not None and shared_layer_size <= 0:
            raise ValueError(f"shared_layer_size must be a positive int or None, got {shared_layer_size}")
        if isinstance(encoder, PretrainedConfig):
            encoder = encoder.to_dict()
        self.encoder = dict(encoder or {})
        self.pooling = pooling
        self.classifier_dropout = classifier_dropout
        self.text_prefix = text_prefix
        self.max_seq_length = max_seq_length
        self.shared_layer_size = shared_layer_size
        super().__init__(**kwargs)

    @property
    def encoder_config(self) -> PretrainedConfig:
        enc = dict(self.encoder)
        return AutoConfig.for_model(enc.pop("model_type"), **enc)

    @property
    def hidden_size(self) -> int:  # used by Trainer/DeepSpeed auto settings
        return int(self.encoder.get("hidden_size", 0))


class PooledClassifierConfig(EncoderWrapperConfig):
    """A pooled classifier: the wrapped encoder's config, ``pooling``, the optional shared layer and the head."""

    model_type = "hf_emo_pooled_classifier"
    # transformers 5 makes each config class a dataclass, and one without an ``__init__`` of its own gets a generated
    # one that never runs its base's: name the base's here.
    __init__ = EncoderWrapperConfig.__init__


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor | None, how: str) -> torch.Tensor:
    """Mean of the non-padding token states (E5's pooling), or the first token's state."""
    if how == "cls":
        return hidden[:, 0]
    if attention_mask is None:
        return hidden.mean(1)
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


# encoders that build a pooler by default; the wrappers read pooled token states, and an unused pooler breaks DDP
POOLER_MODEL_TYPES = {"bert", "roberta", "xlm-roberta", "camembert"}


def encoder_from_config(config: PretrainedConfig) -> PreTrainedModel:
    """A freshly built encoder for ``config`` (no pooler); ``from_pretrained`` then fills in its weights."""
    return AutoModel.from_config(
        config, **({"add_pooling_layer": False} if config.model_type in POOLER_MODEL_TYPES else {})
    )


def _shared_layer(hidden: int, size: int | None) -> nn.Module | None:
    return nn.Sequential(nn.Linear(hidden, size), nn.ReLU()) if size else None


def standard_loss(logits: torch.Tensor, labels: torch.Tensor, problem_type: str | None) -> torch.Tensor:
    """transformers' sequence-classification loss: MSE for regression, cross-entropy for single-label, BCE with
    logits for multi-label (``problem_type`` in either naming; unset, it is inferred from the labels)."""
    problem = SHORT_PROBLEM_TYPES.get(problem_type or "", problem_type)
    if problem not in HF_PROBLEM_TYPES:
        problem = "single_label" if labels.dtype in (torch.long, torch.int) else "multi_label"
    if problem == "regression":
        return nn.functional.mse_loss(logits.float(), labels.float().view_as(logits))
    if problem == "single_label":
        return nn.functional.cross_entropy(logits.float(), labels.view(-1))
    return nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float())


class EncoderWrapperModel(PreTrainedModel):
    """Base of the models that wrap an HF encoder (``self.encoder``) with heads of their own: the heads' linear
    layers are initialised here, the encoder's weights are the pretrained ones."""

    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear) and not any(module is m for m in self.encoder.modules()):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def encode(
        self, input_ids=None, attention_mask=None, token_type_ids=None, inputs_embeds=None, output_hidden_states=False
    ):
        """Pooled encoder outputs ``(B, H)`` (and the encoder's output object)."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask, "inputs_embeds": inputs_embeds}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        if output_hidden_states:
            kwargs["output_hidden_states"] = True
        out = self.encoder(**kwargs)
        return pool(out.last_hidden_state, attention_mask, self.config.pooling), out


class PooledClassifier(EncoderWrapperModel):
    """An HF encoder, mean or CLS pooling, an optional shared layer (Linear + ReLU) and a linear head."""

    config_class = PooledClassifierConfig

    def __init__(self, config: PooledClassifierConfig, encoder: PreTrainedModel | None = None) -> None:
        super().__init__(config)
        self.encoder = encoder if encoder is not None else encoder_from_config(config.encoder_config)
        hidden = self.encoder.config.hidden_size
        self.shared_layer = _shared_layer(hidden, config.shared_layer_size)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.shared_layer_size or hidden, config.num_labels)
        self.post_init()

    def classification_loss(
        self, logits: torch.Tensor, labels: torch.Tensor, weight=None, num_items_in_batch=None
    ) -> torch.Tensor:
        """The loss of ``forward(labels=...)``: transformers' standard one (hf_emo's training class uses its own)."""
        return standard_loss(logits, labels, self.config.problem_type)

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        labels=None,
        weight=None,
        inputs_embeds=None,
        return_dict=None,
        **kwargs,
    ) -> SequenceClassifierOutput:
        pooled, out = self.encode(
            input_ids, attention_mask, token_type_ids, inputs_embeds, kwargs.get("output_hidden_states")
        )
        if self.shared_layer is not None:
            pooled = self.shared_layer(pooled)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            loss = self.classification_loss(logits, labels, weight, kwargs.get("num_items_in_batch"))
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class MultiTaskModelConfig(EncoderWrapperConfig):
    """The encoder's config (a dict), the tasks (dicts with ``name``, ``problem_type`` and ``label_names``, in
    task-id order), the head layout and the tuned multi-label thresholds per task."""

    model_type = "hf_emo_multitask"

    def __init__(
        self,
        encoder: dict | None = None,
        tasks: list[dict] | None = None,
        pooling: str = "mean",
        head_layout: str = "multi_head",
        shared_layer_size: int | None = None,
        classifier_dropout: float = 0.1,
        text_prefix: str = "",
        max_seq_length: int | None = None,
        thresholds: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if head_layout not in HEAD_LAYOUTS:
            raise ValueError(f"head_layout must be one of {HEAD_LAYOUTS}, got {head_layout!r}")
        tasks = [t.to_dict() if hasattr(t, "to_dict") else dict(t) for t in (tasks or [])]
        names = [t["name"] for t in tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate task names: {names}")
        self.tasks = tasks
        self.head_layout = head_layout
        self.thresholds = dict(thresholds or {})
        super().__init__(
            encoder=encoder,
            pooling=pooling,
            classifier_dropout=classifier_dropout,
            text_prefix=text_prefix,
            max_seq_length=max_seq_length,
            shared_layer_size=shared_layer_size,
            **kwargs,
        )

    @property
    def task_names(self) -> list[str]:
        return [t["name"] for t in self.tasks]


@dataclass
class MultiTaskOutput(ModelOutput):
    """``logits`` of the batch's task; ``task_logits`` (every task) when no task was given."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    task_logits: dict[str, torch.Tensor] | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class MultiTaskModel(EncoderWrapperModel):
    """One shared encoder, an optional shared base layer and one head per task (TBED-MTL §3.2-3.3): a separate
    linear head per task (``multi_head``), or one bias-free layer over all tasks' labels, of which each task reads
    its own rows (``shared_embedding``). Without ``task``, ``forward`` returns every task's logits."""

    config_class = MultiTaskModelConfig

    def __init__(self, config: MultiTaskModelConfig, encoder: PreTrainedModel | None = None) -> None:
        super().__init__(config)
        if not config.tasks:
            raise ValueError("MultiTaskModelConfig has no tasks")
        self.encoder = encoder if encoder is not None else encoder_from_config(config.encoder_config)
        hidden = self.encoder.config.hidden_size
        # TBED-MTL §3.2: a trainable shared base layer h -> q (q = 256) with ReLU, shared by all tasks
        self.shared_layer = _shared_layer(hidden, config.shared_layer_size)
        dim = config.shared_layer_size or hidden
        self.dropout = nn.Dropout(config.classifier_dropout)
        self._tasks = {t["name"]: t for t in config.tasks}
        self._offsets, start = {}, 0
        for name, task in self._tasks.items():
            self._offsets[name] = start
            start += len(task["label_names"])
        if config.head_layout == "multi_head":
            self.heads = nn.ModuleDict({n: nn.Linear(dim, len(t["label_names"])) for n, t in self._tasks.items()})
            self.shared_embedding = None
        else:
            self.heads = None
            self.shared_embedding = nn.Linear(dim, start, bias=False)  # no bias: rows are label vectors
        self.post_init()

    @property
    def task_names(self) -> list[str]:
        return list(self._tasks)

    def task_name(self, task: str | int | torch.Tensor) -> str:
        """The task name of ``task``: a name, an index, or a tensor holding one repeated index."""
        if torch.is_tensor(task):
            ids = task.unique()
            if ids.numel() != 1:
                raise ValueError(
                    f"a batch must hold one task; it holds task ids {ids.tolist()} "
                    "(use hf_emo's MultiTaskBatchSampler, which yields one-task batches)"
                )
            task = int(ids.item())
        if isinstance(task, str):
            if task not in self._tasks:
                raise ValueError(f"unknown task {task!r}; the model's tasks are {self.task_names}")
            return task
        names = self.task_names
        if not 0 <= int(task) < len(names):
            raise ValueError(f"task id {task} outside 0..{len(names) - 1} ({names})")
        return names[int(task)]

    def shared_representation(self, pooled: torch.Tensor) -> torch.Tensor:
        """``q``: the shared base layer's output (or the pooled encoder output when there is none)."""
        return self.shared_layer(pooled) if self.shared_layer is not None else pooled

    def head_weights(self, task: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(weight, bias)`` of ``task``'s head: its own linear layer, or its rows of ``W^SE`` (no bias)."""
        if self.heads is not None:
            return self.heads[task].weight, self.heads[task].bias
        start = self._offsets[task]
        return self.shared_embedding.weight[start : start + len(self._tasks[task]["label_names"])], None

    def head_logits(self, q: torch.Tensor, task: str) -> torch.Tensor:
        if self.heads is not None:
            return self.heads[task](q)
        return nn.functional.linear(q, self.head_weights(task)[0])

    def task_features(self, q: torch.Tensor, task: str) -> torch.Tensor:
        """What ``task``'s head reads of the shared representation (hf_emo's training class may reverse its
        gradient)."""
        return q

    def task_loss(self, logits, labels, task: str, weight=None, num_items_in_batch=None) -> torch.Tensor:
        """The loss of ``forward(task=..., labels=...)``: transformers' standard one for the task's problem type."""
        return standard_loss(logits, labels, self._tasks[task]["problem_type"])

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        features=None,
        task=None,
        labels=None,
        weight=None,
        inputs_embeds=None,
        num_items_in_batch=None,
        output_hidden_states=False,
        return_dict=None,
        **kwargs,
    ) -> MultiTaskOutput:
        if features is not None:  # pooled encoder outputs computed once for a frozen encoder
            pooled, enc_out = features.to(self.dtype), None
        else:
            pooled, enc_out = self.encode(
                input_ids, attention_mask, token_type_ids, inputs_embeds, output_hidden_states
            )
        q = self.dropout(self.shared_representation(pooled))
        hidden = enc_out.hidden_states if enc_out is not None else None
        if task is None:
            if labels is not None:
                raise ValueError("labels were given without a task: pass task=<name or id>")
            return MultiTaskOutput(
                task_logits={t: self.head_logits(q, t) for t in self.task_names}, hidden_states=hidden
            )
        name = self.task_name(task)
        logits = self.head_logits(self.task_features(q, name), name)
        loss = None
        if labels is not None:
            loss = self.task_loss(logits, labels, name, weight, num_items_in_batch)
        return MultiTaskOutput(loss=loss, logits=logits, hidden_states=hidden)


def scores_and_labels(
    logits: torch.Tensor, label_names: list[str], problem_type: str, threshold: Any = None
) -> list[dict[str, Any]]:
    """``[{"labels", "scores"}]`` per row of ``logits``, as ``hf-emo predict`` decodes them: softmax and the
    arg-max for single-label; sigmoid and every label at or above the threshold (one number, or one per label;
    default 0.5) for multi-label; the values themselves and no label for regression."""
    problem = SHORT_PROBLEM_TYPES.get(problem_type, problem_type)
    values = logits.detach().double().cpu()
    if problem == "single_label":
        values = values.softmax(-1)
    elif problem == "multi_label":
        values = values.sigmoid()
    thresholds = torch.as_tensor(0.5 if threshold is None else threshold, dtype=torch.float64).expand(len(label_names))
    rows = []
    for row in values.tolist():
        if problem == "single_label":
            labels = [label_names[max(range(len(row)), key=row.__getitem__)]]
        elif problem == "multi_label":
            labels = [n for n, v, t in zip(label_names, row, thresholds.tolist()) if v >= t]
        else:
            labels = []
        rows.append({"labels": labels, "scores": dict(zip(label_names, row))})
    return rows


def _label_names(config) -> list[str]:
    id2label = getattr(config, "id2label", None) or {}
    return [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(config.num_labels)]


class EmotionClassificationPipeline(Pipeline):
    """``pipeline("text-classification", model=..., trust_remote_code=True)`` of an hf_emo model: the text gets the
    model's prefix and is cut where training cut it, and the labels come out as ``hf-emo predict`` gives them
    (``{"labels": [...], "scores": {label: score}}``; a multi-task model gives ``{"tasks": {task: {...}}}``).

    ``threshold`` overrides the tuned multi-label threshold(s) saved with the model."""

    def _sanitize_parameters(self, threshold=None, max_length=None, **kwargs):
        preprocess = {"max_length": max_length} if max_length is not None else {}
        postprocess = {"threshold": threshold} if threshold is not None else {}
        return preprocess, {}, postprocess

    def preprocess(self, text: str, max_length: int | None = None) -> dict[str, torch.Tensor]:
        config = self.model.config
        prefix = getattr(config, "text_prefix", "") or ""
        limit = max_length or getattr(config, "max_seq_length", None) or DEFAULT_MAX_LENGTH
        return self.tokenizer(prefix + text, truncation=True, max_length=limit, return_tensors="pt")

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
        out = self.model(**model_inputs)
        task_logits = getattr(out, "task_logits", None)
        return {"task_logits": task_logits} if task_logits is not None else {"logits": out.logits}

    def postprocess(self, model_outputs: dict[str, Any], threshold=None) -> dict[str, Any]:
        config = self.model.config
        if model_outputs.get("task_logits") is not None:
            saved = getattr(config, "thresholds", None) or {}
            tasks = {t["name"]: t for t in config.tasks}
            return {
                "tasks": {
                    name: scores_and_labels(
                        logits,
                        list(tasks[name]["label_names"]),
                        tasks[name]["problem_type"],
                        threshold if threshold is not None else saved.get(name),
                    )[0]
                    for name, logits in model_outputs["task_logits"].items()
                }
            }
        problem = config.problem_type or ("regression" if config.num_labels == 1 else "single_label_classification")
        saved = getattr(config, "hf_emo_threshold", None)
        return scores_and_labels(
            model_outputs["logits"],
            _label_names(config),
            problem,
            threshold if threshold is not None else saved,
        )[0]


# -- generative classifiers: a decoder with a LoRA adapter ------------------------------------------------------
GENERATIVE_FILE = "hf_emo_generative.json"  # the adapter's task, prompt, verbalisers and label mode
ANSWERS = ("yes", "no")  # a multi-label completion answers each label with one of these


def left_pad(rows: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = max(len(r) for r in rows)
    ids = torch.full((len(rows), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, n - len(r) :] = torch.tensor(r, dtype=torch.long)
        mask[i, n - len(r) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), positions.to(device)


def _device(model) -> torch.device:
    return next(p.device for p in model.parameters())


def _cache_argument(model) -> str:
    """transformers 5.x renamed ``past_key_values`` to ``cache``; older architectures still take the old name."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _returned_cache(out):
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values


@torch.inference_mode()
def completion_log_likelihoods(
    model, prompts: list[list[int]], completions: list[list[int]], pad_id: int
) -> torch.Tensor:
    """``sum_j log p(c_j | prompt, c_<j)`` of each (prompt, completion) pair, in one left-padded batch whose
    logits are kept for the completion positions only."""
    seqs = [p + c for p, c in zip(prompts, completions)]
    ids, mask, positions = left_pad(seqs, pad_id, _device(model))
    keep = max(len(c) for c in completions) + 1
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits.float()
    logp = nn.functional.log_softmax(logits[:, :-1], dim=-1)  # position k predicts token k + 1 of the kept tail
    targets = ids[:, -keep + 1 :]
    token_lp = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (n, keep - 1)
    lengths = torch.tensor([len(c) for c in completions], device=ids.device)
    cols = torch.arange(keep - 1, device=ids.device)
    in_completion = cols.unsqueeze(0) >= (keep - 1 - lengths).unsqueeze(1)
    return (token_lp * in_completion).sum(-1)


@torch.inference_mode()
def label_log_likelihoods(model, prompts: list[list[int]], completions: list[list[int]], pad_id: int) -> torch.Tensor:
    """``(B, C)``: ``sum_j log p(c_j | prompt, c_<j)`` of every one of the C ``completions`` after every prompt,
    as :func:`completion_log_likelihoods` of all B x C pairs, but each prompt runs once: its KV cache is repeated C
    times and the completions (right-padded; causal attention never reads the padding) run on it."""
    device = _device(model)
    n_prompts, n_labels = len(prompts), len(completions)
    ids, mask, positions = left_pad(prompts, pad_id, device)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    first = nn.functional.log_softmax(out.logits[:, -1].float(), dim=-1)
    total = first[:, torch.tensor([c[0] for c in completions], device=device)]  # (B, C): each first token
    tail = max(len(c) for c in completions) - 1
    if tail == 0:
        return total
    inputs = torch.full((n_labels, tail), pad_id, dtype=torch.long)
    targets = torch.zeros((n_labels, tail), dtype=torch.long)
    valid = torch.zeros((n_labels, tail), dtype=torch.bool)
    for c, comp in enumerate(completions):  # token k of the tail input predicts token k + 1 of the completion
        inputs[c, : len(comp) - 1] = torch.tensor(comp[:-1])
        targets[c, : len(comp) - 1] = torch.tensor(comp[1:])
        valid[c, : len(comp) - 1] = True
    inputs, targets, valid = (t.repeat(n_prompts, 1).to(device) for t in (inputs, targets, valid))  # row b*C + c
    past = _returned_cache(out)
    past.batch_repeat_interleave(n_labels)
    tail_mask = torch.cat([mask.repeat_interleave(n_labels, dim=0), valid.long()], dim=1)
    tail_positions = (positions[:, -1] + 1).repeat_interleave(n_labels).unsqueeze(1) + torch.arange(tail, device=device)
    logits = model(
        input_ids=inputs,
        attention_mask=tail_mask,
        position_ids=tail_positions,
        use_cache=True,
        **{_cache_argument(model): past},
    ).logits.float()
    token_lp = nn.functional.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    token_lp = torch.where(valid, token_lp, torch.zeros_like(token_lp))  # padding rows may hold anything
    return total + token_lp.sum(-1).view(n_prompts, n_labels)


@torch.inference_mode()
def yes_no_scores(
    model, prompts: list[list[int]], pieces: list[list[int]], answers: tuple[int, int], pad_id: int
) -> torch.Tensor:
    """Multi-label: ``log p(yes) - log p(no)`` per label, ``(B, C)``, answering the labels in order (see module)."""
    device = _device(model)
    ids, mask, positions = left_pad(prompts, pad_id, device)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    name = _cache_argument(model)
    past, next_pos = _returned_cache(out), positions[:, -1] + 1
    yes, no = answers
    previous = None
    scores = []
    for piece in pieces:
        new = torch.tensor(piece, device=device).expand(len(prompts), -1)
        if previous is not None:
            new = torch.cat([previous.unsqueeze(1), new], dim=1)
        mask = torch.cat([mask, torch.ones_like(new)], dim=1)
        step_positions = next_pos.unsqueeze(1) + torch.arange(new.shape[1], device=device)
        out = model(
            input_ids=new,
            attention_mask=mask,
            position_ids=step_positions,
            use_cache=True,
            logits_to_keep=1,
            **{name: past},
        )
        past, next_pos = _returned_cache(out), next_pos + new.shape[1]
        lp = nn.functional.log_softmax(out.logits[:, -1].float(), dim=-1)
        score = lp[:, yes] - lp[:, no]
        previous = torch.where(
            score >= 0, torch.full_like(score, yes, dtype=torch.long), torch.full_like(score, no, dtype=torch.long)
        )
        scores.append(score)
    return torch.stack(scores, dim=1)


def completion_pieces(tokenizer, verbalisers: list[str], multi_label: bool) -> tuple[list[tuple[int, ...]], list]:
    """The token ids of each label's completion piece (single-label: the verbaliser; multi-label: ``joy:``, then
    ``, anger:``, ...) and, for multi-label, of each answer (`` yes``, `` no``)."""

    def ids(text: str) -> tuple[int, ...]:
        return tuple(tokenizer(text, add_special_tokens=False)["input_ids"])

    if multi_label:
        return [ids(f"{v}:" if i == 0 else f", {v}:") for i, v in enumerate(verbalisers)], [
            ids(f" {a}") for a in ANSWERS
        ]
    return [ids(v) for v in verbalisers], []


def prompt_ids(template: str, verbalisers: list[str], tokenizer, text: str, max_text_tokens: int | None) -> list[int]:
    """The prompt's ids (with the tokenizer's own special tokens, e.g. BOS); the text is cut to ``max_text_tokens``
    pieces first, so the instruction and the response marker are never cut off."""
    if max_text_tokens is not None:
        cut = tokenizer(text, add_special_tokens=False, truncation=True, max_length=max_text_tokens)["input_ids"]
        text = tokenizer.decode(cut, skip_special_tokens=True)
    return list(tokenizer(template.format(text=text, labels=", ".join(verbalisers)))["input_ids"])


@torch.inference_mode()
def label_logits(
    model, prompts: list[list[int]], pieces, answers: tuple[int, int], eos: int, multi_label: bool, pad_id: int
) -> torch.Tensor:
    """``(B, C)`` logits of every label after every prompt: the log-softmax over the labels of each completion's
    log-likelihood (single-label; completion = verbaliser + EOS), or ``log p(yes) - log p(no)`` per label
    (multi-label)."""
    if multi_label:
        return yes_no_scores(model, prompts, pieces, answers, pad_id)
    completions = [[*piece, eos] for piece in pieces]
    return nn.functional.log_softmax(label_log_likelihoods(model, prompts, completions, pad_id), dim=-1)


def load_adapter(folder: str | Path, base_model: str, *, is_trainable: bool = False, **model_kwargs: Any):
    """``(model, tokenizer, meta)`` of an adapter folder saved by hf_emo's ``GenerativeTrainer``: ``base_model`` (a
    Hub id or folder) as a causal LM (completion mode) or a sequence classifier, with the adapter on top."""
    if PeftModel is None:
        raise ImportError("an hf_emo adapter needs peft: pip install peft")
    folder = Path(folder)
    meta = json.loads((folder / GENERATIVE_FILE).read_text(encoding="utf-8"))
    task = meta["task"]
    if meta["label_mode"] == "completion":
        model = AutoModelForCausalLM.from_pretrained(base_model, **model_kwargs)
    else:
        names = list(task["label_names"])
        model = AutoModelForSequenceClassification.from_pretrained(
            base_model,
            num_labels=len(names),
            problem_type=HF_PROBLEM_TYPES[task["problem_type"]],
            id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)},
            **model_kwargs,
        )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model.config.pad_token_id = tokenizer.pad_token_id
    return PeftModel.from_pretrained(model, folder, is_trainable=is_trainable), tokenizer, meta


class GenerativeEmotionClassifier:
    """A decoder with an hf_emo LoRA adapter that answers as ``hf-emo predict``: in completion mode each label is
    scored by the likelihood of its completion after the training prompt (single-label: softmax over the labels;
    multi-label: ``p(yes) / (p(yes) + p(no))`` per label, answered in order), in sequence-classification mode by
    the score head; multi-label decisions at the tuned threshold."""

    def __init__(self, model, tokenizer, meta: dict[str, Any]) -> None:
        self.model, self.tokenizer, self.meta = model.eval(), tokenizer, meta
        task, prompt = meta["task"], meta["prompt"]
        self.label_names = list(task["label_names"])
        self.problem_type = task["problem_type"]
        self.template, self.verbalisers = prompt["template"], list(prompt["verbalisers"])

    @classmethod
    def from_pretrained(cls, repo_or_folder: str, base_model: str | None = None, **model_kwargs: Any):
        """The adapter of a Hub repository or folder on the base model its ``adapter_config.json`` names (or on
        ``base_model``, e.g. a local copy of it)."""
        folder = Path(repo_or_folder).expanduser()
        if not folder.is_dir():
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(repo_or_folder))
        if base_model is None:
            config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
            base_model = config["base_model_name_or_path"]
        return cls(*load_adapter(folder, base_model, **model_kwargs))

    def logits(self, texts: list[str], batch_size: int = 8) -> torch.Tensor:
        """``(N, C)`` label logits of ``texts``."""
        out = []
        if self.meta["label_mode"] != "completion":
            for i in range(0, len(texts), batch_size):
                enc = self.tokenizer(
                    texts[i : i + batch_size], truncation=True, max_length=DEFAULT_MAX_LENGTH, padding=True,
                    return_tensors="pt",
                )  # fmt: skip
                with torch.inference_mode():
                    out.append(self.model(**enc.to(_device(self.model))).logits.float().cpu())
            return torch.cat(out)
        multi = self.problem_type == "multi_label"
        pieces, answers = completion_pieces(self.tokenizer, self.verbalisers, multi)
        answers = (answers[0][0], answers[1][0]) if multi else (-1, -1)
        limit, tokenizer = self.meta.get("max_text_tokens"), self.tokenizer
        for i in range(0, len(texts), batch_size):
            prompts = [
                prompt_ids(self.template, self.verbalisers, tokenizer, t, limit) for t in texts[i : i + batch_size]
            ]
            logits = label_logits(
                self.model, prompts, pieces, answers, tokenizer.eos_token_id, multi, tokenizer.pad_token_id
            )
            out.append(logits.cpu())
        return torch.cat(out)

    def __call__(self, texts: list[str], threshold: Any = None, batch_size: int = 8) -> list[dict[str, Any]]:
        """``[{"labels", "scores"}]`` per text, as ``hf-emo predict`` gives them."""
        return scores_and_labels(
            self.logits(list(texts), batch_size),
            self.label_names,
            self.problem_type,
            threshold if threshold is not None else self.meta.get("threshold"),
        )
