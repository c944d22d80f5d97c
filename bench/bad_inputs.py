"""Try bad inputs as a new user would (CLI, config, model, data, push) and record what each gives.

    .venv/bin/python bench/bad_inputs.py --out bench/results/bad_inputs.json --markdown bench/results/bad_inputs.md

Each case runs ``hf-emo`` in this process on a tiny model and small files made here. A case is **clear** when
the command ends with a non-zero code and one error line that names the thing (the file, row, column, label,
field or value it expects); **unclear** when it fails otherwise (a trace, or a message without the name);
**silent** when it ends with rc 0.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kill_resume import make_inputs  # noqa: E402


def run_cli(argv: list[str]) -> tuple[int, str]:
    from hf_emo.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse
            rc = e.code if isinstance(e.code, int) else 1
        except Exception as e:  # noqa: BLE001  (a trace: what the user would see)
            return 99, f"TRACE {type(e).__name__}: {e}"
    lines = [ln for ln in err.getvalue().splitlines() if ln.startswith("hf-emo") or "error" in ln.lower()]
    return rc, (lines[-1] if lines else err.getvalue().strip()[-300:])


def run_py(fn) -> tuple[int, str]:
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return 2, f"{type(e).__name__}: {e}"
    return 0, ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=None)
    p.add_argument("--markdown", default=None)
    args = p.parse_args()
    import hf_emo  # noqa: F401
    from hf_emo import DistillationConfig, load_local

    with tempfile.TemporaryDirectory(prefix="hf_emo_bad_") as tmp:
        root = Path(tmp)
        enc, cfg = make_inputs(root)
        run = root / "trained"
        assert (
            run_cli(
                [
                    "train",
                    "--config",
                    str(cfg),
                    "--output_dir",
                    str(run),
                    "--save_strategy",
                    "no",
                    "--num_train_epochs",
                    "1",
                ]
            )[0]
            == 0
        )

        def f(name: str, body: bytes | str) -> str:
            path = root / name
            path.write_bytes(body if isinstance(body, bytes) else body.encode())
            return str(path)

        def train(*extra: str, out: str | None = None) -> list[str]:
            return ["train", "--config", str(cfg), "--output_dir", out or str(root / f"o{time.time_ns()}"), *extra]

        def local(path: str, **kw):
            return lambda: run_py(
                lambda: load_local(
                    {"train": path, **kw.pop("more", {})},
                    text_column="text",
                    label_columns="y",
                    problem_type=kw.pop("problem_type", "single_label"),
                    **kw,
                )
            )

        good = root / "train.csv"
        old_run = root / "old_run"
        old_run.mkdir()
        for name in ("config.json", "model.safetensors", "metrics.json"):
            (old_run / name).write_bytes((run / name).read_bytes())
        other_tok = root / "other-enc"
        from transformers import BertModel, BertTokenizer

        from hf_emo.models import PooledClassifier  # noqa: F401  (registers the class)

        vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "zz", "happy"])}
        BertTokenizer(vocab=vocab).save_pretrained(other_tok)
        m = BertModel.from_pretrained(enc)
        m.resize_token_embeddings(len(vocab))
        m.save_pretrained(other_tok)

        def damaged(source: Path, name: str, truncate: bool) -> str:
            """A copy of a finished run with half its weights, or without its tokenizer files."""
            import shutil

            copy = root / name
            shutil.copytree(source, copy)
            if truncate:
                weights = copy / "model.safetensors"
                weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
            else:
                for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
                    (copy / f).unlink(missing_ok=True)
            return str(copy)

        cases = [
            # (area, what, how, expected substring)
            (
                "config",
                "YAML syntax error",
                lambda: run_cli(["train", "--config", f("bad.yaml", "a: [1\nb: 2\n")]),
                "bad.yaml",
            ),
            (
                "config",
                "config file missing",
                lambda: run_cli(["train", "--config", str(root / "nope.yaml")]),
                "nope.yaml",
            ),
            ("config", "num_train_epochs -1", lambda: run_cli(train("--num_train_epochs", "-1")), "num_train_epochs"),
            ("config", "max_length -5", lambda: run_cli(train("--max_length", "-5")), "max_length"),
            (
                "config",
                "batch size 0",
                lambda: run_cli(train("--per_device_train_batch_size", "0")),
                "per_device_train_batch_size",
            ),
            ("config", "negative learning rate", lambda: run_cli(train("--learning_rate", "-0.1")), "learning_rate"),
            (
                "config",
                "temperature '2' (str, Python API)",
                lambda: run_py(lambda: DistillationConfig(output_dir="x", report_to="none", temperature="2")),
                "temperature",
            ),
            ("config", "unknown task", lambda: run_cli(train("--task", "moroco", "--train_file", "")), "moroco"),
            ("config", "pooling 'max'", lambda: run_cli(train("--pooling", "max")), "pooling"),
            ("config", "problem_type 'multi'", lambda: run_cli(train("--problem_type", "multi")), "problem_type"),
            (
                "config",
                "unknown kd_loss",
                lambda: run_cli(
                    [
                        "distil",
                        "--config",
                        str(cfg),
                        "--teacher",
                        str(run),
                        "--kd_loss",
                        "kl_foo",
                        "--output_dir",
                        str(root / "kd0"),
                    ]
                ),
                "kl_foo",
            ),
            ("output", "non-empty output_dir", lambda: run_cli(train(out=str(run))), str(run)),
            (
                "output",
                "resume without a checkpoint",
                lambda: run_cli(train("--resume_from_checkpoint", "true")),
                "checkpoint",
            ),
            (
                "output",
                "resume from a folder that is no checkpoint",
                lambda: run_cli(train("--resume_from_checkpoint", str(enc))),
                str(enc),
            ),
            (
                "model",
                "model folder missing",
                lambda: run_cli(train("--model_name_or_path", str(root / "nomodel"))),
                "nomodel",
            ),
            (
                "model",
                "folder without config.json",
                lambda: run_cli(train("--model_name_or_path", str(root))),
                "config.json",
            ),
            ("model", "model path is a file", lambda: run_cli(train("--model_name_or_path", str(good))), "train.csv"),
            (
                "model",
                "runs/x that does not exist (not a Hub id)",
                lambda: run_cli(["predict", "--model", "bench/no-such-run", "hi"]),
                "bench/no-such-run",
            ),
            (
                "predict",
                "bare encoder (no trained head)",
                lambda: run_cli(["predict", "--model", str(enc), "happy"]),
                "head",
            ),
            ("predict", "empty text", lambda: run_cli(["predict", "--model", str(run), ""]), "empty"),
            (
                "predict",
                "input file missing",
                lambda: run_cli(["predict", "--model", str(run), "--input", str(root / "in.txt")]),
                "in.txt",
            ),
            ("data", "0-byte CSV", local(f("zero.csv", b"")), "zero.csv"),
            ("data", "non-UTF-8 CSV", local(f("latin.csv", b"text,y\ncaf\xe9 bun,joy\n")), "latin.csv"),
            ("data", "unclosed quote", local(f("quote.csv", b'text,y\n"open,joy\nx,y\n')), "quote.csv"),
            ("data", "unquoted comma in the text", local(f("comma.csv", "text,y\nhello, world,joy\n")), "row 2"),
            ("data", "header row repeated", local(f("hdr.csv", "text,y\na b,joy\ntext,y\n")), "row 3"),
            (
                "data",
                "label only in test",
                local(f("tr.csv", "text,y\na b,joy\n"), more={"test": f("te.csv", "text,y\nc d,anger\n")}),
                "anger",
            ),
            (
                "data",
                "a|b without label_sep",
                local(f("ml.csv", "text,y\na b,joy|fear\n"), problem_type="multi_label"),
                "label_sep",
            ),
            ("data", "missing column", local(f("nocol.csv", "text,label\na b,joy\n")), "'y'"),
            ("data", "empty text", local(f("empty_text.csv", 'text,y\n"  ",joy\n')), "row 2"),
            ("data", "missing label", local(f("nolab.csv", "text,y\na b,\n")), "row 2"),
            ("data", "unsupported file type", local(f("data.xlsx", "x")), ".xlsx"),
            ("data", "broken JSON", local(f("bad.json", '[{"text": 1,')), "bad.json"),
            (
                "evaluate",
                "file with labels the model lacks",
                lambda: run_cli(
                    [
                        "evaluate",
                        "--model",
                        str(run),
                        "--file",
                        f("ev.csv", "text,emotion\nhappy,anger\n"),
                        "--label-columns",
                        "emotion",
                    ]
                ),
                "anger",
            ),
            (
                "evaluate",
                "unknown split",
                lambda: run_cli(["evaluate", "--model", str(run), "--task", "redv2", "--split", "dev"]),
                "dev",
            ),
            (
                "evaluate",
                "unknown task",
                lambda: run_cli(["evaluate", "--model", str(run), "--task", "moroco"]),
                "moroco",
            ),
            (
                "distil",
                "no teacher",
                lambda: run_cli(["distil", "--config", str(cfg), "--output_dir", str(root / "kd1")]),
                "teacher",
            ),
            (
                "distil",
                "live teacher with another tokenizer",
                lambda: run_cli(
                    [
                        "distil",
                        "--config",
                        str(cfg),
                        "--model_name_or_path",
                        str(other_tok),
                        "--teacher",
                        str(run),
                        "--teacher_mode",
                        "live",
                        "--output_dir",
                        str(root / "kd2"),
                    ]
                ),
                "tokenizer",
            ),
            (
                "distil",
                "teacher with other labels",
                lambda: run_cli(
                    [
                        "distil",
                        "--config",
                        str(cfg),
                        "--teacher",
                        str(run),
                        "--label_columns",
                        "emotion",
                        "--train_file",
                        f("tr2.csv", "text,emotion\na b,x\nc d,z\n"),
                        "--validation_file",
                        "",
                        "--test_file",
                        "",
                        "--output_dir",
                        str(root / "kd3"),
                    ]
                ),
                "label",
            ),
            (
                "push",
                "run of an older version (no run_files.json)",
                lambda: run_cli(
                    ["push", "--output-dir", str(old_run), "--repo-id", "me/x", "--dry-run", str(root / "dry")]
                ),
                "run_files.json",
            ),
            (
                "push",
                "offline / Hub unreachable",
                lambda: run_cli(["push", "--output-dir", str(run), "--repo-id", "me/x", "--token", "hf_" + "x" * 30]),
                "me/x",
            ),
            (
                "push",
                "not a run folder",
                lambda: run_cli(
                    ["push", "--output-dir", str(root), "--repo-id", "me/x", "--dry-run", str(root / "dry2")]
                ),
                "not a finished run",
            ),
            # -- issue 37: what a new user tried and the list above did not hold
            (
                "output",
                "overwrite with a training file that fails to parse (earlier run kept)",
                lambda: run_cli(
                    train(
                        "--overwrite_output_dir",
                        "true",
                        "--train_file",
                        f("broken.csv", 'text,emotion\n"a,joy\n'),
                        out=str(old_run),
                    )
                ),
                "broken.csv",
            ),
            (
                "output",
                "a second run into a folder another live run holds",
                lambda: (
                    (root / "busy").mkdir(exist_ok=True),
                    (root / "busy" / ".hf_emo.lock").write_text(
                        json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now"})
                    ),
                    run_cli(train(out=str(root / "busy"))),
                )[-1],
                "in use by another hf-emo run",
            ),
            (
                "config",
                "learning rate 1e30 (training diverges)",
                lambda: run_cli(train("--learning_rate", "1e30")),
                "training diverged",
            ),
            (
                "config",
                "report_to a tracker that is not installed",
                lambda: run_cli(train("--report_to", "comet_ml")),
                "not installed",
            ),
            (
                "data",
                "regression target inf",
                local(f("inf.csv", "text,y\na,0.5\nb,inf\n"), problem_type="regression"),
                "non-finite target",
            ),
            (
                "data",
                "label_sep ';' on values joined by ','",
                local(f("sep.csv", 'text,y\na,"joy,anger"\nb,joy\n'), problem_type="multi_label", label_sep=";"),
                "splits no label value",
            ),
            (
                "evaluate",
                "threshold 1.5",
                lambda: run_cli(
                    [
                        "evaluate",
                        "--model",
                        str(run),
                        "--file",
                        str(good),
                        "--label-columns",
                        "emotion",
                        "--threshold",
                        "1.5",
                    ]
                ),
                "threshold must be in",
            ),
            (
                "table",
                "a row that matches no run",
                lambda: run_cli(["table", "seeds", "--row", f"X={root}/none_s*", "--metric", "f1_micro"]),
                "matches no finished run",
            ),
            (
                "push",
                "dry run into a folder that holds files",
                lambda: (
                    (root / "full").mkdir(exist_ok=True),
                    (root / "full" / "notes.md").write_text("mine"),
                    run_cli(["push", "--output-dir", str(run), "--repo-id", "me/x", "--dry-run", str(root / "full")]),
                )[-1],
                "already holds files",
            ),
            (
                "model",
                "predict with truncated weights",
                lambda: run_cli(["predict", "--model", damaged(run, "truncated", truncate=True), "i am happy"]),
                "damaged or truncated",
            ),
            (
                "model",
                "predict from a folder without its tokenizer",
                lambda: run_cli(["predict", "--model", damaged(run, "no_tokenizer", truncate=False), "i am happy"]),
                "holds no usable tokenizer",
            ),
        ]
        os.environ["HF_HUB_OFFLINE"] = "1"
        results = []
        for area, what, how, expect in cases:
            rc, message = how()
            one_line = "\n" not in message.strip()
            verdict = (
                "silent"
                if rc == 0
                else (
                    "clear"
                    if (rc in (1, 2) and one_line and expect in message and not message.startswith("TRACE"))
                    else "unclear"
                )
            )
            results.append(
                {
                    "area": area,
                    "input": what,
                    "rc": rc,
                    "verdict": verdict,
                    "message": message.replace(str(root), "<tmp>")[:300],
                }
            )
            print(f"{verdict:8} rc={rc:<3} {area:9} {what}: {results[-1]['message'][:140]}", flush=True)
    counts = {v: sum(r["verdict"] == v for r in results) for v in ("clear", "unclear", "silent")}
    record = {
        "benchmark": "bad_inputs",
        "cases": len(results),
        **counts,
        "results": results,
        "date": time.strftime("%Y-%m-%d"),
        "command": "python bench/bad_inputs.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps(counts))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    if args.markdown:
        lines = ["| area | input | rc | verdict | message |", "|---|---|---|---|---|"]
        for r in results:
            msg = r["message"].replace("|", "\\|")
            lines.append(f"| {r['area']} | {r['input']} | {r['rc']} | {r['verdict']} | {msg} |")
        Path(args.markdown).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
