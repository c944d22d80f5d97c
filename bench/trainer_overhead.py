"""Seconds per training step of EmotionTrainer against a plain transformers.Trainer, in one process.

Same model weights, same batches (sequential order), same settings; the plain Trainer uses the model's own
loss (BCE with mean reduction for multi-label). The runs alternate (plain, ours, plain, ours, ...) so that
drift in machine speed hits both alike. Report: median step time of each and the ratio ours / plain.

    .venv/bin/python bench/trainer_overhead.py [--model multilingual-e5-small] [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from transformers import DataCollatorWithPadding, Trainer, TrainerCallback

from hf_emo.data import TASKS, load_task
from hf_emo.data.tokenize import tokenize_dataset
from hf_emo.models import build_classifier, load_tokenizer
from hf_emo.trainers import EmotionConfig, EmotionTrainer


class StepTimer(TrainerCallback):
    def __init__(self):
        self.times, self._t = [], None

    def on_step_begin(self, args, state, control, **kw):
        self._t = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self.times.append(time.perf_counter() - self._t)


def report(result: dict, json_path: str | None = None) -> None:
    """Print a benchmark's result as JSON, and write it to ``json_path`` when one is given."""
    print(json.dumps(result, indent=2))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=2)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="multilingual-e5-small")
    p.add_argument("--task", default="redv2")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-length", type=int, default=64)
    args = p.parse_args()
    torch.set_num_threads(2)
    spec = TASKS[args.task]
    tok = load_tokenizer(args.model)
    ds = load_task(args.task)["train"].select(range(args.steps * args.batch))
    ds = tokenize_dataset(ds, tok, max_length=args.max_length, text_prefix="query: ")
    torch.manual_seed(0)
    base = build_classifier(args.model, spec, text_prefix="query: ", max_length=args.max_length)
    state = {k: v.clone() for k, v in base.state_dict().items()}
    common = dict(
        per_device_train_batch_size=args.batch,
        max_steps=args.steps,
        learning_rate=1e-4,
        report_to="none",
        save_strategy="no",
        logging_steps=10_000,
        train_sampling_strategy="sequential",
        dataloader_pin_memory=False,
        freeze_embeddings=True,
        disable_tqdm=True,
        seed=0,
    )
    results = {"plain": [], "emotion": []}
    for r in range(args.repeats):
        for kind in ("plain", "emotion"):
            base.load_state_dict(state)
            timer = StepTimer()
            cfg = EmotionConfig(output_dir=f"/tmp/hf_emo_bench_{kind}", **common)
            if kind == "plain":
                base.get_input_embeddings().weight.requires_grad_(False)
                tr = Trainer(
                    model=base,
                    args=cfg,
                    train_dataset=ds,
                    data_collator=DataCollatorWithPadding(tok),
                    callbacks=[timer],
                )
            else:
                tr = EmotionTrainer(
                    model=base,
                    args=cfg,
                    task_spec=spec,
                    train_dataset=ds,
                    data_collator=DataCollatorWithPadding(tok),
                    callbacks=[timer],
                )
            tr.train()
            step = statistics.median(timer.times[1:])  # the first step pays one-off set-up
            results[kind].append(step)
            print(f"repeat {r} {kind:8} median step {step:.3f} s")
    plain, ours = statistics.median(results["plain"]), statistics.median(results["emotion"])
    out = {
        "model": args.model,
        "task": args.task,
        "batch": args.batch,
        "steps": args.steps,
        "max_length": args.max_length,
        "plain_s_per_step": round(plain, 4),
        "emotion_s_per_step": round(ours, 4),
        "ratio": round(ours / plain, 4),
        "threads": torch.get_num_threads(),
    }
    report(out)


if __name__ == "__main__":
    main()
