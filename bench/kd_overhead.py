"""Seconds per training step and peak memory of (a) EmotionTrainer, (b) KD from cached teacher logits and
(c) KD with a live teacher, in one process on the same model, weights and batches.

The teacher is a classifier of the same architecture (born-again setting): a fine-tuned run folder when
``--teacher`` is given, else the freshly built student's copy. Runs alternate a, b, c, a, b, c, ... so that
drift in machine speed hits all alike. Peak memory: CUDA max allocated on GPU; on CPU the peak resident set
size above the level at the start of each run, sampled every 5 ms (after an unmeasured warm-up run, so
it shows what each run adds, not the process's one-off allocations). Report: median step time, b/a and c/a.

    .venv/bin/python bench/kd_overhead.py [--model multilingual-e5-small] [--teacher runs/redv2_baseline_embedded]
                                          [--steps 20] [--repeats 3] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import threading
import time

import torch
from transformers import DataCollatorWithPadding

from hf_emo.data import TASKS, load_task
from hf_emo.data.tokenize import tokenize_dataset
from hf_emo.models import build_classifier, load_classifier, load_tokenizer
from hf_emo.jobs.record import machine_description
from hf_emo.teachers import cache_teacher_logits
from hf_emo.trainers import DistillationConfig, DistillationTrainer, EmotionTrainer

from trainer_overhead import StepTimer, report  # noqa: E402  (bench/ is the script's folder)


class PeakMemory:
    """Peak memory above the start level: CUDA allocator on GPU, RSS sampled from /proc on CPU."""

    def __init__(self):
        self.cuda = torch.cuda.is_available()

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self):
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.start = torch.cuda.memory_allocated()
        else:
            self.start = self.peak = self._rss()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        if self.cuda:
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()
        self.delta_mb = (self.peak - self.start) / 2**20


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="multilingual-e5-small")
    p.add_argument("--teacher", default=None, help="a fine-tuned classifier folder (default: a copy of the student)")
    p.add_argument("--task", default="redv2")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    if not torch.cuda.is_available():
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    spec = TASKS[args.task]
    prefix = "query: " if "e5" in args.model else ""
    tok = load_tokenizer(args.model)
    raw = load_task(args.task)["train"].select(range(args.steps * args.batch))
    torch.manual_seed(0)
    student = build_classifier(args.model, spec, text_prefix=prefix, max_length=args.max_length)
    teacher = load_classifier(args.teacher) if args.teacher else copy.deepcopy(student)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    teacher.to(device)
    t0 = time.perf_counter()
    cached = cache_teacher_logits(
        teacher, raw, load_tokenizer(args.teacher or args.model), batch_size=64, max_length=args.max_length
    )
    cache_s = time.perf_counter() - t0
    ds_cached = tokenize_dataset(cached, tok, max_length=args.max_length, text_prefix=prefix)
    ds_plain = ds_cached.remove_columns("teacher_logits")
    state = {k: v.clone() for k, v in student.state_dict().items()}
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
    runs = {"a_emotion": [], "b_kd_cached": [], "c_kd_live": []}
    mem = {k: [] for k in runs}
    # warm-up (not measured): the first training run in a process pays allocator and kernel set-up
    student.load_state_dict(state)
    EmotionTrainer(
        model=student,
        args=DistillationConfig(output_dir="/tmp/hf_emo_bench_warmup", **common),
        task_spec=spec,
        train_dataset=ds_plain,
        data_collator=DataCollatorWithPadding(tok),
    ).train()
    for r in range(args.repeats):
        for kind in runs:
            student.load_state_dict(state)
            timer = StepTimer()
            cfg = DistillationConfig(output_dir=f"/tmp/hf_emo_bench_{kind}", temperature=2.0, alpha=0.5, **common)
            collator = DataCollatorWithPadding(tok)
            if kind == "a_emotion":
                tr = EmotionTrainer(
                    model=student,
                    args=cfg,
                    task_spec=spec,
                    train_dataset=ds_plain,
                    data_collator=collator,
                    callbacks=[timer],
                )
            elif kind == "b_kd_cached":
                tr = DistillationTrainer(
                    model=student,
                    args=cfg,
                    task_spec=spec,
                    train_dataset=ds_cached,
                    data_collator=collator,
                    callbacks=[timer],
                )
            else:
                tr = DistillationTrainer(
                    model=student,
                    args=cfg,
                    task_spec=spec,
                    teacher_model=teacher,
                    train_dataset=ds_plain,
                    data_collator=collator,
                    callbacks=[timer],
                )
            with PeakMemory() as pm:
                tr.train()
            step = statistics.median(timer.times[1:])  # the first step pays one-off set-up
            runs[kind].append(step)
            mem[kind].append(pm.delta_mb)
            print(f"repeat {r} {kind:12} median step {step:.3f} s, peak memory +{pm.delta_mb:.0f} MiB", flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    out = {
        "model": args.model,
        "teacher": args.teacher or "copy of the student",
        "task": args.task,
        "batch": args.batch,
        "steps": args.steps,
        "repeats": args.repeats,
        "max_length": args.max_length,
        "machine": machine_description(),
        "teacher_cache_s": round(cache_s, 2),
        **{f"{k}_s_per_step": round(v, 4) for k, v in med.items()},
        **{f"{k}_peak_mem_mb": round(statistics.median(v), 1) for k, v in mem.items()},
        "ratio_b_over_a": round(med["b_kd_cached"] / med["a_emotion"], 4),
        "ratio_c_over_a": round(med["c_kd_live"] / med["a_emotion"], 4),
    }
    report(out, args.json)


if __name__ == "__main__":
    main()
