"""LoRA against QLoRA on the same decoder: seconds per optimizer step, tokens per second and peak memory.

    python bench/generative_speed.py --model SmolLM2-135M-Instruct --steps 6 --out bench/results/generative_speed

Each setting runs in its own process (so peak memory is its own): the decoder with a rank-8 LoRA adapter on the
attention projections, trained with AdamW on batches of 4 real XED en-ro rows in the multi-label prompt-completion
form (the embedded profile's), the first step not timed. Peak memory is the process's peak resident set on CPU,
and ``torch.cuda.max_memory_allocated`` on a GPU. Writes ``<out>.json`` and ``<out>.png``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(model_name: str, four_bit: bool, steps: int, batch: int) -> dict:
    import torch
    from transformers import DataCollatorForSeq2Seq

    from hf_emo.data import TASKS, load_task
    from hf_emo.generative import PromptFormat, build_decoder, load_decoder_tokenizer, tokenize_prompt_completion
    from hf_emo.losses import causal_lm_loss

    torch.manual_seed(0)
    spec = TASKS["xed_en_ro"]
    rows = load_task("xed_en_ro")["train"].shuffle(seed=0).select(range(batch * (steps + 1)))
    tokenizer = load_decoder_tokenizer(model_name)
    data = tokenize_prompt_completion(rows, tokenizer, PromptFormat(spec), max_text_tokens=64)
    collate = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = build_decoder(model_name, spec, tokenizer, load_in_4bit=four_bit, lora_r=8)
    if not four_bit:  # a 4-bit model is placed when it is loaded
        model.to(device)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    times, tokens = [], []
    for step in range(steps + 1):
        b = collate(
            [
                {k: data[i][k] for k in ("input_ids", "attention_mask", "labels")}
                for i in range(step * batch, (step + 1) * batch)
            ]
        )
        b = {k: v.to(device) for k, v in b.items()}
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = causal_lm_loss(model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits, b["labels"])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if device == "cuda":
            torch.cuda.synchronize()
        if step:  # the first step warms up
            times.append(time.perf_counter() - start)
            tokens.append(int(b["attention_mask"].sum()))
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if device == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "model": model_name,
        "mode": "QLoRA (nf4)" if four_bit else "LoRA",
        "device": device,
        "seconds_per_step": round(statistics.median(times), 3),
        "tokens_per_second": round(sum(tokens) / sum(times), 1),
        "peak_memory_mb": round(peak, 1),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "batch": batch,
        "timed_steps": steps,
        "last_loss": round(float(loss), 4),
    }


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    labels = [r["mode"] for r in results]
    axes[0].bar(labels, [r["seconds_per_step"] for r in results], color=["#4c72b0", "#dd8452"])
    axes[0].set_ylabel("seconds per step")
    axes[1].bar(labels, [r["peak_memory_mb"] for r in results], color=["#4c72b0", "#dd8452"])
    axes[1].set_ylabel("peak memory (MB)")
    fig.suptitle(f"{results[0]['model']}, batch {results[0]['batch']}, {results[0]['device']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="SmolLM2-135M-Instruct")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "generative_speed")
    parser.add_argument("--one", choices=["lora", "qlora"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.model, args.one == "qlora", args.steps, args.batch)))
        return
    results = []
    for mode in ("lora", "qlora"):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--model",
                args.model,
                "--steps",
                str(args.steps),
                "--batch",
                str(args.batch),
                "--one",
                mode,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    record = {
        "command": f"python bench/generative_speed.py --model {args.model} --steps {args.steps} --batch {args.batch}",
        "results": results,
    }
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2))
    plot(results, args.out.with_suffix(".png"))
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
