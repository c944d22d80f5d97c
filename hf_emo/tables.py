"""Result tables from run folders (each holds the ``metrics.json`` that ``hf-emo train`` / ``distil`` write):
mean +/- std over seeds, and Matei's Table 4 (temperature x alpha) with a heat map."""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .report import plot_heatmap  # noqa: F401  (tables and their heat maps: one import)

__all__ = [
    "load_run",
    "seed_table",
    "paired_difference",
    "PairedDifference",
    "mean_json_table",
    "kd_grid",
    "kd_grid_table",
    "plot_heatmap",
]


def load_run(run_dir: str | Path) -> dict:
    """The ``metrics.json`` of a run folder (a clear error when the run has not finished)."""
    path = Path(run_dir) / "metrics.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: has the run in {run_dir} finished?")
    return json.loads(path.read_text())


def _expand(patterns: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in patterns:
        hits = sorted(glob.glob(str(p)))
        out += [Path(h) for h in hits if (Path(h) / "metrics.json").is_file()]
    return out


def _with_task_prefix(result: dict, split: str) -> dict:
    """A single-task run also answers ``<task>_<metric>`` (the multi-task runs' names) with its own ``<metric>``,
    so one table can hold single-task baselines next to multi-task rows."""
    run = result.get("run", {})
    task = run.get("task")
    if not task or "tasks" in run or split not in result:
        return result
    extra = {f"{task}_{k}": v for k, v in result[split].items()}
    return {**result, split: {**extra, **result[split]}}


def _mean_std(values: Sequence[float], spread: str = "std") -> str:
    """``mean ± std`` (sample std) or ``mean ± half-width of the 95% t confidence interval``, in percent."""
    v = 100 * np.asarray(values, dtype=float)
    if len(v) == 1:
        return f"{v[0]:.2f}"
    return f"{v.mean():.2f} ± {_spread(v, spread):.2f}"


SPREADS = ("std", "ci95")


def _spread(values: np.ndarray, spread: str) -> float:
    return float(_ci95(values) if spread == "ci95" else values.std(ddof=1))


def seed_table(
    rows: dict[str, Iterable[str | Path]],
    metrics: Sequence[str],
    split: str = "test",
    caption: str = "",
    spread: str = "std",
    allow_missing: bool = False,
    baseline: str | None = None,
) -> str:
    """A Markdown table, one row per name, cells ``mean ± spread`` (percent) over the matched runs.

    A pattern may end in ``::SPLIT`` to read that row from another split of the same runs (e.g. ``test_stage1``
    or ``test_teacher`` of a consistency run). ``spread``: ``std`` (sample standard deviation) or ``ci95`` (half-width
    of the 95% Student-t interval, as paper 002 reports). ``allow_missing`` writes ``–`` where no run of a row has
    the metric (a task the row did not train); a metric missing from only some runs of a row is still an error.

    ``baseline`` names a row: every other row's runs are paired with the baseline's by seed (``run.seed``) and a
    second table gives the mean difference with its 95% interval (:func:`paired_difference`); a cell is marked ▲
    (above) or ▼ (below) only when that interval excludes 0. Fewer than 2 pairs: no interval, no mark.
    """
    if spread not in SPREADS:
        raise ValueError(f"spread must be one of {SPREADS}, got {spread!r}")
    if baseline is not None and baseline not in rows:
        raise ValueError(f"baseline row {baseline!r} is not one of the rows {list(rows)}")
    head = "| run | n | " + " | ".join(metrics) + " |"
    lines = ([caption, ""] if caption else []) + [head, "|---|---|" + "---|" * len(metrics)]
    default_split = split
    values: dict[str, dict[str, np.ndarray]] = {}  # row -> metric -> its runs' values
    seeds: dict[str, list] = {}  # row -> its runs' seeds (run.seed; None when a record has none)
    counts: dict[str, int] = {}
    for name, patterns in rows.items():
        patterns = [patterns] if isinstance(patterns, (str, Path)) else list(patterns)
        splits = {str(p).partition("::")[2] or default_split for p in patterns}
        if len(splits) > 1:
            raise ValueError(f"row {name!r}: its patterns name different splits {sorted(splits)}")
        split = splits.pop() if splits else default_split
        runs = _expand([str(p).partition("::")[0] for p in patterns])
        if not runs and not allow_missing:
            raise FileNotFoundError(
                f"row {name!r}: {', '.join(map(str, patterns))} matches no finished run (a folder with "
                "metrics.json); check the pattern, or pass --allow-missing to show the row as '–'"
            )
        res = [_with_task_prefix(load_run(r), split) for r in runs]
        counts[name], values[name] = len(runs), {}
        seeds[name] = [x.get("run", {}).get("seed") for x in res]
        for m in metrics if runs else ():
            missing = [str(r) for r, x in zip(runs, res) if m not in x.get(split, {})]
            if missing and not (allow_missing and len(missing) == len(runs)):
                raise KeyError(f"metric {m!r} not in split {split!r} of {missing[0]}/metrics.json")
            if not missing:
                values[name][m] = np.asarray([x[split][m] for x in res], dtype=float)
    diffs: dict[str, dict[str, PairedDifference | None]] = {}
    if baseline is not None:
        for name in rows:
            if name != baseline:
                diffs[name] = {
                    m: paired_difference(
                        dict(zip(seeds[name], values[name][m])), dict(zip(seeds[baseline], values[baseline][m]))
                    )
                    for m in metrics
                    if m in values[name] and m in values[baseline]
                }
    for name in rows:
        cells = []
        for m in metrics:
            if m not in values[name]:
                cells.append("–")
                continue
            d = diffs.get(name, {}).get(m)
            cells.append(_mean_std(values[name][m], spread) + (d.mark if d is not None else ""))
        lines.append(f"| {name} | {counts[name]} | " + " | ".join(cells) + " |")
    if baseline is not None:
        lines += [
            "",
            f"Paired by seed against row {baseline!r}: the mean difference (points) and its 95% interval "
            "(Student t; bootstrap from 5 pairs up), n = seeds in both rows. ▲ / ▼ mark a difference "
            "whose interval excludes 0.",
            "",
            "| run | " + " | ".join(f"Δ {m}" for m in metrics) + " |",
            "|---|" + "---|" * len(metrics),
        ]
        for name, per_metric in diffs.items():
            cells = [("–" if per_metric.get(m) is None else str(per_metric[m])) for m in metrics]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PairedDifference:
    """The mean of ``row - baseline`` over the seeds both have (points), with its 95% interval."""

    mean: float
    low: float
    high: float
    n: int
    method: str  # "t" or "bootstrap"

    @property
    def mark(self) -> str:
        """``" ▲"`` / ``" ▼"`` when the interval excludes 0, else ``""``."""
        return " ▲" if self.low > 0 else (" ▼" if self.high < 0 else "")

    def __str__(self) -> str:
        how = ", bootstrap" if self.method == "bootstrap" else ""
        return f"{self.mean:+.2f} [{self.low:+.2f}, {self.high:+.2f}] (n={self.n}{how})"


def paired_difference(row: dict, base: dict, *, resamples: int = 10_000, seed: int = 0) -> PairedDifference | None:
    """Runs paired by seed (``{seed: value}``, values in [0, 1]): the mean difference in points and its 95% interval,
    a Student-t interval below 5 pairs and a percentile bootstrap of the mean (``resamples``, seeded) from 5 up.
    ``None`` with fewer than 2 pairs (a record without a seed pairs with nothing)."""
    common = sorted(k for k in set(row) & set(base) if k is not None)
    if len(common) < 2:
        return None
    d = 100 * np.array([row[k] - base[k] for k in common], dtype=float)
    mean = float(d.mean())
    if len(d) < 5:
        half = _ci95(d)
        return PairedDifference(mean, mean - half, mean + half, len(d), "t")
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(1)
    low, high = np.percentile(means, [2.5, 97.5])
    return PairedDifference(mean, float(low), float(high), len(d), "bootstrap")


def _alpha_label(kd: dict) -> str:
    if kd.get("alpha_schedule") == "linear":
        return f"{kd['alpha_start']:g}→{kd['alpha_end']:g}"
    return f"{kd['alpha']:g}"


def kd_settings(record: dict) -> dict | None:
    """A distillation run's KD settings (temperature, alpha or its schedule, KD loss, teachers): its method's
    settings (``run.method.settings``), or ``run.distillation`` in records written before the method held them;
    ``None`` for a run without a KD term."""
    run = record.get("run", {})
    settings = (run.get("method") or {}).get("settings") or {}
    if "temperature" in settings and ("alpha" in settings or "alpha_start" in settings):
        return settings
    return run.get("distillation")


def kd_grid(run_dirs: Iterable[str | Path], metric: str = "f1_micro", split: str = "test"):
    """``(temperatures, alpha_labels, mean, std)`` over the distillation runs, grouped by (T, alpha)."""
    cells: dict[tuple[float, str], list[float]] = {}
    for r in _expand(run_dirs):
        res = load_run(r)
        kd = kd_settings(res)
        if not kd:
            continue
        cells.setdefault((float(kd["temperature"]), _alpha_label(kd)), []).append(res[split][metric])
    temps = sorted({t for t, _ in cells})
    alphas = sorted({a for _, a in cells}, key=lambda a: (("→" in a), float(a.split("→")[0])))
    mean = np.full((len(temps), len(alphas)), np.nan)
    std = np.full_like(mean, np.nan)
    for (t, a), v in cells.items():
        i, j = temps.index(t), alphas.index(a)
        mean[i, j] = 100 * np.mean(v)
        std[i, j] = 100 * np.std(v, ddof=1) if len(v) > 1 else np.nan
    return temps, alphas, mean, std


def kd_grid_table(
    run_dirs: Iterable[str | Path], metric: str = "f1_micro", split: str = "test", caption: str = ""
) -> tuple[str, tuple]:
    """Matei Table 4 as Markdown: rows T, columns alpha (an arrow marks teacher annealing)."""
    temps, alphas, mean, std = kd_grid(run_dirs, metric, split)
    lines = ([caption, ""] if caption else []) + [
        "| T \\ alpha | " + " | ".join(alphas) + " |",
        "|---|" + "---|" * len(alphas),
    ]
    for i, t in enumerate(temps):
        cells = [
            "–"
            if np.isnan(mean[i, j])
            else (f"{mean[i, j]:.2f}" + ("" if np.isnan(std[i, j]) else f" ± {std[i, j]:.2f}"))
            for j in range(len(alphas))
        ]
        lines.append(f"| {t:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n", (temps, alphas, mean, std)


def mean_json_table(patterns: Iterable[str | Path], key: str, caption: str = "", spread: str = "std") -> str:
    """Markdown: each numeric entry of the dict at dotted ``key`` of the runs' metrics.json (e.g.
    ``run.weight_noise_correlations``), mean ± spread over the runs (NaN entries skipped)."""
    runs = _expand(list(patterns))
    if not runs:
        raise FileNotFoundError(f"no finished run matches {list(patterns)}")
    values: dict[str, list[float]] = {}
    for r in runs:
        node = load_run(r)
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"{r}/metrics.json has no {key!r}")
            node = node[part]
        for k, v in node.items():
            if isinstance(v, (int, float)) and v == v:
                values.setdefault(k, []).append(float(v))
    lines = ([caption, ""] if caption else []) + ["| entry | n | mean |", "|---|---|---|"]
    for k, vs in values.items():
        m = np.mean(vs)
        cell = f"{m:.3f}" if len(vs) == 1 else f"{m:.3f} ± {_spread(np.asarray(vs), spread):.3f}"
        lines.append(f"| {k} | {len(vs)} | {cell} |")
    return "\n".join(lines) + "\n"


def _ci95(values: Sequence[float]) -> float:
    """Half-width of the 95% Student-t confidence interval of the mean."""
    from scipy.stats import t

    v = np.asarray(values, float)
    return float(t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def mean_task_weights(patterns: list[str]) -> tuple[list[dict], int]:
    """GradNorm weights per step averaged over the runs' ``task_weights.json`` (up to the shortest run)."""
    import glob

    files = [Path(f) for p in patterns for f in sorted(glob.glob(str(Path(p) / "task_weights.json")))]
    if not files:
        raise FileNotFoundError(f"no task_weights.json (GradNorm runs) under {patterns}")
    runs = [json.loads(f.read_text()) for f in files]
    steps = min(len(r) for r in runs)
    keys = [k for k in runs[0][0] if k.startswith("task_weight_")]
    rows = [
        {"step": runs[0][i]["step"], **{k: float(np.mean([r[i][k] for r in runs])) for k in keys}} for i in range(steps)
    ]
    return rows, len(runs)


def probability_table(
    models: dict[str, str],
    *,
    task: str = "redv2",
    split: str = "test",
    n: int = 4,
    sample_seed: int = 0,
    rows: list[int] | None = None,
    data_dir: str | None = None,
    caption: str = "",
) -> str:
    """Markdown: texts of a split (the given ``rows``, else a seeded sample of ``n``), their gold labels, and per
    model the labels it predicts with their probabilities in percent (Matei Table 6 lists every label above the
    threshold). ``models`` maps a column name to a single- or multi-task model folder."""
    from .inference import predict, predict_multitask
    from .jobs.evaluate import load_eval_split
    from .jobs.record import inference_device
    from .jobs.run_folder import JobError
    from .data import TASKS
    from .models import load_classifier, load_tokenizer
    from .inference import model_task_spec
    from .models.factory import load_config

    ds, spec = load_eval_split(TASKS.get(task), task=task, split=split, data_dir=data_dir)
    if rows:
        bad = [r for r in rows if not 0 <= r < len(ds)]
        if bad:
            raise JobError(f"--rows {bad}: the {task} {split} split has rows 0..{len(ds) - 1}")
        ds = ds.select(rows)
    else:
        ds = ds.shuffle(seed=sample_seed).select(range(min(n, len(ds))))
    texts = list(ds["text"])
    gold = None
    if spec.problem_type != "regression":
        gold = [
            [nm for nm, v in zip(spec.label_names, y) if v]
            if spec.problem_type == "multi_label"
            else [spec.label_names[int(y)]]
            for y in ds["labels"]
        ]
    cols = []
    for name, path in models.items():
        if load_config(path).model_type == "hf_emo_multitask":
            from transformers import AutoModel

            from .zoo import resolve_model

            mt = AutoModel.from_pretrained(resolve_model(path))
            if task not in mt.task_names:
                raise JobError(f"model {path} has no head for task {task!r} (its tasks: {mt.task_names})")
            pred = predict_multitask(mt, load_tokenizer(path), texts, device=inference_device())[task]
        else:
            model = load_classifier(path)
            own = model_task_spec(model)
            if own.name != task:
                raise JobError(f"model {path} is for task {own.name!r}, not {task!r}")
            pred = predict(model, load_tokenizer(path), texts, device=inference_device())
        cells = []
        for labels, probs in zip(pred.labels, pred.probabilities):
            scores = dict(zip(pred.label_names, probs.tolist()))
            ranked = sorted(labels, key=lambda lab: -scores[lab])
            cells.append(", ".join(f"{lab} ({100 * scores[lab]:.0f})" for lab in ranked) or "–")
        cols.append((name, cells))
    head = "| text | gold | " + " | ".join(nm for nm, _ in cols) + " |"
    lines = ([caption, ""] if caption else []) + [head, "|---|---|" + "---|" * len(cols)]
    for i, t in enumerate(texts):
        clean = t.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {clean} | {', '.join(gold[i]) if gold else ''} | " + " | ".join(c[i] for _, c in cols) + " |")
    return "\n".join(lines) + "\n"
