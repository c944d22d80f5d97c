"""A sequence classifier over any HF encoder with mean or CLS pooling and a linear head.

E5 / BGE-style encoders are trained with mean pooling and ship no trained pooler; putting BERT's
untrained pooler in front of the head costs about 10 micro-F1 points on REDv2 (``../shared/FACTS.md``).
The weights and the forward pass are those of :mod:`hf_emo.models.modeling_hf_emo` (the custom code saved with
every model, so that it loads with transformers alone); this class adds hf_emo's losses and its student tools, and
is registered with ``AutoConfig`` and ``AutoModelForSequenceClassification`` when ``hf_emo`` is imported.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

from ..losses import supervised_loss
from .modeling_hf_emo import (
    POOLER_MODEL_TYPES,
    SHORT_PROBLEM_TYPES,
    EncoderWrapperConfig,
    PooledClassifierConfig,
    pool,
)
from .modeling_hf_emo import PooledClassifier as PortablePooledClassifier

__all__ = ["EncoderWrapperConfig", "PooledClassifier", "PooledClassifierConfig", "pool"]


class PooledClassifier(PortablePooledClassifier):
    """:class:`~hf_emo.models.modeling_hf_emo.PooledClassifier` with hf_emo's gold-label loss (per-example weights,
    ``num_items_in_batch``) and the student tools (wrap a pretrained encoder, keep every other layer)."""

    def classification_loss(
        self, logits: torch.Tensor, labels: torch.Tensor, weight=None, num_items_in_batch=None
    ) -> torch.Tensor:
        problem = SHORT_PROBLEM_TYPES.get(self.config.problem_type or "")
        if problem is None:
            problem = "single_label" if labels.dtype in (torch.long, torch.int) else "multi_label"
        return supervised_loss(logits, labels, problem, weight, num_items_in_batch)

    def keep_layers(self, num_layers: int) -> list[int]:
        """Keep ``num_layers`` evenly spaced transformer layers of the encoder (DistilBERT / Avram et al. 2022 §3: a
        student initialised from every other teacher layer). Returns the kept indices; the config is updated so the
        smaller model saves and reloads."""
        stack = getattr(getattr(self.encoder, "encoder", None), "layer", None)
        if not isinstance(stack, nn.ModuleList):
            raise ValueError(f"{type(self.encoder).__name__} has no encoder.layer list; cannot select layers")
        total = len(stack)
        if not 1 <= num_layers <= total:
            raise ValueError(f"num_layers must be in [1, {total}], got {num_layers}")
        keep = [round(i * total / num_layers) for i in range(num_layers)]
        self.encoder.encoder.layer = nn.ModuleList(stack[i] for i in keep)
        for new_i, layer in enumerate(self.encoder.encoder.layer):  # attention caches index layers by position
            for m in layer.modules():
                if hasattr(m, "layer_idx"):
                    m.layer_idx = new_i
        self.encoder.config.num_hidden_layers = num_layers
        enc = dict(self.config.encoder)
        enc["num_hidden_layers"] = num_layers
        self.config.encoder = enc
        return keep

    @classmethod
    def from_encoder(cls, name_or_path: str, *, num_labels: int, pooling: str = "mean", **config_kwargs: Any):
        """Wrap a pretrained encoder (Hub id or folder) with a fresh head."""
        # BERT-family encoders build a pooler by default; E5 ships none and the head does not use it.
        # Loaded whole and the pooler dropped afterwards: loading without it would report its weights as unexpected.
        encoder = AutoModel.from_pretrained(name_or_path)
        if getattr(encoder, "pooler", None) is not None and encoder.config.model_type in POOLER_MODEL_TYPES:
            encoder.pooler = None
        config = PooledClassifierConfig(
            encoder=encoder_config_dict(encoder), pooling=pooling, num_labels=num_labels, **config_kwargs
        )
        return cls(config, encoder=encoder)


def encoder_config_dict(encoder) -> dict[str, Any]:
    """The wrapped encoder's config as the wrapper saves it: a dict that names where the encoder came from by its
    Hub id or folder name, never a local path."""
    from ..scrub import public_name

    enc = encoder.config.to_dict()
    if enc.get("_name_or_path"):
        enc["_name_or_path"] = public_name(enc["_name_or_path"])
    return enc


AutoConfig.register(PooledClassifierConfig.model_type, PooledClassifierConfig, exist_ok=True)
AutoModelForSequenceClassification.register(PooledClassifierConfig, PooledClassifier, exist_ok=True)
