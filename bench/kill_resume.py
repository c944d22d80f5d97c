"""Kill a training run at a random step with SIGKILL, resume it, and compare with a straight run.

    .venv/bin/python bench/kill_resume.py --repeats 5 --out bench/results/kill_resume.json

A tiny BERT (2 layers, hidden 32) is fine-tuned through ``hf-emo train`` on 60 rows for 40 steps, saving a
checkpoint every step (so kills often land inside a save). Each repeat starts a run, SIGKILLs it once a random
number of checkpoints exist (plus a random delay of up to 0.05 s), resumes it with ``--resume_from_checkpoint
true`` and compares the final weights with the straight run's. Prints and writes one JSON record.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

WORDS = "happy sad angry afraid calm joy fear good bad very not i am you it is the a this that day".split()
LABELS = ("joy", "sadness", "fear")


def make_inputs(root: Path) -> tuple[Path, Path]:
    from transformers import BertConfig, BertModel, BertTokenizer

    enc = root / "tiny-bert"
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}
    BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=64).save_pretrained(enc)
    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    ).save_pretrained(enc)
    rng = random.Random(0)
    for split, n in (("train", 60), ("validation", 15), ("test", 15)):
        rows = [(" ".join(rng.choice(WORDS) for _ in range(6)), rng.choice(LABELS)) for _ in range(n)]
        (root / f"{split}.csv").write_text("text,emotion\n" + "".join(f"{t},{y}\n" for t, y in rows))
    cfg = root / "c.yaml"
    cfg.write_text(f"""model_name_or_path: {enc}
task: null
train_file: {root / "train.csv"}
validation_file: {root / "validation.csv"}
test_file: {root / "test.csv"}
label_columns: [emotion]
problem_type: single_label
max_length: 16
num_train_epochs: 4
per_device_train_batch_size: 6
learning_rate: 5.0e-3
save_strategy: steps
save_steps: 1
logging_steps: 1
report_to: none
dataloader_pin_memory: false
seed: 11
""")
    return enc, cfg


def hf_emo(*args: str) -> list[str]:
    return [sys.executable, "-m", "hf_emo.cli", *args]


def max_diff(a: Path, b: Path) -> float:
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    return max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="seeds the kill points")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    rng = random.Random(args.seed)
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory(prefix="hf_emo_kill_") as tmp:
        root = Path(tmp)
        _, cfg = make_inputs(root)
        straight = root / "straight"
        subprocess.run(
            hf_emo("train", "--config", str(cfg), "--output_dir", str(straight)),
            check=True,
            env=env,
            capture_output=True,
        )
        total = len(list(straight.glob("checkpoint-*")))
        repeats = []
        for r in range(args.repeats):
            out = root / f"killed{r}"
            kill_after = rng.randint(2, total - 2)
            delay = rng.uniform(0.0, 0.05)
            proc = subprocess.Popen(
                hf_emo("train", "--config", str(cfg), "--output_dir", str(out)),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while proc.poll() is None and len(list(out.glob("checkpoint-*"))) < kill_after:
                time.sleep(0.02)
            time.sleep(delay)
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            left = sorted(int(d.name.split("-")[1]) for d in out.glob("checkpoint-*"))
            incomplete = [s for s in left if not (out / f"checkpoint-{s}" / "trainer_state.json").is_file()]
            res = subprocess.run(
                hf_emo("train", "--config", str(cfg), "--output_dir", str(out), "--resume_from_checkpoint", "true"),
                env=env,
                capture_output=True,
                text=True,
            )
            ok = res.returncode == 0 and (out / "metrics.json").is_file()
            diff = max_diff(straight, out) if ok else None
            resumed_from = json.loads((out / "metrics.json").read_text())["run"].get("resumed_from") if ok else None
            repeats.append(
                {
                    "finished_before_kill": finished,
                    "kill_after_checkpoints": kill_after,
                    "delay_s": round(delay, 3),
                    "checkpoints_left": len(left),
                    "incomplete_checkpoints": incomplete,
                    "resumed_from": Path(resumed_from).name if resumed_from else None,
                    "resume_rc": res.returncode,
                    "max_abs_weight_diff": diff,
                }
            )
            print(json.dumps(repeats[-1]), flush=True)
    record = {
        "benchmark": "kill_resume",
        "steps": total,
        "repeats": repeats,
        "all_resumed": all(x["resume_rc"] == 0 for x in repeats),
        "killed_mid_run": sum(not x["finished_before_kill"] for x in repeats),
        "max_abs_weight_diff": max((x["max_abs_weight_diff"] or 0.0) for x in repeats),
        "torch": torch.__version__,
        "machine": f"{os.cpu_count()} CPU cores",
        "date": time.strftime("%Y-%m-%d"),
        "command": "python bench/kill_resume.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps({k: v for k, v in record.items() if k != "repeats"}, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
