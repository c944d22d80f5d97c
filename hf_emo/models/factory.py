"""Build or load a classifier for a task: zoo names, Hub ids and local folders all work."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel

from ..data.spec import TaskSpec
from ..zoo import ModelNotFoundError, resolve_model
from .modeling_hf_emo import SHORT_PROBLEM_TYPES
from .pooled_classifier import PooledClassifier

POOLINGS = ("mean", "cls", "pooler")


def _load(loader, name_or_path: str, what: str, **kwargs):
    """``loader.from_pretrained`` with one clear sentence instead of a network trace when it cannot load."""
    from safetensors import SafetensorError

    path = resolve_model(name_or_path)
    try:
        return loader.from_pretrained(path, **kwargs)
    except OSError as e:
        raise ModelNotFoundError(
            f"cannot load the {what} of {name_or_path!r}: it is not a local folder nor an offline "
            f"zoo name, and the Hub did not serve it ({_first_line(e)})"
        ) from None
    except SafetensorError as e:
        raise ModelNotFoundError(
            f"the weights of {name_or_path!r} cannot be read ({_first_line(e)}): the file is damaged or truncated; "
            "run the job again or copy the model again"
        ) from None
    except ValueError as e:
        if what == "tokenizer" and Path(path).is_dir():
            raise ModelNotFoundError(
                f"{name_or_path!r} holds no usable tokenizer (tokenizer.json, or tokenizer_config.json with its "
                f"vocabulary): copy the tokenizer files of its base model into it ({_first_line(e)})"
            ) from None
        raise


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0].rstrip(": ") if str(error).strip() else type(error).__name__


def load_config(name_or_path: str):
    return _load(AutoConfig, name_or_path, "config")


def is_classifier(name_or_path: str) -> bool:
    """True when the checkpoint already holds a sequence-classification head (a fine-tuned model)."""
    cfg = load_config(name_or_path)
    archs = cfg.architectures or []
    return cfg.model_type == "hf_emo_pooled_classifier" or any(a.endswith("ForSequenceClassification") for a in archs)


# architectures whose position ids start after the padding index: max_position_embeddings - 2 usable positions
OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "xlm-roberta-xl", "bertweet", "phobert")


def position_limit(config) -> int | None:
    """How many tokens a model reads at most (its position embeddings), or ``None`` when its config does not say
    (relative positions, rotary decoders without a table)."""
    inner = getattr(config, "encoder_config", None) or getattr(config, "encoder_config_for_limit", None) or config
    limit = getattr(inner, "max_position_embeddings", None)
    if not isinstance(limit, int):
        return None
    return limit - 2 if getattr(inner, "model_type", "") in OFFSET_POSITIONS else limit


def check_max_length(config, max_length: int | None, name: str = "the model", option: str = "max_length") -> None:
    """Refuse a ``max_length`` (or another ``option`` counting tokens) past the model's position limit (a bare
    index error in the middle of training)."""
    limit = position_limit(config)
    if max_length is not None and limit is not None and max_length > limit:
        raise ValueError(
            f"{option} {max_length} is past {name}'s position limit of {limit} tokens: pass --{option} {limit} or less"
        )


def build_classifier(
    name_or_path: str,
    spec: TaskSpec,
    *,
    pooling: str = "mean",
    text_prefix: str = "",
    max_length: int | None = None,
    classifier_dropout: float = 0.1,
    num_layers: int | None = None,
) -> PreTrainedModel:
    """A classifier for ``spec`` on top of the encoder ``name_or_path``.

    ``pooling='mean'`` / ``'cls'`` wraps the encoder in :class:`PooledClassifier`; ``'pooler'`` uses the
    architecture's own ``AutoModelForSequenceClassification`` (e.g. BERT's pooler + head). ``num_layers`` keeps
    that many evenly spaced encoder layers (a DistilBERT-style student: every other layer for half the depth).
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    path = resolve_model(name_or_path)
    check_max_length(AutoConfig.from_pretrained(path), max_length, repr(name_or_path))
    common = dict(
        num_labels=spec.num_labels, problem_type=spec.hf_problem_type, id2label=spec.id2label, label2id=spec.label2id
    )
    if pooling == "pooler":
        model = AutoModelForSequenceClassification.from_pretrained(path, **common)
        model.config.text_prefix, model.config.max_seq_length = text_prefix, max_length
    else:
        model = PooledClassifier.from_encoder(
            path,
            pooling=pooling,
            text_prefix=text_prefix,
            max_seq_length=max_length,
            classifier_dropout=classifier_dropout,
            **common,
        )
    if num_layers is not None:
        if not isinstance(model, PooledClassifier):
            raise ValueError("num_layers needs pooling 'mean' or 'cls' (hf_emo's PooledClassifier)")
        model.keep_layers(num_layers)
    model.config.hf_emo_task = spec.to_dict()
    return model


def load_classifier(name_or_path: str, *, require_head: bool = True) -> PreTrainedModel:
    """Load a fine-tuned classifier (ours or any ``*ForSequenceClassification``).

    With ``require_head`` (the default) a bare encoder is refused: loading it would give a randomly initialised
    head whose predictions mean nothing."""
    if require_head and not is_classifier(name_or_path):
        raise ModelNotFoundError(
            f"model {name_or_path!r} has no trained classification head (its config names no "
            "*ForSequenceClassification architecture): fine-tune it first with `hf-emo train`"
        )
    return _load(AutoModelForSequenceClassification, name_or_path, "classifier")


def load_tokenizer(name_or_path: str):
    return _load(AutoTokenizer, name_or_path, "tokenizer")


_DEFAULT_METRIC = {"multi_label": "f1_micro", "single_label": "accuracy", "regression": "pearson_mean"}


def task_spec_from_config(config) -> TaskSpec:
    """The task of any ``*ForSequenceClassification`` config: ``num_labels``, ``problem_type`` (unset: single-label
    for several labels, regression for one, as transformers decides) and the ``id2label`` names."""
    n = config.num_labels
    problem = SHORT_PROBLEM_TYPES.get(
        getattr(config, "problem_type", None) or "", "regression" if n == 1 else "single_label"
    )
    id2label = getattr(config, "id2label", None) or {}
    names = tuple(str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(n))
    return TaskSpec(
        name=getattr(config, "finetuning_task", None) or "task",
        problem_type=problem,
        label_names=names,
        language=getattr(config, "language", None) or "und",
        metric=_DEFAULT_METRIC[problem],
    )


def task_spec_of(model: PreTrainedModel) -> TaskSpec | None:
    """The ``TaskSpec`` saved in a model's config by hf_emo, if any."""
    d = getattr(model.config, "hf_emo_task", None)
    return TaskSpec.from_dict(d) if d else None
