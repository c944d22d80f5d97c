"""Teacher against its half-depth student: forward-pass time over sequence lengths (Avram et al. 2022, §5.3).

    python bench/inference_speed.py --teacher multilingual-e5-small --batch 8 --repeats 5 \\
        --out bench/results/inference_speed_e5

The student is :func:`hf_emo.models.init_student_from_teacher` of the teacher (every other layer); both run in one
process, in eval mode under ``torch.inference_mode``, on random token ids of each length (16 ... 512), the median of
``--repeats`` timed passes after one warm-up pass each. Prints the student / teacher speed-up per length and writes
``<out>.json`` and ``<out>.png``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

LENGTHS = (16, 32, 64, 128, 256, 512)


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


def main() -> None:
    from transformers import AutoModel

    from hf_emo.models import init_student_from_teacher
    from hf_emo.zoo import resolve_model

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default="multilingual-e5-small")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "inference_speed")
    args = parser.parse_args()
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


if __name__ == "__main__":
    main()
