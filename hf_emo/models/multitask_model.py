"""``MultiTaskModel``: one shared HF encoder, an optional shared base layer, and one head per task.

Two head layouts (TBED-MTL §3.2-3.3):

* ``multi_head`` -- a separate linear head per task (MH-MTL);
* ``shared_embedding`` -- one bias-free linear layer ``W^SE`` over the concatenated label space of all tasks; a
  task reads its own slice of the output (``p^SE = W^SE q``, masked per task, Eq. in §3.3). The rows of ``W^SE``
  are label vectors; :meth:`MultiTaskModel.label_correlation` returns their correlation matrix (TBED-MTL Fig. 4/7).

A batch holds one task (``task``: an index, a name, or a ``(B,)`` tensor of one repeated index); the model routes it
to that task's head. Without ``task`` it returns every task's logits in ``task_logits`` (what ``hf-emo predict``
shows). ``features`` (pooled encoder outputs, see :func:`hf_emo.cache_encoder_features`) replace the encoder pass
for a frozen encoder (TBED-MTL §4: BERT's outputs are computed once). The task specs live in the config, so
``save_pretrained`` / ``from_pretrained`` / ``push_to_hub`` round-trip the whole model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.utils import ModelOutput

from ..data.spec import TaskSpec
from ..gradient_reversal import grad_reverse
from ..losses import supervised_loss
from .pooled_classifier import _POOLER_MODEL_TYPES, EncoderWrapperConfig, pool

HEAD_LAYOUTS = ("multi_head", "shared_embedding")


class MultiTaskModelConfig(EncoderWrapperConfig):
    """The encoder's config (a dict), the tasks (``TaskSpec`` dicts, in task-id order) and the head layout."""

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
        thresholds: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if head_layout not in HEAD_LAYOUTS:
            raise ValueError(f"head_layout must be one of {HEAD_LAYOUTS}, got {head_layout!r}")
        if shared_layer_size is not None and shared_layer_size <= 0:
            raise ValueError(f"shared_layer_size must be a positive int or None, got {shared_layer_size}")
        tasks = [t.to_dict() if isinstance(t, TaskSpec) else dict(t) for t in (tasks or [])]
        names = [t["name"] for t in tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate task names: {names}")
        self.tasks = tasks
        self.head_layout = head_layout
        self.shared_layer_size = shared_layer_size
        self.thresholds = dict(thresholds or {})
        super().__init__(
            encoder=encoder,
            pooling=pooling,
            classifier_dropout=classifier_dropout,
            text_prefix=text_prefix,
            max_seq_length=max_seq_length,
            **kwargs,
        )

    @property
    def task_specs(self) -> list[TaskSpec]:
        return [TaskSpec.from_dict(t) for t in self.tasks]

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


class MultiTaskModel(PreTrainedModel):
    config_class = MultiTaskModelConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: MultiTaskModelConfig, encoder: PreTrainedModel | None = None) -> None:
        super().__init__(config)
        if not config.tasks:
            raise ValueError("MultiTaskModelConfig has no tasks")
        self.encoder = encoder if encoder is not None else AutoModel.from_config(config.encoder_config)
        hidden = self.encoder.config.hidden_size
        q = config.shared_layer_size
        # TBED-MTL §3.2: a trainable shared base layer h -> q (q = 256) with ReLU, shared by all tasks
        self.shared_layer = nn.Sequential(nn.Linear(hidden, q), nn.ReLU()) if q else None
        dim = q or hidden
        self.dropout = nn.Dropout(config.classifier_dropout)
        specs = config.task_specs
        self._specs = {s.name: s for s in specs}
        self._task_index = {s.name: i for i, s in enumerate(specs)}
        sizes = [s.num_labels for s in specs]
        self._offsets = dict(zip(self._specs, np.cumsum([0] + sizes[:-1]).tolist()))
        if config.head_layout == "multi_head":
            self.heads = nn.ModuleDict({s.name: nn.Linear(dim, s.num_labels) for s in specs})
            self.shared_embedding = None
        else:
            self.heads = None
            self.shared_embedding = nn.Linear(dim, sum(sizes), bias=False)  # no bias: rows are label vectors
        self._gradient_reversal: dict[str, float] = {}  # training-time only; not part of the saved config
        self.post_init()

    def set_gradient_reversal(self, task: str, lambda_: float | None) -> None:
        """Route ``task``'s head through a gradient-reversal layer with coefficient ``lambda_`` while training
        (an adversarial discriminator, ADAN / DANN; Matei Fig. 2), or back to a plain head with ``None``."""
        name = self.task_name(task)
        if lambda_ is None:
            self._gradient_reversal.pop(name, None)
        else:
            if lambda_ < 0:
                raise ValueError(f"gradient-reversal coefficient must be >= 0, got {lambda_}")
            self._gradient_reversal[name] = float(lambda_)

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def from_encoder(
        cls,
        name_or_path: str,
        tasks: list[TaskSpec],
        *,
        pooling: str = "mean",
        head_layout: str = "multi_head",
        shared_layer_size: int | None = None,
        **config_kwargs: Any,
    ) -> "MultiTaskModel":
        """A pretrained encoder (Hub id or folder) with fresh heads for ``tasks``."""
        kind = AutoConfig.from_pretrained(name_or_path).model_type
        encoder = AutoModel.from_pretrained(
            name_or_path, **({"add_pooling_layer": False} if kind in _POOLER_MODEL_TYPES else {})
        )
        config = MultiTaskModelConfig(
            encoder=encoder.config.to_dict(),
            tasks=list(tasks),
            pooling=pooling,
            head_layout=head_layout,
            shared_layer_size=shared_layer_size,
            **config_kwargs,
        )
        return cls(config, encoder=encoder)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear) and not any(module is m for m in self.encoder.modules()):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    # -- tasks -----------------------------------------------------------------------------------------
    @property
    def task_names(self) -> list[str]:
        return list(self._specs)

    def task_spec(self, task: str | int) -> TaskSpec:
        return self._specs[self.task_name(task)]

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
            if task not in self._specs:
                raise ValueError(f"unknown task {task!r}; the model's tasks are {self.task_names}")
            return task
        names = self.task_names
        if not 0 <= int(task) < len(names):
            raise ValueError(f"task id {task} outside 0..{len(names) - 1} ({names})")
        return names[int(task)]

    def task_id(self, task: str) -> int:
        return self._task_index[self.task_name(task)]

    # -- parts -----------------------------------------------------------------------------------------
    def freeze_encoder(self, frozen: bool = True) -> None:
        """Stop (or restart) training the encoder (TBED-MTL trains on a frozen BERT)."""
        self.encoder.requires_grad_(not frozen)

    def encode(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        inputs_embeds=None,
        output_hidden_states: bool = False,
    ):
        """Pooled encoder outputs ``(B, H)`` (and the encoder's output object)."""
        kw = {"input_ids": input_ids, "attention_mask": attention_mask, "inputs_embeds": inputs_embeds}
        if token_type_ids is not None:
            kw["token_type_ids"] = token_type_ids
        if output_hidden_states:
            kw["output_hidden_states"] = True
        out = self.encoder(**kw)
        return pool(out.last_hidden_state, attention_mask, self.config.pooling), out

    def shared_representation(self, pooled: torch.Tensor) -> torch.Tensor:
        """``q``: the shared base layer's output (or the pooled encoder output when there is none)."""
        return self.shared_layer(pooled) if self.shared_layer is not None else pooled

    def head_logits(self, q: torch.Tensor, task: str) -> torch.Tensor:
        spec = self._specs[task]
        if self.heads is not None:
            return self.heads[task](q)
        start = self._offsets[task]
        return nn.functional.linear(q, self.shared_embedding.weight[start : start + spec.num_labels])

    def gradnorm_parameters(self) -> list[nn.Parameter]:
        """GradNorm's shared weights ``W`` (TBED-MTL §3.4): the shared base layer, else the encoder's last layer."""
        if self.shared_layer is not None:
            return [p for p in self.shared_layer.parameters() if p.requires_grad]
        stack = getattr(getattr(self.encoder, "encoder", None), "layer", None)
        if isinstance(stack, nn.ModuleList):
            params = [p for p in stack[-1].parameters() if p.requires_grad]
            if params:
                return params
        raise ValueError(
            "GradNorm needs trainable shared weights: set shared_layer_size (TBED-MTL: 256) or train the encoder"
        )

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
        if features is not None:
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
        reverse = self._gradient_reversal.get(name)
        if reverse is not None and self.training:  # an adversarial head: its gradient reaches the encoder reversed
            q = grad_reverse(q, reverse)
        logits = self.head_logits(q, name)
        loss = None
        if labels is not None:
            loss = supervised_loss(logits, labels, self._specs[name].problem_type, weight, num_items_in_batch)
        return MultiTaskOutput(loss=loss, logits=logits, hidden_states=hidden)

    # -- label space -----------------------------------------------------------------------------------
    def label_vectors(self) -> tuple[list[str], np.ndarray]:
        """``("task:label" names, (L, q) matrix)``: the rows of ``W^SE`` (or of the stacked per-task heads)."""
        names, rows = [], []
        for t, spec in self._specs.items():
            names += [f"{t}:{lbl}" for lbl in spec.label_names]
            if self.heads is not None:
                rows.append(self.heads[t].weight.detach().float().cpu().numpy())
        if self.heads is None:
            rows = [self.shared_embedding.weight.detach().float().cpu().numpy()]
        return names, np.concatenate(rows, axis=0)

    def label_correlation(self) -> tuple[list[str], np.ndarray]:
        """Pearson correlation between every pair of label vectors (TBED-MTL Fig. 4/7), ``(L, L)``."""
        names, w = self.label_vectors()
        return names, np.corrcoef(w)


