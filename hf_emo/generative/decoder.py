"""Decoder-only models with LoRA (Hu et al. 2022) or QLoRA (Dettmers et al. 2023): peft and bitsandbytes do the
work; this module only chooses their settings for a task and checks what would fail later."""

from __future__ import annotations

from typing import Any

import torch

from ..data.spec import TaskSpec
from ..zoo import resolve_model

# attention projections LoRA adapts, by model_type (peft's own defaults where it has them)
LORA_TARGETS = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma3_text": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma3": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "bloom": ["query_key_value"],
    "gpt_neox": ["query_key_value"],
    "gpt2": ["c_attn"],
    "opt": ["q_proj", "v_proj"],
}
LABEL_MODES = ("completion", "sequence_classification")
from ..models.modeling_hf_emo import GENERATIVE_FILE  # noqa: E402  (an adapter folder's task, prompt, label mode, threshold)


def lora_target_modules(model_type: str, requested: list[str] | None = None) -> list[str]:
    """``requested``, else the attention projections of ``model_type``; an unknown architecture must name them."""
    if requested:
        return list(requested)
    if model_type not in LORA_TARGETS:
        raise ValueError(
            f"no default LoRA target modules for model_type {model_type!r}: set lora_target_modules "
            f"(e.g. the attention projections' names); known types: {sorted(LORA_TARGETS)}"
        )
    return LORA_TARGETS[model_type]


def four_bit_problem() -> str | None:
    """Why 4-bit loading cannot run here, or ``None`` (bitsandbytes >= 0.45 runs nf4 on CPU and CUDA)."""
    try:
        import bitsandbytes  # noqa: F401
    except Exception as e:  # noqa: BLE001  (an import error of any kind means: no 4-bit here)
        return f"bitsandbytes cannot be imported ({type(e).__name__}: {e})"
    return None


def quantization_config(
    *, quant_type: str = "nf4", double_quant: bool = True, compute_dtype: str = "auto", quant_storage: str | None = None
):
    """``BitsAndBytesConfig`` for QLoRA: 4-bit ``quant_type`` weights, double quantisation, compute in bf16 on a
    GPU and fp32 on CPU unless ``compute_dtype`` says otherwise."""
    from transformers import BitsAndBytesConfig

    problem = four_bit_problem()
    if problem:
        raise ValueError(f"load_in_4bit needs bitsandbytes: {problem}; set load_in_4bit false for plain LoRA")
    if compute_dtype == "auto":
        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    else:
        dtype = getattr(torch, compute_dtype)
    storage = {"bnb_4bit_quant_storage": getattr(torch, quant_storage)} if quant_storage else {}
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant_type,
        bnb_4bit_use_double_quant=double_quant,
        bnb_4bit_compute_dtype=dtype,
        **storage,
    )


