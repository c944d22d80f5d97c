"""The paper profile's decoders on the meta device (nothing downloaded): parameters, what LoRA trains, and the memory
the 4-bit base needs, so users know the GPU a QLoRA run of BLOOMZ-7b1 asks for.

    python bench/generative_shapes.py --out bench/results/generative_shapes.json

The configs are BLOOM-7b1's and Pythia-410M's published hyper-parameters (BLOOMZ-7b1 has BLOOM-7b1's shape). The
4-bit estimate counts nf4 weights with double quantisation (4 bits + one fp32 absmax per 64 weights, itself
quantised to 8 bits per 256 blocks: about 4.13 bits per weight) for every linear layer, and bf16 for the embeddings
and the layer norms, which bitsandbytes does not quantise; activations, the KV cache and the optimiser states of the
adapter come on top (the adapter's are small: see ``trainable``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

NF4_DOUBLE_QUANT_BITS = 4 + 8 / 64 + 32 / (64 * 256)


def shapes():
    from transformers import BloomConfig, GPTNeoXConfig

    return {
        "bigscience/bloomz-7b1": (
            BloomConfig(vocab_size=250880, hidden_size=4096, n_layer=30, n_head=32),
            ["query_key_value"],
        ),
        "EleutherAI/pythia-410m": (
            GPTNeoXConfig(
                vocab_size=50304, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096
            ),
            ["query_key_value"],
        ),
    }


def measure(name: str, config, targets: list[str], r: int = 8) -> dict:
    from accelerate import init_empty_weights
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(config)
    total = sum(p.numel() for p in model.parameters())
    head = model.get_output_embeddings()
    if (
        getattr(config, "tie_word_embeddings", False)
        and head is not None
        and head.weight is not model.get_input_embeddings().weight
    ):
        total -= head.weight.numel()  # tied to the input embeddings in the real model (meta init leaves it apart)
    linear = sum(
        m.weight.numel()
        for m in model.modules()
        if isinstance(m, torch.nn.Linear) and m is not model.get_output_embeddings()
    )
    other = total - linear
    with init_empty_weights():
        peft_model = get_peft_model(
            model, LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets, task_type="CAUSAL_LM")
        )
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    gib = 1024**3
    return {
        "parameters": total,
        "linear_parameters_quantised": linear,
        "other_parameters_bf16": other,
        f"lora_r{r}_trainable": trainable,
        "bf16_weights_gib": round(2 * total / gib, 2),
        "nf4_weights_gib": round((linear * NF4_DOUBLE_QUANT_BITS / 8 + 2 * other) / gib, 2),
        "adapter_adamw_states_gib": round(trainable * 4 * 3 / gib, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "generative_shapes.json")
    args = parser.parse_args()
    result = {name: measure(name, cfg, targets) for name, (cfg, targets) in shapes().items()}
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
