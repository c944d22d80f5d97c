"""``GenerativeConfig``: a decoder-only baseline (LoRA, or QLoRA with ``load_in_4bit``) as a TrainingArguments."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..generative.decoder import LABEL_MODES
from .emotion_config import EmotionConfig

SCORINGS = ("likelihood", "generate")


@dataclass
class GenerativeConfig(EmotionConfig):
    """Training arguments for :class:`GenerativeTrainer`: the label mode, the prompt, LoRA and 4-bit settings, and how
    predictions are made. Wang et al. 2024 fine-tune BLOOMZ-7b1 with QLoRA on the Alpaca prompt at lr 5e-5, batch 2
    x accumulation 2."""

    label_mode: str = field(
        default="completion",
        metadata={
            "help": "completion: the decoder writes the label after the prompt (loss on the completion and EOS only); "
            "sequence_classification: a score head on the last real token (AutoModelForSequenceClassification)."
        },
    )
    prompt_template: str = field(
        default="auto",
        metadata={
            "help": "A template with a {text} slot (and optionally {labels}), or a name: wang2024 (Wang et al. 2024's "
            "Alpaca-style prompt, Table 3, single-label), wang2024_multi_label (one yes/no per label); auto picks "
            "by the task."
        },
    )
    verbalisers: list[str] | None = field(
        default=None,
        metadata={"help": "The words the decoder writes for the labels, in label order (default: the label names)."},
    )
    max_text_tokens: int = field(default=128, metadata={"help": "Texts are cut to this many tokens in the prompt."})
    pad_token: str | None = field(
        default="eos",
        metadata={
            "help": "Pad token for a tokenizer without one: eos (Llama / BLOOM style; EOS stays in the loss), another "
            "token, or null to refuse."
        },
    )
    load_in_4bit: bool = field(default=False, metadata={"help": "QLoRA: load the base in 4 bits (bitsandbytes)."})
    bnb_4bit_quant_type: str = field(default="nf4", metadata={"help": "nf4 or fp4."})
    bnb_4bit_use_double_quant: bool = True
    bnb_4bit_compute_dtype: str = field(
        default="auto", metadata={"help": "auto: bfloat16 on a GPU, float32 on CPU; or a torch dtype name."}
    )
    bnb_4bit_quant_storage: str | None = field(
        default=None,
        metadata={
            "help": "Storage dtype of the 4-bit weights; FSDP + QLoRA needs it equal to the compute dtype (bfloat16)."
        },
    )
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] | None = field(
        default=None,
        metadata={"help": "Module names LoRA adapts (default: the attention projections of the architecture)."},
    )
    scoring: str = field(
        default="likelihood",
        metadata={
            "help": "How evaluation predicts: likelihood (every label scored, gives probabilities) or generate (greedy "
            "generation parsed strictly; the invalid-output rate is reported)."
        },
    )
    fuzzy_match: bool = field(
        default=False,
        metadata={
            "help": "With scoring=generate: also report metrics with invalid single-label outputs mapped to the "
            "closest "
            "label name (as Wang et al. 2024 did), next to the strict ones; never instead of them."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.activation_checkpointing and not self.activation_checkpointing_kwargs:
            # Trainer re-enables checkpointing with these; the reentrant variant loses a LoRA adapter's gradients
            self.activation_checkpointing_kwargs = {"use_reentrant": False}
        if self.label_mode not in LABEL_MODES:
            raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {self.label_mode!r}")
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}, got {self.scoring!r}")
        if self.bnb_4bit_quant_type not in ("nf4", "fp4"):
            raise ValueError(f"bnb_4bit_quant_type must be nf4 or fp4, got {self.bnb_4bit_quant_type!r}")
        for name in ("lora_r", "lora_alpha", "max_text_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout!r}")
        if self.fuzzy_match and self.scoring != "generate":
            raise ValueError("fuzzy_match applies to scoring=generate only")
        if self.label_mode == "sequence_classification" and self.scoring == "generate":
            raise ValueError("scoring=generate needs label_mode=completion (a classifier head generates nothing)")