def load_decoder_tokenizer(name_or_path: str, pad_token: str | None = "eos"):
    """The decoder's tokenizer with a pad token: its own, or EOS when ``pad_token='eos'`` (Llama / BLOOM style). The
    loss keeps EOS in the completion's labels, so padding with EOS does not stop the model learning to stop."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name_or_path))
    if tokenizer.pad_token_id is None:
        if pad_token is None:
            raise ValueError(
                f"the tokenizer of {name_or_path!r} has no pad token: set pad_token: eos (or another "
                "token of its vocabulary) so that batches can be padded"
            )
        if pad_token == "eos":
            if tokenizer.eos_token is None:
                raise ValueError(f"the tokenizer of {name_or_path!r} has neither a pad nor an EOS token")
            tokenizer.pad_token = tokenizer.eos_token
        else:
            if pad_token not in tokenizer.get_vocab():
                raise ValueError(f"pad_token {pad_token!r} is not in the vocabulary of {name_or_path!r}")
            tokenizer.pad_token = pad_token
    if tokenizer.eos_token_id is None:
        raise ValueError(f"the tokenizer of {name_or_path!r} has no EOS token: a completion could not end")
    return tokenizer


def build_decoder(
    name_or_path: str,
    spec: TaskSpec,
    tokenizer,
    *,
    label_mode: str = "completion",
    load_in_4bit: bool = False,
    quant_type: str = "nf4",
    double_quant: bool = True,
    compute_dtype: str = "auto",
    quant_storage: str | None = None,
    lora_r: int = 8,
    lora_alpha: int = 16,
    lora_dropout: float = 0.05,
    lora_target_modules: list[str] | None = None,
    gradient_checkpointing: bool = False,
    fsdp: bool = False,
) -> Any:
    """A decoder with a fresh LoRA adapter for ``spec``: a causal LM (``completion``: the label is generated) or a
    sequence classifier on the last real token (``sequence_classification``; the score head is trained and saved
    with the adapter). With ``load_in_4bit`` the base is loaded in 4 bits and prepared by
    ``peft.prepare_model_for_kbit_training`` (QLoRA).

    ``fsdp`` (QLoRA sharded by FSDP, as peft's and TRL's FSDP + QLoRA recipes do it): FSDP flattens each wrap unit
    into tensors of one dtype, so the 4-bit weights are stored in the compute dtype (``quant_storage`` defaults to
    it), every other weight is loaded in that dtype, the layer norms are not upcast to fp32 (no
    ``prepare_model_for_kbit_training``) and the LoRA weights are cast to it too."""
    from peft import LoraConfig, TaskType, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {label_mode!r}")
    path = resolve_model(name_or_path)
    config = AutoConfig.from_pretrained(path)
    kwargs: dict[str, Any] = {}
    storage = None
    if load_in_4bit:
        bnb = quantization_config(
            quant_type=quant_type, double_quant=double_quant, compute_dtype=compute_dtype, quant_storage=quant_storage
        )
        if fsdp:  # one dtype per FSDP unit: the 4-bit storage, the other weights and the adapter in the compute dtype
            storage = getattr(torch, quant_storage) if quant_storage else bnb.bnb_4bit_compute_dtype
            bnb.bnb_4bit_quant_storage = storage
            kwargs["dtype"] = storage
        kwargs["quantization_config"] = bnb
    if label_mode == "completion":
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        task_type = TaskType.CAUSAL_LM
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=spec.num_labels,
            problem_type=spec.hf_problem_type,
            id2label=spec.id2label,
            label2id=spec.label2id,
            **kwargs,
        )
        task_type = TaskType.SEQ_CLS  # peft adds the score head to modules_to_save: trained and saved
    model.config.pad_token_id = tokenizer.pad_token_id  # the classifier pools the last token that is not padding
    checkpointing = {"use_reentrant": False}
    if load_in_4bit and not fsdp:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing, gradient_checkpointing_kwargs=checkpointing
        )
    elif gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x's name
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=checkpointing)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=checkpointing)
        model.enable_input_require_grads()
    lora = LoraConfig(
        r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        task_type=task_type,
        target_modules=lora_target_modules_for(config, lora_target_modules),
    )
    model = get_peft_model(model, lora)
    if storage is not None:
        for param in model.parameters():
            if param.requires_grad:  # LoRA matrices and a score head: peft creates them in fp32
                param.data = param.data.to(storage)
    model.config.hf_emo_task = spec.to_dict()
    return model


def fsdp_units(model) -> dict[str, set]:
    """``{wrap unit: {dtypes of its own parameters}}`` as FSDP's transformer-based auto wrap would flatten ``model``:
    each decoder layer (the classes in ``_no_split_modules``) is a unit, everything else the root's."""
    names = set(getattr(getattr(model, "get_base_model", lambda: model)(), "_no_split_modules", None) or [])
    units: dict[str, set] = {}
    claimed: set[int] = set()
    for name, module in model.named_modules():
        if type(module).__name__ in names:
            params = list(module.parameters())
            units[name] = {p.dtype for p in params}
            claimed |= {id(p) for p in params}
    units["<root>"] = {p.dtype for p in model.parameters() if id(p) not in claimed}
    return units


def lora_target_modules_for(config, requested: list[str] | None) -> list[str]:
    model_type = getattr(config, "model_type", "")
    text = getattr(config, "text_config", None)
    return lora_target_modules(
        getattr(text, "model_type", model_type) if text is not None and model_type not in LORA_TARGETS else model_type,
        requested,
    )


def load_generative(path: str, *, load_in_4bit: bool = False, is_trainable: bool = False):
    """``(model, tokenizer, prompt_format)`` of a folder saved by :class:`~hf_emo.trainers.GenerativeTrainer`: the
    base model named in its ``adapter_config.json`` (a Hub id, zoo name or folder) with the adapter on top."""
    import json
    from pathlib import Path

    from ..models.modeling_hf_emo import load_adapter
    from .prompts import PromptFormat

    folder = Path(path).expanduser()
    if not folder.is_dir():  # a Hub repository of an adapter
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(path))
        except Exception as e:  # noqa: BLE001  (offline, unknown repo, no access: one sentence)
            raise ValueError(
                f"{path} is neither a local adapter folder nor a Hub repository that can be downloaded "
                f"({type(e).__name__})"
            ) from None
    meta_path, adapter_path = folder / GENERATIVE_FILE, folder / "adapter_config.json"
    for p in (meta_path, adapter_path):
        if not p.is_file():
            raise ValueError(f"{path} has no {p.name}: it is not an adapter saved by hf_emo's GenerativeTrainer")
    meta = json.loads(meta_path.read_text())
    base = json.loads(adapter_path.read_text()).get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{adapter_path} names no base model (base_model_name_or_path)")
    spec = TaskSpec.from_dict(meta["task"])
    kwargs: dict[str, Any] = {"quantization_config": quantization_config()} if load_in_4bit else {}
    base_path = resolve_model(str(Path(base).expanduser()) if base.startswith("~") else base)
    model, tokenizer, _ = load_adapter(folder, base_path, is_trainable=is_trainable, **kwargs)
    model.config.hf_emo_task = spec.to_dict()
    fmt = PromptFormat(spec, meta["prompt"]["template"], tuple(meta["prompt"]["verbalisers"]))
    return model, tokenizer, fmt
