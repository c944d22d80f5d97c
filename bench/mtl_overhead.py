"""Seconds per training step of MultiTaskTrainer against the single-task EmotionTrainer, and the cost of GradNorm.

(a) EmotionTrainer on a PooledClassifier, (b) MultiTaskTrainer on a one-task MultiTaskModel: same encoder, same
batch size, every batch padded to the same length, so (b)/(a) is the trainer's overhead (target <= 1.05).
(c) MultiTaskTrainer on three tasks, one batch of each per optimizer step (round_robin, gradient accumulation 3),
static weights; (d) the same with GradNorm. (c) and (d) are reported per micro-batch; (d)/(c) is GradNorm's cost
(its second, partial backward pass). Runs alternate a, b, c, d, a, ... after an unmeasured warm-up.

    .venv/bin/python bench/mtl_overhead.py [--model multilingual-e5-small] [--steps 15] [--repeats 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import os
import statistics

import torch
from transformers import DataCollatorWithPadding

from hf_emo.data import TASKS, load_task
from hf_emo.data.tokenize import tokenize_dataset
from hf_emo.models import build_classifier, build_multitask_model, load_tokenizer
from hf_emo.jobs.record import machine_description
from hf_emo.trainers import EmotionConfig, EmotionTrainer, MultiTaskConfig, MultiTaskTrainer

from trainer_overhead import StepTimer, report  # noqa: E402  (bench/ is the script's folder)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="multilingual-e5-small")
    p.add_argument("--tasks", nargs="+", default=["redv2", "laroseda", "ag_news"])
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    if not torch.cuda.is_available():
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    prefix = "query: " if "e5" in args.model else ""
    tok = load_tokenizer(args.model)
    n = args.steps * args.batch
    data = {
        t: tokenize_dataset(
            load_task(t)["train"].shuffle(seed=0).select(range(n)), tok, max_length=args.max_length, text_prefix=prefix
        )
        for t in args.tasks
    }
    primary = args.tasks[0]
    collate = DataCollatorWithPadding(tok, padding="max_length", max_length=args.max_length)
    torch.manual_seed(0)
    single = build_classifier(args.model, TASKS[primary], text_prefix=prefix, max_length=args.max_length)
    one = build_multitask_model(args.model, [TASKS[primary]], text_prefix=prefix, max_length=args.max_length)
    three = build_multitask_model(
        args.model, [TASKS[t] for t in args.tasks], text_prefix=prefix, max_length=args.max_length
    )
    states = {id(m): {k: v.clone() for k, v in m.state_dict().items()} for m in (single, one, three)}
    common = dict(
        per_device_train_batch_size=args.batch,
        learning_rate=1e-4,
        report_to="none",
        save_strategy="no",
        logging_steps=10_000,
        dataloader_pin_memory=False,
        freeze_embeddings=True,
        disable_tqdm=True,
        seed=0,
    )
    k = len(args.tasks)

    def make(kind: str, timer: StepTimer):
        out = f"/tmp/hf_emo_bench_mtl_{kind}"
        if kind == "a_emotion":
            single.load_state_dict(states[id(single)])
            return EmotionTrainer(
                model=single,
                args=EmotionConfig(
                    output_dir=out, max_steps=args.steps, train_sampling_strategy="sequential", **common
                ),
                task_spec=TASKS[primary],
                train_dataset=data[primary],
                data_collator=collate,
                callbacks=[timer],
            )
        if kind == "b_mtl_one_task":
            one.load_state_dict(states[id(one)])
            return MultiTaskTrainer(
                one,
                MultiTaskConfig(output_dir=out, max_steps=args.steps, **common),
                train_dataset={primary: data[primary]},
                data_collator=collate,
                callbacks=[timer],
            )
        three.load_state_dict(states[id(three)])
        cfg = MultiTaskConfig(
            output_dir=out,
            max_steps=args.steps,
            task_sampler="round_robin",
            gradient_accumulation_steps=k,
            loss_weighting="gradnorm" if kind == "d_mtl_gradnorm" else "static",
            **common,
        )
        return MultiTaskTrainer(three, cfg, train_dataset=data, data_collator=collate, callbacks=[timer])

    kinds = ["a_emotion", "b_mtl_one_task", "c_mtl_three_tasks", "d_mtl_gradnorm"]
    make("a_emotion", StepTimer()).train()  # warm-up, not measured
    runs: dict[str, list[float]] = {kd: [] for kd in kinds}
    for r in range(args.repeats):
        for kind in kinds:
            timer = StepTimer()
            make(kind, timer).train()
            step = statistics.median(timer.times[1:])
            if kind in ("c_mtl_three_tasks", "d_mtl_gradnorm"):
                step /= k  # per micro-batch: an optimizer step holds one batch of each task
            runs[kind].append(step)
            print(f"repeat {r} {kind:18} median {step:.3f} s per batch", flush=True)
    med = {kd: statistics.median(v) for kd, v in runs.items()}
    out = {
        "model": args.model,
        "tasks": args.tasks,
        "batch": args.batch,
        "max_length": args.max_length,
        "steps": args.steps,
        "repeats": args.repeats,
        "machine": machine_description(),
        **{f"{kd}_s_per_batch": round(v, 4) for kd, v in med.items()},
        "ratio_b_over_a": round(med["b_mtl_one_task"] / med["a_emotion"], 4),
        "ratio_c_over_a": round(med["c_mtl_three_tasks"] / med["a_emotion"], 4),
        "gradnorm_cost_d_over_c": round(med["d_mtl_gradnorm"] / med["c_mtl_three_tasks"], 4),
    }
    report(out, args.json)


if __name__ == "__main__":
    main()
