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

from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel

from ..data.spec import TaskSpec
from ..gradient_reversal import grad_reverse
from ..losses import supervised_loss
from .modeling_hf_emo import HEAD_LAYOUTS, POOLER_MODEL_TYPES, MultiTaskOutput
from .modeling_hf_emo import MultiTaskModel as PortableMultiTaskModel
from .modeling_hf_emo import MultiTaskModelConfig as PortableMultiTaskModelConfig
from .pooled_classifier import PooledClassifier, PooledClassifierConfig, encoder_config_dict

__all__ = ["HEAD_LAYOUTS", "MultiTaskModel", "MultiTaskModelConfig", "MultiTaskOutput", "build_multitask_model"]


class MultiTaskModelConfig(PortableMultiTaskModelConfig):
    """:class:`~hf_emo.models.modeling_hf_emo.MultiTaskModelConfig` that also gives its tasks as ``TaskSpec``."""

    __init__ = PortableMultiTaskModelConfig.__init__  # transformers 5: a config dataclass must name its __init__

    @property
    def task_specs(self) -> list[TaskSpec]:
        return [TaskSpec.from_dict(t) for t in self.tasks]


class MultiTaskModel(PortableMultiTaskModel):
    """:class:`~hf_emo.models.modeling_hf_emo.MultiTaskModel` with hf_emo's losses and training tools: gradient
    reversal for adversarial heads, GradNorm's shared weights, a frozen encoder and the label-vector correlation."""

    config_class = MultiTaskModelConfig

    def __init__(self, config: MultiTaskModelConfig, encoder: PreTrainedModel | None = None) -> None:
        super().__init__(config, encoder)
        self._specs = {s.name: s for s in config.task_specs}
        self._gradient_reversal: dict[str, float] = {}  # training-time only; not part of the saved config

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

    def task_features(self, q: torch.Tensor, task: str) -> torch.Tensor:
        reverse = self._gradient_reversal.get(task)
        if reverse is not None and self.training:  # an adversarial head: its gradient reaches the encoder reversed
            return grad_reverse(q, reverse)
        return q

    def task_loss(self, logits, labels, task: str, weight=None, num_items_in_batch=None) -> torch.Tensor:
        return supervised_loss(logits, labels, self._specs[task].problem_type, weight, num_items_in_batch)

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
            name_or_path, **({"add_pooling_layer": False} if kind in POOLER_MODEL_TYPES else {})
        )
        config = MultiTaskModelConfig(
            encoder=encoder_config_dict(encoder),
            tasks=list(tasks),
            pooling=pooling,
            head_layout=head_layout,
            shared_layer_size=shared_layer_size,
            **config_kwargs,
        )
        return cls(config, encoder=encoder)

    def task_spec(self, task: str | int) -> TaskSpec:
        return self._specs[self.task_name(task)]

    def task_id(self, task: str) -> int:
        return self.task_names.index(self.task_name(task))

    def freeze_encoder(self, frozen: bool = True) -> None:
        """Stop (or restart) training the encoder (TBED-MTL trains on a frozen BERT)."""
        self.encoder.requires_grad_(not frozen)

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

    def task_classifier(self, task: str | int) -> PooledClassifier:
        """``task``'s head as a standalone :class:`PooledClassifier` that gives the same logits: a copy of the
        encoder, the shared layer and the head (a ``shared_embedding`` head's rows with a zero bias), with the
        task's labels, problem type and tuned threshold in its config (``hf-emo push --task``)."""
        import copy

        name = self.task_name(task)
        spec, cfg = self._specs[name], self.config
        config = PooledClassifierConfig(
            encoder=dict(cfg.encoder),
            pooling=cfg.pooling,
            classifier_dropout=cfg.classifier_dropout,
            text_prefix=cfg.text_prefix,
            max_seq_length=cfg.max_seq_length,
            shared_layer_size=cfg.shared_layer_size,
            num_labels=spec.num_labels,
            problem_type=spec.hf_problem_type,
            id2label=spec.id2label,
            label2id=spec.label2id,
        )
        config.hf_emo_task = spec.to_dict()
        if (cfg.thresholds or {}).get(name) is not None:
            config.hf_emo_threshold = cfg.thresholds[name]
        model = PooledClassifier(config, encoder=copy.deepcopy(self.encoder)).to(self.dtype)
        weight, bias = self.head_weights(name)
        with torch.no_grad():
            if self.shared_layer is not None:
                model.shared_layer.load_state_dict(self.shared_layer.state_dict())
            model.classifier.weight.copy_(weight)
            model.classifier.bias.copy_(bias if bias is not None else torch.zeros_like(model.classifier.bias))
        return model.eval()

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
