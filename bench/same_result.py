"""Same seed, same figures, before and after a refactor: short runs of every training job.

    python bench/same_result.py run --checkout DIR --label before [--teacher TEACHER_RUN]
    python bench/same_result.py run --checkout . --label after [--teacher TEACHER_RUN]
    python bench/same_result.py compare before after

``run`` builds seeded stand-in models once (a 2-layer BERT encoder and a 2-layer Llama decoder with word-level
tokenizers, under ``bench/results/.same_result_models`` unless ``--models DIR``), then runs every job of ``hf-emo``
on them from the code in ``--checkout``, on a few rows of the real data (seed 7): ``train``, ``distil`` (from the
``train`` run), ``mtl`` (MTKD with that teacher), ``mtl_gradnorm``, ``stages``, ``consistency`` (an XED-en run as the
stage-1 student and
the teacher), ``generative`` (a LoRA adapter) and ``pretrain``. With ``--teacher`` (a fine-tuned REDv2 folder, e.g.
``make demo``'s) it also runs the embedded REDv2 ``train`` and ``distil`` configs on the real e5 (``--rows`` rows,
``--epochs`` epochs). Each run's metrics (every split but the record) and the SHA-256 of its weight files go to
``bench/results/same_result_<label>.json``; ``compare`` says, per run, whether the weights are bit-identical and the
largest difference of any metric.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("HF_EMO_BENCH_RESULTS") or ROOT / "bench" / "results")  # a test writes elsewhere
CONFIGS = Path("recipes") / "romanian_mtkd" / "configs"  # relative: the commands run in the checkout
WEIGHT_FILES = ("model.safetensors", "adapter_model.safetensors")
WORDS = (
    "happy sad angry afraid calm joy fear news sport good bad very not i am you it is the a this that day today "
    "great awful love hate market team win lose sadness anger surprise sunt fericit trist supărat frică bucurie și "
    "nu e o de la în cu "
    "pe am ai este mai foarte ce azi film bun rău"
).split()
WORDS = tuple(dict.fromkeys(WORDS))  # each word once: a repeated word would shift the ids after it
COMMON = [
    "--seed",
    "7",
    "--report_to",
    "none",
    "--save_strategy",
    "no",
    "--use_cpu",
    "true",
    "--per_device_eval_batch_size",
    "256",
]


def build_stand_ins(folder: Path) -> dict[str, str]:
    """Seeded tiny models (built once; later runs reuse the folder, so both sides read the same weights)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        BertConfig,
        BertModel,
        BertTokenizer,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    enc, dec = folder / "encoder", folder / "decoder"
    if not (enc / "config.json").is_file():
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
        enc.mkdir(parents=True, exist_ok=True)
        (enc / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        torch.manual_seed(0)
        BertModel(
            BertConfig(
                vocab_size=len(vocab),
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=64,
                max_position_embeddings=128,
            )
        ).save_pretrained(enc)
        BertTokenizer(vocab_file=str(enc / "vocab.txt"), do_lower_case=True, model_max_length=128).save_pretrained(enc)
    if not (dec / "config.json").is_file():
        vocab = {w: i for i, w in enumerate(["<s>", "</s>", "<unk>", *WORDS, ":", ",", "."])}
        tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        torch.manual_seed(0)
        LlamaForCausalLM(
            LlamaConfig(
                vocab_size=len(vocab),
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=4,
                num_attention_heads=2,
                num_key_value_heads=2,
                max_position_embeddings=256,
                bos_token_id=0,
                eos_token_id=1,
                tie_word_embeddings=False,
            )
        ).save_pretrained(dec)
        PreTrainedTokenizerFast(
            tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
        ).save_pretrained(dec)
    return {"encoder": str(enc), "decoder": str(dec)}


def commands(
    models: dict[str, str], runs: Path, teacher: str | None = None, rows: int = 256, epochs: int = 1
) -> dict[str, list[str]]:
    """``{name: hf-emo argv}`` in the order they run (``distil``, ``mtl`` read the ``train`` run; ``consistency``
    the ``stage1`` run)."""
    q = shlex.quote
    enc, dec, taught, stage1 = (q(str(p)) for p in (models["encoder"], models["decoder"], runs / "train",
                                                      runs / "stage1"))  # fmt: skip
    common = " ".join(COMMON)
    short = f"--max_steps 4 --per_device_train_batch_size 8 --learning_rate 1e-3 {common}"
    redv2 = f"--model_name_or_path {enc} --task redv2 --max_train_samples 64 --max_length 32"
    caps = q(json.dumps({"redv2": 64, "laroseda": 64}))
    two_tasks = f"mtl --model_name_or_path {enc} --tasks redv2 laroseda --max_train_samples {caps} --max_length 32"
    second = {"name": "romanian", "tasks": {"redv2": 32, "xed_language": 16}, "adversarial_tasks": ["xed_language"],
              "task_weights": {"xed_language": 0.5}}  # fmt: skip
    stages = q(json.dumps([{"name": "english", "tasks": {"dair_emotion": 32}}, second]))
    lines = {
        "train": f"train {redv2} --tune_threshold true {short}",
        "distil": f"distil {redv2} --teacher {taught} --temperature 2 --alpha_schedule linear {short}",
        "mtl": f"{two_tasks} --teacher {q(json.dumps({'redv2': str(runs / 'train')}))} --temperature 2 {short}",
        "mtl_gradnorm": f"{two_tasks} --loss_weighting gradnorm --task_sampler round_robin "
        f"--gradient_accumulation_steps 2 {short}",
        "stages": f"stages --model_name_or_path {enc} --tasks redv2 dair_emotion xed_language --primary_task redv2 "
        f"--max_length 16 --stages {stages} {short}",
        "stage1": f"train --model_name_or_path {enc} --task xed_en --max_train_samples 64 --max_length 24 {short}",
        "consistency": f"consistency --model_name_or_path {stage1} --teacher {stage1} --max_train_samples 48 "
        f"--max_length 24 --temperature 2 {short}",
        "generative": f"generative --model_name_or_path {dec} --task dair_emotion --max_train_samples 16 "
        "--max_eval_samples 16 --lora_r 4 --max_text_tokens 16 --per_device_eval_batch_size 8 --max_steps 4 "
        f"--per_device_train_batch_size 8 --learning_rate 1e-3 {' '.join(COMMON[:-2])}",
        "pretrain": f"pretrain --teacher {dec} --corpus_tasks redv2 --max_corpus_rows 64 --block_size 16 --max_steps 2 "
        f"--per_device_train_batch_size 4 --logging_steps 1 {' '.join(COMMON[:-2])}",
    }
    if teacher:
        real = f"--max_train_samples {rows} --num_train_epochs {epochs} --seed 7 --report_to none"
        base = f"--config {CONFIGS / 'baseline_embedded.yaml'}"
        lines["e5_train"] = f"train {base} {real}"
        lines["e5_distil"] = f"distil {base} --config {CONFIGS / 'kd_embedded.yaml'} --teacher {q(teacher)} {real}"
    return {name: shlex.split(line) for name, line in lines.items()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(
    checkout: Path,
    label: str,
    teacher: str | None = None,
    rows: int = 256,
    epochs: int = 1,
    models_dir: Path | None = None,
    only: list[str] | None = None,
) -> Path:
    out: dict = {
        "checkout_commit": subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "runs": {},
    }
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env.setdefault("HF_EMO_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    where = subprocess.run(
        [sys.executable, "-c", "import hf_emo; print(hf_emo.__file__)"],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not where.startswith(str(checkout)):
        raise SystemExit(f"hf_emo imports from {where}, not from {checkout}")
    models = build_stand_ins(models_dir or RESULTS / ".same_result_models")
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        for name, argv in commands(models, runs, teacher, rows, epochs).items():
            if only and name not in only and name not in ("train", "stage1"):
                continue
            folder = runs / name
            proc = subprocess.run(
                [sys.executable, "-m", "hf_emo.cli", *argv, "--output_dir", str(folder)],
                env=env,
                cwd=checkout,
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed in {checkout}:\n{proc.stderr[-3000:]}")
            record = json.loads((folder / "metrics.json").read_text())
            shown = [
                a.replace(tmp, "<runs>").replace(str(models_dir or RESULTS / ".same_result_models"), "<models>")
                for a in argv
            ]
            shown = ["<teacher run>" if a == teacher else a for a in shown]  # no local path in the record
            out["runs"][name] = {
                "command": "hf-emo " + " ".join(shown),
                "metrics": {k: v for k, v in record.items() if k not in ("run", "detail")},
                "weights_sha256": {f: sha256(folder / f) for f in WEIGHT_FILES if (folder / f).is_file()},
            }
            print(f"{name}: {out['runs'][name]['weights_sha256']}", flush=True)
    path = RESULTS / f"same_result_{label}.json"
    path.write_text(json.dumps(out, indent=2))
    return path


def _numbers(d: dict, prefix: str = "") -> dict[str, float]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_numbers(v, f"{prefix}{k}."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and "runtime" not in k and "per_second" not in k:
            out[f"{prefix}{k}"] = v
    return out


def compare(a: str, b: str) -> dict:
    left = json.loads((RESULTS / f"same_result_{a}.json").read_text())["runs"]
    right = json.loads((RESULTS / f"same_result_{b}.json").read_text())["runs"]
    report = {}
    for name in left:
        if name not in right:
            report[name] = "missing on the right"
            continue
        la, ra = left[name], right[name]
        ma = _numbers(la.get("metrics") or {"test": la["test"]})
        mb = _numbers(ra.get("metrics") or {"test": ra["test"]})
        diffs = [abs(ma[k] - mb[k]) for k in ma if k in mb]
        report[name] = {
            "weights_identical": la["weights_sha256"] == ra["weights_sha256"],
            "metrics_compared": len(diffs),
            "metrics_only_one_side": sorted(set(ma) ^ set(mb)),
            "max_metric_difference": max(diffs) if diffs else None,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--checkout", type=Path, default=ROOT)
    r.add_argument("--label", required=True)
    r.add_argument(
        "--teacher",
        default=None,
        help="a fine-tuned REDv2 run folder (e.g. make demo's): also run the embedded e5 train and distil configs",
    )
    r.add_argument("--rows", type=int, default=256, help="training rows of the e5 runs (a seeded subset)")
    r.add_argument("--epochs", type=int, default=1)
    r.add_argument("--models", type=Path, default=None, help="where the stand-in models are built (and reused)")
    r.add_argument("--only", nargs="+", default=None, help="run these jobs only (and the runs they read)")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = parser.parse_args()
    if args.cmd == "run":
        teacher = str(Path(args.teacher).resolve()) if args.teacher else None
        print(run(args.checkout.resolve(), args.label, teacher, args.rows, args.epochs, args.models, args.only))
    else:
        print(json.dumps(compare(args.a, args.b), indent=2))


if __name__ == "__main__":
    main()
