"""One trained completion adapter read two ways: label likelihoods against free generation parsed strictly.

    HF_EMO_DATA_DIR=../shared/data python bench/generation_validity.py \\
        --adapter runs/dair_completion_smollm2_embedded_s42 --split test --out bench/results/generation_validity_dair

Scores every row of ``--split`` of the adapter's task by the likelihood of each label's completion (the
``scoring="likelihood"`` path) and by greedy generation from left-padded prompts parsed strictly (``"generate"``):
an output that is not a label counts as wrong. Reports both sets of metrics, the invalid-output rate, the metrics
with invalid outputs mapped to the closest label name (Wang et al. 2024's Levenshtein step, as a separate row), how
often generation agrees with the likelihood's choice, and the commonest invalid outputs. Writes ``<out>.json`` and
``<out>.png`` (the generated label against the gold one, invalid outputs as their own column).
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapter", required=True, help="a folder saved by `hf-emo generative` (completion mode)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--max_rows", type=int, default=None, help="a seeded subset (quick looks only)")
    parser.add_argument("--out", required=True, help="output path without extension")
    a = parser.parse_args()

    from hf_emo.data import load_task
    from hf_emo.generative import load_generative
    from hf_emo.generative.scoring import decisions_as_logits, generate_labels, label_scores
    from hf_emo.metrics import task_metrics
    from hf_emo.scrub import public_name

    model, tokenizer, fmt = load_generative(a.adapter)
    meta = json.loads((Path(a.adapter) / "hf_emo_generative.json").read_text())
    if meta["label_mode"] != "completion":
        raise SystemExit(f"{a.adapter}: label_mode {meta['label_mode']!r}; generation needs a completion adapter")
    spec = fmt.spec
    if spec.problem_type != "single_label":
        raise SystemExit(
            f"{a.adapter}: task {spec.name} is {spec.problem_type}; this study reads single-label "
            "generations (one label name per output)"
        )
    rows = load_task(spec.name)[a.split]
    if a.max_rows and a.max_rows < len(rows):
        rows = rows.shuffle(seed=0).select(range(a.max_rows))
    texts, gold = list(rows["text"]), np.asarray(rows["labels"], dtype=int)
    max_text = meta.get("max_text_tokens")

    t0 = time.perf_counter()
    logits = label_scores(model, tokenizer, fmt, texts, batch_size=a.batch_size, max_text_tokens=max_text)
    t_score = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen = generate_labels(model, tokenizer, fmt, texts, batch_size=a.batch_size, max_text_tokens=max_text, fuzzy=True)
    t_gen = time.perf_counter() - t0

    keys = ("accuracy", "f1_macro", "f1_micro", "f1_weighted")
    pct = lambda m: {k: round(100 * float(m[k]), 2) for k in keys if k in m}  # noqa: E731
    chosen = logits.argmax(1)
    strict = [(-1 if y is None else int(y)) for y in gen.labels]
    invalid = collections.Counter(t.strip() for t, y in zip(gen.texts, gen.labels) if y is None)
    result = {
        "adapter": public_name(a.adapter),
        "task": spec.name,
        "split": a.split,
        "rows": len(texts),
        "labels": list(spec.label_names),
        "prompt": fmt.to_dict(),
        "likelihood": pct(task_metrics(spec, gold, logits, 0.5)),
        "generation_strict": pct(task_metrics(spec, gold, decisions_as_logits(spec, gen.labels), 0.5)),
        "generation_fuzzy": pct(task_metrics(spec, gold, decisions_as_logits(spec, gen.mapped), 0.5)),
        "invalid_rate": round(100 * gen.invalid_rate, 2),
        "agreement_with_likelihood": round(100 * float(np.mean(np.asarray(strict) == chosen)), 2),
        "commonest_invalid_outputs": invalid.most_common(10),
        "generated_label_counts": {
            ("<invalid>" if y < 0 else spec.label_names[y]): n for y, n in sorted(collections.Counter(strict).items())
        },
        "seconds": {"likelihood": round(t_score, 1), "generation": round(t_gen, 1)},
    }
    print(json.dumps(result, indent=2))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _plot(spec.label_names, gold, strict, Path(f"{out}.png"))


def _plot(names, gold: np.ndarray, generated: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(names)
    counts = np.zeros((n, n + 1), dtype=int)
    for g, y in zip(gold, generated):
        counts[g, n if y < 0 else y] += 1
    fig, ax = plt.subplots(figsize=(1.1 * (n + 1) + 2, 0.8 * n + 1.5))
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n + 1):
            ax.text(
                j,
                i,
                str(counts[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if share[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(n + 1), [*names, "invalid"], rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("generated (parsed strictly)")
    ax.set_ylabel("gold")
    ax.set_title("free generation against the gold label")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
