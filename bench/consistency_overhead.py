"""Seconds per training step of (a) plain KD from cached teacher logits (DistillationTrainer, alpha 0) against
(b) ConsistencyDistillationTrainer with paper 001's quality weights (global, Eq. 3) and (c) the per-batch
normalisation, in one process on the same student, weights and batches (XED en-ro, Romanian side; the teacher's
logits cached once on the English side). Runs alternate a, b, c, a, b, c, ... so that drift in machine speed hits
all alike. Report: median step time, b/a and c/a.

    .venv/bin/python bench/consistency_overhead.py [--model multilingual-e5-small] [--teacher all-MiniLM-L6-v2]
                                                   [--steps 20] [--repeats 3] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from hf_emo.data import TASKS, PairedDataCollator, load_task
from hf_emo.data.tokenize import tokenize_dataset
from hf_emo.models import build_classifier, load_tokenizer
from hf_emo.quality_weights import add_translation_disagreement
from hf_emo.jobs.record import machine_description
from hf_emo.teachers import cache_teacher_logits
from hf_emo.trainers import (
    ConsistencyDistillationConfig,
    ConsistencyDistillationTrainer,
    DistillationConfig,
    DistillationTrainer,
)

from trainer_overhead import StepTimer, report  # noqa: E402  (bench/ is the script's folder)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="multilingual-e5-small")
    p.add_argument("--teacher", default="all-MiniLM-L6-v2")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-length", type=int, default=48)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    if not torch.cuda.is_available():
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    spec = TASKS["xed_en_ro"]
    prefix = "query: " if "e5" in args.model else ""
    tok = load_tokenizer(args.model)
    raw = load_task("xed_en_ro")["train"].select(range(args.steps * args.batch))
    torch.manual_seed(0)
    student = build_classifier(args.model, spec, text_prefix=prefix, max_length=args.max_length)
    teacher = build_classifier(args.teacher, spec)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    teacher.to(device)
    t0 = time.perf_counter()
    ds = cache_teacher_logits(
        teacher, raw, load_tokenizer(args.teacher), text_column="en_text", batch_size=64, max_length=args.max_length
    )
    cache_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = add_translation_disagreement(student.to(device), ds, tok, max_length=args.max_length, batch_size=64)
    weights_s = time.perf_counter() - t0
    ds = tokenize_dataset(
        ds, tok, max_length=args.max_length, text_prefix=prefix, keep=("teacher_logits", "disagreement")
    )
    state = {k: v.clone() for k, v in student.state_dict().items()}
    common = dict(
        per_device_train_batch_size=args.batch,
        max_steps=args.steps,
        learning_rate=2e-5,
        alpha=0.0,
        report_to="none",
        save_strategy="no",
        logging_steps=10_000,
        train_sampling_strategy="sequential",
        dataloader_pin_memory=False,
        freeze_embeddings=True,
        disable_tqdm=True,
        seed=0,
    )
    runs = {"a_kd_cached": [], "b_consistency_global": [], "c_consistency_batch": []}
    collator = PairedDataCollator(tok)

    def trainer(kind, timer=None):
        cbs = [timer] if timer else []
        if kind == "a_kd_cached":
            cfg = DistillationConfig(output_dir=f"/tmp/hf_emo_bench_{kind}", **common)
            return DistillationTrainer(
                model=student,
                args=cfg,
                task_spec=spec,
                train_dataset=ds.remove_columns("disagreement"),
                data_collator=collator,
                callbacks=cbs,
            )
        norm = "global" if kind == "b_consistency_global" else "batch"
        cfg = ConsistencyDistillationConfig(output_dir=f"/tmp/hf_emo_bench_{kind}", weight_normalization=norm, **common)
        return ConsistencyDistillationTrainer(
            model=student, args=cfg, task_spec=spec, train_dataset=ds, data_collator=collator, callbacks=cbs
        )

    student.load_state_dict(state)
    trainer("a_kd_cached").train()  # warm-up, not measured
    for r in range(args.repeats):
        for kind in runs:
            student.load_state_dict(state)
            timer = StepTimer()
            trainer(kind, timer).train()
            step = statistics.median(timer.times[1:])
            runs[kind].append(step)
            print(f"repeat {r} {kind:22} median step {step:.3f} s", flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    out = {
        "model": args.model,
        "teacher": args.teacher,
        "task": "xed_en_ro",
        "batch": args.batch,
        "steps": args.steps,
        "repeats": args.repeats,
        "max_length": args.max_length,
        "machine": machine_description(),
        "teacher_cache_s": round(cache_s, 2),
        "disagreement_s": round(weights_s, 2),
        **{f"{k}_s_per_step": round(v, 4) for k, v in med.items()},
        "ratio_b_over_a": round(med["b_consistency_global"] / med["a_kd_cached"], 4),
        "ratio_c_over_a": round(med["c_consistency_batch"] / med["a_kd_cached"], 4),
    }
    report(out, args.json)


if __name__ == "__main__":
    main()
