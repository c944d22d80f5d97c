"""Inference speed on this machine, in two modes.

**Depth** (Avram et al. 2022, §5.3): a teacher against its half-depth student, forward-pass time over sequence
lengths::

    python bench/inference_speed.py --teacher multilingual-e5-small --batch 8 --repeats 5 \\
        --out bench/results/inference_speed_e5

The student is :func:`hf_emo.models.init_student_from_teacher` of the teacher (every other layer); both run in one
process, in eval mode under ``torch.inference_mode``, on random token ids of each length (16 ... 512), the median of
``--repeats`` timed passes after one warm-up pass each. Writes ``<out>.json`` and ``<out>.png``.

**Serving** (issue 40): fine-tuned classifiers in the forms people serve them on a CPU::

    python bench/inference_speed.py --serving --teacher runs/TEACHER --student runs/STUDENT \\
        --out bench/results/serving_dair

Each form runs alone in a fresh process (so its peak memory is its own and no form warms another's caches), with
``--threads`` threads for PyTorch and ONNX Runtime alike: PyTorch fp32, PyTorch dynamic int8, ONNX Runtime fp32 and
int8 (``hf_emo.export``, attention fused). It measures texts per second at batch 1 and at batch 32 on random token
ids of each length (16 ... 512 tokens, no padding), the latency median and 95th percentile at batch 1, the texts per
second over the whole test split of the model's task (real texts, batches of 32 sorted by length, tokenisation
included), the peak resident memory and the model's size on disk, and, from the same test-split pass, the task
metric and how often each form's labels equal the PyTorch fp32 student's. Writes ``<out>.json``, ``<out>.md`` and
``<out>.png``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

LENGTHS = (16, 32, 64, 128, 256, 512)
FORMS = ("pytorch", "pytorch-int8", "onnx", "onnx-int8")
FORM_NAMES = {
    "pytorch": "fp32, PyTorch",
    "pytorch-int8": "int8, PyTorch dynamic",
    "onnx": "fp32, ONNX Runtime",
    "onnx-int8": "int8, ONNX Runtime",
}


# -- depth mode -------------------------------------------------------------------------------------------------
def timed(model, batch: int, length: int, repeats: int, device: str) -> float:
    vocab = model.config.vocab_size
    ids = torch.randint(5, vocab, (batch, length), device=device)
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model(input_ids=ids, attention_mask=mask)  # warm-up
        times = []
        for _ in range(repeats):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(input_ids=ids, attention_mask=mask)
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def depth_main(args: argparse.Namespace) -> None:
    from transformers import AutoModel

    from hf_emo.models import init_student_from_teacher
    from hf_emo.zoo import resolve_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    teacher = AutoModel.from_pretrained(resolve_model(args.teacher)).to(device).eval()
    student = init_student_from_teacher(teacher).eval()
    limit = getattr(teacher.config, "max_position_embeddings", 512)
    rows = []
    for length in [n for n in args.lengths if n <= limit]:
        t, s = (
            timed(teacher, args.batch, length, args.repeats, device),
            timed(student, args.batch, length, args.repeats, device),
        )
        rows.append(
            {
                "length": length,
                "teacher_ms": round(1000 * t, 1),
                "student_ms": round(1000 * s, 1),
                "speed_up": round(t / s, 2),
            }
        )
        print(f"length {length:4d}: teacher {1000 * t:8.1f} ms, student {1000 * s:8.1f} ms, x{t / s:.2f}")
    result = {
        "command": f"python bench/inference_speed.py --teacher {args.teacher} --batch {args.batch} "
        f"--repeats {args.repeats}",
        "device": device,
        "threads": torch.get_num_threads(),
        "teacher_layers": teacher.config.num_hidden_layers,
        "student_layers": student.config.num_hidden_layers,
        "batch": args.batch,
        "rows": rows,
    }
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    lengths = [r["length"] for r in rows]
    ax.plot(lengths, [r["teacher_ms"] for r in rows], "o-", label=f"teacher ({result['teacher_layers']} layers)")
    ax.plot(lengths, [r["student_ms"] for r in rows], "o-", label=f"student ({result['student_layers']} layers)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length (tokens)")
    ax.set_ylabel(f"ms per batch of {args.batch}")
    ax.set_title(f"{args.teacher} on {device}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out.with_suffix(".png"), dpi=120)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# -- serving mode: one form per process -------------------------------------------------------------------------
def _rss_mb() -> float:
    """This process's peak resident memory: ``VmHWM`` of ``/proc/self/status`` (Linux). Not ``getrusage``'s
    ``ru_maxrss``: Linux carries it across ``execve``, so a worker would report the peak of the parent it forked
    from."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _repeat(fn, *, min_repeats: int, budget_s: float, max_repeats: int) -> list[float]:
    """Seconds of each call of ``fn`` after one warm-up call: at least ``min_repeats`` calls, more while the total
    stays under ``budget_s``, at most ``max_repeats``."""
    fn()
    times: list[float] = []
    while len(times) < max_repeats and (len(times) < min_repeats or sum(times) < budget_s):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


