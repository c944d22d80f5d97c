"""Decoder-only baselines: prompts and verbalisers, LoRA / QLoRA decoders, label scoring and strict generation."""

from .decoder import build_decoder, load_decoder_tokenizer, load_generative, lora_target_modules
from .prompts import TEMPLATES, PromptFormat
from .scoring import Generations, generate_labels, label_scores
from .tokens import CompletionTokens, prompt_ids, tokenize_prompt_completion

__all__ = [
    "PromptFormat",
    "TEMPLATES",
    "CompletionTokens",
    "prompt_ids",
    "tokenize_prompt_completion",
    "build_decoder",
    "load_decoder_tokenizer",
    "load_generative",
    "lora_target_modules",
    "label_scores",
    "generate_labels",
    "Generations",
]