def build_multitask_model(
    name_or_path: str,
    tasks: list[TaskSpec],
    *,
    pooling: str = "mean",
    head_layout: str = "multi_head",
    shared_layer_size: int | None = None,
    text_prefix: str = "",
    max_length: int | None = None,
    classifier_dropout: float = 0.1,
    freeze_encoder: bool = False,
) -> MultiTaskModel:
    """A :class:`MultiTaskModel` over ``name_or_path`` (zoo name, Hub id or folder) for ``tasks``."""
    from ..zoo import resolve_model
    from .factory import check_max_length

    check_max_length(AutoConfig.from_pretrained(resolve_model(name_or_path)), max_length, repr(name_or_path))
    model = MultiTaskModel.from_encoder(
        resolve_model(name_or_path),
        list(tasks),
        pooling=pooling,
        head_layout=head_layout,
        shared_layer_size=shared_layer_size,
        text_prefix=text_prefix,
        max_seq_length=max_length,
        classifier_dropout=classifier_dropout,
    )
    if freeze_encoder:
        model.freeze_encoder()
    return model


AutoConfig.register(MultiTaskModelConfig.model_type, MultiTaskModelConfig, exist_ok=True)
AutoModel.register(MultiTaskModelConfig, MultiTaskModel, exist_ok=True)
