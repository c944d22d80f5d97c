"""A sequence classifier over any HF encoder with mean or CLS pooling and a linear head.

E5 / BGE-style encoders are trained with mean pooling and ship no trained pooler; putting BERT's
untrained pooler in front of the head costs about 10 micro-F1 points on REDv2 (``../shared/FACTS.md``).
The model is an ordinary ``PreTrainedModel``: registered with ``AutoConfig`` and
``AutoModelForSequenceClassification`` when ``hf_emo`` is imported, it saves, loads and pushes normally.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from ..losses import supervised_loss
from ..scrub import public_name

PROBLEM_FROM_HF = {
    "multi_label_classification": "multi_label",
    "single_label_classification": "single_label",
    "regression": "regression",
}


class EncoderWrapperConfig(PretrainedConfig):
    """Base of the configs that wrap an HF encoder: its config (``encoder``, a dict, so that the wrapper saves and
    loads as one config), the pooling, the heads' dropout, the text prefix and the maximum length."""

    def __init__(
        self,
        encoder: dict | None = None,
        pooling: str = "mean",
        classifier_dropout: float = 0.1,
        text_prefix: str = "",
        max_seq_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        if isinstance(encoder, PretrainedConfig):
            encoder = encoder.to_dict()
        encoder = dict(encoder or {})
        if encoder.get("_name_or_path"):  # where the encoder was loaded from: saved in config.json, so no local path
            encoder["_name_or_path"] = public_name(encoder["_name_or_path"])
        self.encoder = encoder
        self.pooling = pooling
        self.classifier_dropout = classifier_dropout
        self.text_prefix = text_prefix
        self.max_seq_length = max_seq_length
        super().__init__(**kwargs)

    @property
    def encoder_config(self) -> PretrainedConfig:
        enc = dict(self.encoder)
        return AutoConfig.for_model(enc.pop("model_type"), **enc)

    @property
    def hidden_size(self) -> int:  # used by Trainer/DeepSpeed auto settings
        return int(self.encoder.get("hidden_size", 0))


class PooledClassifierConfig(EncoderWrapperConfig):
    """Config: the wrapped encoder's config (``encoder``, a dict), ``pooling`` and the head's dropout."""

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


class PooledClassifier(PreTrainedModel):
    config_class = PooledClassifierConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: PooledClassifierConfig, encoder: PreTrainedModel | None = None) -> None:
        super().__init__(config)
        if encoder is None:  # no pooler: the head reads pooled token states (an unused pooler breaks DDP)
            enc_cfg = config.encoder_config
            encoder = AutoModel.from_config(
                enc_cfg, **({"add_pooling_layer": False} if enc_cfg.model_type in _POOLER_MODEL_TYPES else {})
            )
        self.encoder = encoder
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(hidden, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is getattr(self, "classifier", None):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

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
        if getattr(encoder, "pooler", None) is not None and encoder.config.model_type in _POOLER_MODEL_TYPES:
            encoder.pooler = None
        config = PooledClassifierConfig(
            encoder=encoder.config.to_dict(), pooling=pooling, num_labels=num_labels, **config_kwargs
        )
        return cls(config, encoder=encoder)

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
        enc_kwargs = {"input_ids": input_ids, "attention_mask": attention_mask, "inputs_embeds": inputs_embeds}
        if token_type_ids is not None:
            enc_kwargs["token_type_ids"] = token_type_ids
        if kwargs.get("output_hidden_states"):
            enc_kwargs["output_hidden_states"] = True
        out = self.encoder(**enc_kwargs)
        pooled = pool(out.last_hidden_state, attention_mask, self.config.pooling)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            problem = PROBLEM_FROM_HF.get(self.config.problem_type or "", None)
            if problem is None:
                problem = "single_label" if labels.dtype in (torch.long, torch.int) else "multi_label"
            loss = supervised_loss(logits, labels, problem, weight, kwargs.get("num_items_in_batch"))
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


_POOLER_MODEL_TYPES = {"bert", "roberta", "xlm-roberta", "camembert"}


AutoConfig.register(PooledClassifierConfig.model_type, PooledClassifierConfig, exist_ok=True)
AutoModelForSequenceClassification.register(PooledClassifierConfig, PooledClassifier, exist_ok=True)
