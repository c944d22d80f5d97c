"""Held-out language-modelling loss of a teacher and its distilled student (how much of the teacher the student kept).

    HF_EMO_DATA_DIR=../shared/data python bench/lm_heldout_loss.py --teacher SmolLM2-135M-Instruct \\
        --student runs/distil_smollm2_embedded --out bench/results/lm_heldout_smollm2

The texts are the *validation* splits of the pretraining corpus' tasks (REDv2, REDv1, LaRoSeDa, XED en-ro), which
the distillation never read, packed into blocks like ``hf-emo pretrain`` does. Reports each model's mean causal-LM
loss per token and its perplexity, and the undistilled student (the teacher's every other layer, before training)
as the floor. Writes ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch


def lm_loss(model, blocks, batch: int = 8) -> float:
    total, count = 0.0, 0
    with torch.inference_mode():
        for i in range(0, len(blocks), batch):
            ids = torch.tensor(blocks[i : i + batch])
            logits = model(input_ids=ids).logits[:, :-1].float()
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum"
            )
            total += float(loss)
            count += ids[:, 1:].numel()
    return total / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default="SmolLM2-135M-Instruct")
    parser.add_argument("--student", required=True)
    parser.add_argument("--block_size", type=int, default=128)
    parser.add_argument("--max_texts", type=int, default=1000)
    parser.add_argument("--out", required=True)
    a = parser.parse_args()

    from datasets import concatenate_datasets
    from transformers import AutoModelForCausalLM

    from hf_emo.data import load_task
    from hf_emo.data.corpus import group_blocks
    from hf_emo.generative import load_decoder_tokenizer
    from hf_emo.jobs.pretraining import ROMANIAN_CORPUS
    from hf_emo.models import init_student_from_teacher
    from hf_emo.scrub import public_name
    from hf_emo.zoo import resolve_model

    texts = concatenate_datasets([load_task(t)["validation"].select_columns(["text"]) for t in ROMANIAN_CORPUS])
    texts = texts.shuffle(seed=0).select(range(min(a.max_texts, len(texts))))
    tokenizer = load_decoder_tokenizer(a.teacher)
    blocks = group_blocks(texts, tokenizer, a.block_size)["input_ids"]
    teacher = AutoModelForCausalLM.from_pretrained(resolve_model(a.teacher)).eval()
    undistilled = init_student_from_teacher(teacher).eval()
    student = AutoModelForCausalLM.from_pretrained(resolve_model(a.student)).eval()
    rows = {}
    for name, model in (
        ("teacher", teacher),
        ("student, distilled", student),
        ("student, before distillation", undistilled),
    ):
        loss = lm_loss(model, blocks)
        rows[name] = {
            "loss": round(loss, 4),
            "perplexity": round(math.exp(loss), 2),
            "layers": model.config.num_hidden_layers,
        }
        print(name, rows[name])
    result = {
        "teacher": public_name(a.teacher),
        "student": public_name(a.student),
        "texts": {
            "tasks": list(ROMANIAN_CORPUS),
            "split": "validation",
            "count": len(texts),
            "blocks": len(blocks),
            "block_size": a.block_size,
        },
        "models": rows,
        "machine": f"CPU-2, torch {torch.__version__}",
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{a.out}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
