"""Does a pushed student answer as `hf-emo predict` where only transformers is installed? (issue 38)

    .venv/bin/python bench/portable_agreement.py --out bench/results/portable_agreement.json

For a single-label (dair-ai emotion), a multi-label (REDv2, per-label thresholds tuned on validation) and a
regression (EmoBank) task: train a student with the CLI (the offline e5-small, ``query: `` prefix, a short run:
the figure is agreement, not quality), stage it with ``hf-emo push --dry-run``, then run the card's call
``pipeline("text-classification", model=..., trust_remote_code=True)`` on the whole test split in a process where
``import hf_emo`` fails, and compare with ``hf_emo.inference.predict`` on the run folder: the share of texts whose
labels are identical and the largest score difference. The card of each kind is read back with ``ModelCard.load``
and its metadata keys listed. A Markdown table goes beside the JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KINDS = {
    "single-label": ["--task", "dair_emotion"],
    "multi-label": ["--task", "redv2", "--threshold_tuning", "per_label"],
    "regression": ["--task", "emobank"],
}
HIDDEN = """
import json, sys
sys.modules["hf_emo"] = None  # as where hf_emo is not installed
from transformers import pipeline

folder, texts_file, out_file = sys.argv[1:4]
texts = json.load(open(texts_file, encoding="utf-8"))
classify = pipeline("text-classification", model=folder, trust_remote_code=True)
json.dump(classify(texts, batch_size=32), open(out_file, "w", encoding="utf-8"))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench/results/portable_agreement.json")
    p.add_argument("--model", default="multilingual-e5-small")
    p.add_argument("--train-rows", type=int, default=512)
    p.add_argument("--work", default=None, help="folder for the runs (default: a temporary one)")
    args = p.parse_args()

    import numpy as np
    import torch
    import transformers
    from huggingface_hub import ModelCard

    from hf_emo.cli import main as hf_emo
    from hf_emo.data import TASKS, load_task
    from hf_emo.inference import predict
    from hf_emo.version import __version__

    work = Path(args.work or tempfile.mkdtemp(prefix="hf_emo_portable_"))
    rows, started = [], time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for kind, task_args in KINDS.items():
        run, staged = work / kind, work / f"{kind}-staged"
        command = [
            "train", "--model_name_or_path", args.model, *task_args, "--text_prefix", "query: ",
            "--max_length", "128", "--max_train_samples", str(args.train_rows), "--num_train_epochs", "1",
            "--per_device_train_batch_size", "16", "--learning_rate", "5e-5", "--seed", "0", "--report_to", "none",
            "--save_strategy", "no", "--output_dir", str(run),
        ]  # fmt: skip
        assert hf_emo(command) == 0, kind
        repo = f"your-name/{run.name}"
        assert hf_emo(["push", "--output_dir", str(run), "--repo-id", repo, "--dry-run", str(staged)]) == 0
        task = task_args[1]
        texts = list(load_task(task)["test"]["text"])
        expected = predict(str(run), texts=texts, batch_size=32)
        texts_file, out_file = work / f"{kind}-texts.json", work / f"{kind}-pipeline.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        t0 = time.time()
        subprocess.run(
            [sys.executable, "-c", HIDDEN, str(staged), str(texts_file), str(out_file)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        seconds = time.time() - t0
        answers = json.loads(out_file.read_text(encoding="utf-8"))
        same = sum(a["labels"] == e for a, e in zip(answers, expected.labels))
        scores = np.array([[a["scores"][n] for n in expected.label_names] for a in answers])
        card = ModelCard.load(staged / "README.md")
        meta = card.data.to_dict()
        rows.append(
            {
                "kind": kind,
                "task": task,
                "problem_type": TASKS[task].problem_type,
                "test_texts": len(texts),
                "labels_identical": same,
                "labels_identical_pct": round(100 * same / len(texts), 3),
                "max_abs_score_difference": float(np.abs(scores - expected.probabilities).max()),
                "threshold": expected.threshold,
                "pipeline_seconds": round(seconds, 1),
                "card_metadata_keys": sorted(meta),
                "model_index_metrics": sorted({r.metric_name for r in card.data.eval_results or []}),
                "license": meta.get("license"),
                "base_model": meta.get("base_model"),
                "datasets": meta.get("datasets"),
                "language": meta.get("language"),
                "hf_emo_command": "hf-emo " + " ".join(c if c != str(run) else f"runs/{kind}" for c in command),
            }
        )
        print(json.dumps(rows[-1], indent=1), flush=True)
    record = {
        "what": __doc__.splitlines()[0],
        "command": "python bench/portable_agreement.py " + " ".join(sys.argv[1:]),
        "date": started,
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, CPU",
        "versions": {"hf_emo": __version__, "transformers": transformers.__version__, "torch": torch.__version__},
        "model": args.model,
        "train_rows": args.train_rows,
        "results": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    lines = [
        f"# {record['what']}",
        "",
        f"`{record['command']}`, {started}, {record['machine']}; hf_emo {__version__}, transformers "
        f"{transformers.__version__}, torch {torch.__version__}. Student: {args.model}, {args.train_rows} "
        "training rows, 1 epoch, seed 0.",
        "",
        "| kind | task | test texts | labels identical | max score difference | card metadata keys |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['task']} | {r['test_texts']} | {r['labels_identical']} ({r['labels_identical_pct']} %)"
            f" | {r['max_abs_score_difference']:.1e} | {', '.join(r['card_metadata_keys'])} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