class _Runner:
    """One form of one model: ``run(feeds)`` on numpy int64 inputs, ``predict(texts)`` on raw texts."""

    def __init__(self, form: str, path: str) -> None:
        self.form = form
        if form.startswith("onnx"):
            from hf_emo.export import load_exported

            self.exported = load_exported(path)
            self.config, self.tokenizer = self.exported.config, self.exported.tokenizer
            self.inputs = self.exported.manifest["inputs"]
            self.run = self.exported.run
        else:
            from hf_emo.export import quantize_dynamic_int8
            from hf_emo.models import load_classifier, load_tokenizer

            model = load_classifier(path).eval()
            self.model = quantize_dynamic_int8(model) if form == "pytorch-int8" else model
            self.config, self.tokenizer = model.config, load_tokenizer(path)
            self.inputs = [n for n in self.tokenizer.model_input_names if n in ("input_ids", "attention_mask")]
            if "token_type_ids" in self.tokenizer.model_input_names and getattr(
                getattr(model, "encoder", model).config, "type_vocab_size", 0
            ):
                self.inputs.append("token_type_ids")

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:  # replaced by the export's run for ONNX
        with torch.inference_mode():
            return self.model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.float().numpy()

    def random_feeds(self, batch: int, length: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(0)
        ids = rng.integers(1000, min(self.tokenizer.vocab_size, 30000), size=(batch, length), dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return {k: feeds[k] for k in self.inputs}

    def predict(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Logits of ``texts`` (already sorted by length), in batches, tokenisation included."""
        prefix = getattr(self.config, "text_prefix", "") or ""
        limit = getattr(self.config, "max_seq_length", None) or 512
        out = []
        for i in range(0, len(texts), batch_size):
            enc = self.tokenizer(
                [prefix + t for t in texts[i : i + batch_size]],
                truncation=True,
                max_length=limit,
                padding=True,
                return_tensors="np",
            )
            out.append(self.run({k: enc[k].astype(np.int64) for k in self.inputs}))
        return np.concatenate(out)


def worker(args: argparse.Namespace) -> None:
    """Measure one form in this process; print one JSON line; save the test-split logits to ``--logits``."""
    torch.set_num_threads(args.threads)
    base_rss = _rss_mb()
    runner = _Runner(args.worker, args.model)
    limit = getattr(runner.config, "max_seq_length", None)
    rows = []
    for length in args.lengths:
        one = runner.random_feeds(1, length)
        latencies = _repeat(lambda: runner.run(one), min_repeats=10, budget_s=args.budget, max_repeats=200)
        many = runner.random_feeds(32, length)
        batch_times = _repeat(lambda: runner.run(many), min_repeats=2, budget_s=args.budget, max_repeats=20)
        rows.append(
            {
                "length": length,
                "batch1_texts_per_s": round(1 / statistics.median(latencies), 2),
                "batch1_p50_ms": round(1000 * statistics.median(latencies), 2),
                "batch1_p95_ms": round(1000 * float(np.percentile(latencies, 95)), 2),
                "batch1_passes": len(latencies),
                "batch32_texts_per_s": round(32 / statistics.median(batch_times), 2),
                "batch32_passes": len(batch_times),
            }
        )
        print(f"  {args.worker} {length:4d} tokens: {rows[-1]}", file=sys.stderr)
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    start = time.perf_counter()
    logits = runner.predict(texts, 32)
    split_s = time.perf_counter() - start
    np.save(args.logits, logits)
    print(
        json.dumps(
            {
                "rows": rows,
                "test_split_texts_per_s": round(len(texts) / split_s, 2),
                "peak_rss_mb": round(_rss_mb(), 1),
                "rss_before_model_mb": round(base_rss, 1),
                "max_length": limit,
            }
        )
    )


def _size_mb(form: str, path: Path) -> float:
    if form.startswith("onnx"):
        return (path / "model.onnx").stat().st_size / 1e6
    if form == "pytorch":
        return sum(p.stat().st_size for p in path.glob("*.safetensors")) / 1e6
    from hf_emo.export import quantize_dynamic_int8
    from hf_emo.models import load_classifier

    buffer = io.BytesIO()  # what `hf-emo export --format torch --quantize int8` writes
    torch.save(quantize_dynamic_int8(load_classifier(str(path))).state_dict(), buffer)
    return len(buffer.getvalue()) / 1e6


def _test_split(model: str):
    """Texts (sorted by the model's token length), gold labels in that order, and the task spec."""
    from hf_emo.data import load_task
    from hf_emo.inference import model_task_spec
    from hf_emo.models import load_classifier, load_tokenizer

    spec = model_task_spec(load_classifier(model))
    test = load_task(spec.name)["test"]
    tokenizer = load_tokenizer(model)
    lengths = [len(ids) for ids in tokenizer(list(test["text"]), truncation=True, max_length=512)["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    return [test["text"][i] for i in order], np.asarray(test["labels"])[order], spec


def serving_main(args: argparse.Namespace) -> None:
    from hf_emo.export import export_classifier
    from hf_emo.inference import decision_threshold
    from hf_emo.metrics import decisions, task_metrics
    from hf_emo.models import load_classifier

    texts, labels, spec = _test_split(args.student)
    work = Path(tempfile.mkdtemp(prefix="serving-"))
    (work / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    plan = [("teacher", args.teacher, f) for f in args.teacher_forms] + [
        ("student", args.student, f) for f in args.student_forms
    ]
    results = []
    reference = None
    for role, model, form in plan:
        path = Path(model)
        if form.startswith("onnx"):
            path = work / f"{role}_{form}"
            if not path.is_dir():
                export_classifier(model, path, quantize="int8" if form == "onnx-int8" else "none")
        logits_file = work / f"{role}_{form}.npy"
        command = [
            sys.executable, __file__, "--worker", form, "--model", str(path), "--threads", str(args.threads),
            "--texts", str(work / "texts.json"), "--logits", str(logits_file), "--budget", str(args.budget),
            "--lengths", *map(str, args.lengths),
        ]  # fmt: skip
        print(f"{role} {FORM_NAMES[form]} ...", file=sys.stderr)
        proc = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        )
        if proc.returncode != 0:
            raise SystemExit(f"{role} {form} failed:\n{proc.stderr[-3000:]}")
        measured = json.loads(proc.stdout.strip().splitlines()[-1])
        logits = np.load(logits_file)
        classifier = load_classifier(model)  # once per form: its config and its parameter count
        config = classifier.config
        threshold = decision_threshold(getattr(config, "hf_emo_threshold", None), spec.num_labels)
        metrics = task_metrics(spec, labels, logits, threshold)
        if role == "student" and form == "pytorch":
            reference = decisions(spec, logits, threshold)
        results.append(
            {
                "model": role,
                "run": Path(model).name,
                "form": form,
                "name": f"{role} {FORM_NAMES[form]}",
                "layers": getattr(getattr(config, "encoder_config", config), "num_hidden_layers", None),
                "parameters_m": round(sum(p.numel() for p in classifier.parameters()) / 1e6, 1),
                "size_mb": round(_size_mb(form, path), 1),
                **measured,
                "metric": spec.metric,
                "test_metric": metrics[spec.metric],
                "f1_macro": metrics.get("f1_macro"),
                "_decisions": decisions(spec, logits, threshold),
            }
        )
    for r in results:
        same = r.pop("_decisions") == reference if reference is not None else None
        if same is not None and same.ndim > 1:
            same = same.all(-1)
        r["agreement_with_student_fp32"] = None if same is None else round(float(np.mean(same)), 6)
    _write(args, results, spec, len(texts))


def _speed_ups(results: list[dict], length: int) -> dict[str, dict[str, float]]:
    """Per form, texts/s over the student fp32 PyTorch's and over the teacher fp32 PyTorch's, at ``length``."""

    def at(r, key):
        return next(row[key] for row in r["rows"] if row["length"] == length)

    base = next((r for r in results if r["model"] == "student" and r["form"] == "pytorch"), None)
    teacher = next((r for r in results if r["model"] == "teacher" and r["form"] == "pytorch"), None)
    out = {}
    for r in results:
        entry = {}
        for key in ("batch1_texts_per_s", "batch32_texts_per_s"):
            if base:
                entry[f"{key}_over_student_fp32"] = round(at(r, key) / at(base, key), 2)
            if teacher:
                entry[f"{key}_over_teacher"] = round(at(r, key) / at(teacher, key), 2)
        out[r["name"]] = entry
    return out


def _versions() -> dict[str, str]:
    import onnxruntime
    import transformers

    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnxruntime": onnxruntime.__version__,
        "python": platform.python_version(),
    }


def _write(args: argparse.Namespace, results: list[dict], spec, test_texts: int) -> None:
    cpu = (
        next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in ln
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    record = {
        "command": " ".join(["python", "bench/inference_speed.py", *sys.argv[1:]]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "threads": args.threads,
            "avx512_vnni": "avx512_vnni" in flags,
        },
        "versions": _versions(),
        "task": spec.name,
        "test_texts": test_texts,
        "lengths": args.lengths,
        "forms": results,
        "speed_ups_at_128": _speed_ups(results, 128) if 128 in args.lengths else None,
    }
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(_markdown(record), encoding="utf-8")
    _plot(record, out.with_suffix(".png"))
    print(_markdown(record))


def _markdown(record: dict) -> str:
    forms = record["forms"]
    at = 128 if 128 in record["lengths"] else record["lengths"][len(record["lengths"]) // 2]

    def row_at(r, key):
        return next(x[key] for x in r["rows"] if x["length"] == at)

    base = next((r for r in forms if r["model"] == "student" and r["form"] == "pytorch"), forms[0])
    lines = [
        f"Task {record['task']}, test split; {record['machine']['cpu']}, {record['machine']['threads']} threads; "
        f"{record['date']}. Random token ids of {at} tokens for the batch columns; the test-split column runs every "
        "test text (batches of 32 sorted by length, tokenisation included).",
        "",
        f"| form | layers | params (M) | size (MB) | peak RSS (MB) | {record['task']} {forms[0]['metric']} | "
        f"agreement with student fp32 | batch 1 p50 / p95 (ms) | batch 1 texts/s | batch 32 texts/s | "
        f"test split texts/s | × student fp32 (b1 / b32) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in forms:
        agree = r["agreement_with_student_fp32"]
        lines.append(
            f"| {r['name']} | {r['layers']} | {r['parameters_m']} | {r['size_mb']} | {r['peak_rss_mb']:.0f} | "
            f"{100 * r['test_metric']:.2f} | {'–' if agree is None else f'{100 * agree:.2f} %'} | "
            f"{row_at(r, 'batch1_p50_ms'):.1f} / {row_at(r, 'batch1_p95_ms'):.1f} | "
            f"{row_at(r, 'batch1_texts_per_s'):.1f} | {row_at(r, 'batch32_texts_per_s'):.1f} | "
            f"{r['test_split_texts_per_s']:.0f} | "
            f"{row_at(r, 'batch1_texts_per_s') / row_at(base, 'batch1_texts_per_s'):.2f} / "
            f"{row_at(r, 'batch32_texts_per_s') / row_at(base, 'batch32_texts_per_s'):.2f} |"
        )
    lines += ["", "Texts per second at batch 32, by length:", ""]
    lines.append("| form | " + " | ".join(str(n) for n in record["lengths"]) + " |")
    lines.append("|---|" + "---|" * len(record["lengths"]))
    for r in forms:
        lines.append(f"| {r['name']} | " + " | ".join(f"{x['batch32_texts_per_s']:.1f}" for x in r["rows"]) + " |")
    return "\n".join(lines) + "\n"


def _plot(record: dict, path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for r in record["forms"]:
        lengths = [x["length"] for x in r["rows"]]
        style = "--" if r["model"] == "teacher" else "-"
        for ax, key in zip(axes, ("batch1_texts_per_s", "batch32_texts_per_s")):
            ax.plot(lengths, [x[key] for x in r["rows"]], style, marker="o", label=r["name"])
    for ax, title in zip(axes, ("batch 1", "batch 32")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length (tokens)")
        ax.set_ylabel("texts per second")
        ax.set_title(f"{record['task']}: {title}, {record['machine']['threads']} CPU threads")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default="multilingual-e5-small")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "inference_speed")
    parser.add_argument("--serving", action="store_true", help="the serving comparison of fine-tuned runs")
    parser.add_argument("--student", default=None, help="serving: the student run")
    parser.add_argument("--teacher-forms", nargs="*", choices=FORMS, default=["pytorch"], help="none: no teacher row")
    parser.add_argument("--student-forms", nargs="+", choices=FORMS, default=list(FORMS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budget", type=float, default=3.0, help="serving: seconds of timed passes per measurement")
    parser.add_argument("--worker", choices=FORMS, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--texts", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--logits", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    elif args.serving:
        if not args.student:
            parser.error("--serving needs --teacher RUN and --student RUN")
        serving_main(args)
    else:
        depth_main(args)


if __name__ == "__main__":
    main()
