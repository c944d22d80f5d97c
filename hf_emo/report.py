"""Run reports: ``metrics.json``, ``report.md``, ``confusion_matrix.png`` and ``training_curves.png``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .data.spec import TaskSpec


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(spec: TaskSpec, detail: dict, path: Path) -> Path | None:
    """Single-label: one KxK matrix. Multi-label: one 2x2 matrix per label (true x predicted)."""
    cm = detail.get("confusion_matrix")
    if cm is None:
        return None
    plt = _plt()
    if spec.problem_type == "single_label":
        m = np.asarray(cm)
        k = len(spec.label_names)
        fig, ax = plt.subplots(figsize=(1.1 * k + 2, 1.1 * k + 1.5))
        im = ax.imshow(m, cmap="Blues")
        ax.set_xticks(range(k), spec.label_names, rotation=45, ha="right")
        ax.set_yticks(range(k), spec.label_names)
        for i in range(k):
            for j in range(k):
                ax.text(
                    j,
                    i,
                    int(m[i, j]),
                    ha="center",
                    va="center",
                    color="white" if m[i, j] > m.max() / 2 else "black",
                    fontsize=9,
                )
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        fig.colorbar(im, ax=ax, fraction=0.046)
    else:
        names = list(cm)
        cols = min(4, len(names))
        rows = int(np.ceil(len(names) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
        for ax in axes.ravel()[len(names) :]:
            ax.axis("off")
        for ax, name in zip(axes.ravel(), names):
            m = np.asarray(cm[name])
            ax.imshow(m, cmap="Blues")
            for i in range(2):
                for j in range(2):
                    ax.text(
                        j,
                        i,
                        int(m[i, j]),
                        ha="center",
                        va="center",
                        color="white" if m[i, j] > m.max() / 2 else "black",
                        fontsize=9,
                    )
            ax.set_title(name, fontsize=10)
            ax.set_xticks([0, 1], ["0", "1"])
            ax.set_yticks([0, 1], ["0", "1"])
            ax.set_xlabel("predicted", fontsize=8)
            ax.set_ylabel("true", fontsize=8)
    fig.suptitle(f"{spec.name}: test confusion matrix" + (" per label" if spec.problem_type == "multi_label" else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_training_curves(log_history: list[dict], metric: str, path: Path) -> Path | None:
    """Training loss by step, validation loss and the selection metric by epoch."""
    train = [(h["step"], h["loss"]) for h in log_history if "loss" in h and "step" in h]
    evals = [h for h in log_history if "eval_loss" in h]
    if not train and not evals:
        return None
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    if train:
        a1.plot(*zip(*train), label="train loss")
    if evals:
        a1.plot([h["step"] for h in evals], [h["eval_loss"] for h in evals], "o-", label="validation loss")
        key = f"eval_{metric}"
        pts = [(h.get("epoch", h["step"]), h[key]) for h in evals if key in h]
        if pts:
            a2.plot(*zip(*pts), "o-", color="tab:green")
            a2.set_ylabel(metric)
    a1.set_xlabel("step")
    a1.legend()
    a1.set_title("loss")
    a2.set_xlabel("epoch")
    a2.set_title(f"validation {metric}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_loss_parts(
    log_history: list[dict], parts: Sequence[str], path: Path, title: str = "training loss and its parts"
) -> Path | None:
    """One panel per logged loss (``loss`` and each of ``parts``, e.g. ``loss_kd``, ``loss_lm``, ``loss_cosine``)
    by step: the terms have different scales, so each gets its own axis."""
    names = [n for n in ("loss", *parts) if any(n in h and "step" in h for h in log_history)]
    if not names:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        pts = [(h["step"], h[name]) for h in log_history if name in h and "step" in h]
        ax.plot(*zip(*pts), "-", color="tab:blue" if name == "loss" else "tab:orange")
        ax.set_title(name)
        ax.set_xlabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fmt(v: Any) -> str:
    return f"{100 * v:.2f}" if isinstance(v, float) and -1.0 <= v <= 1.0 else str(v)


def method_section(run_info: dict[str, Any]) -> list[str]:
    """The report's method paragraph, as the trainer described it (``run.method``)."""
    method = run_info.get("method")
    if not isinstance(method, dict):
        return []
    return ["", "## Method", "", f"{method.get('name')} (`{method.get('trainer')}`): {method.get('summary')}"]


def write_report(
    out_dir: str | Path, *, spec: TaskSpec, record: dict[str, Any], log_history: list[dict]
) -> dict[str, Path]:
    """Write a run's ``metrics.json`` (``record``: ``{split: metrics, "detail": ..., "run": ...}``, already
    scrubbed), ``report.md`` and PNGs into ``out_dir``; return the written paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "report": out / "report.md"}
    paths["metrics"].write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    run_info, detail = record.get("run", {}), record.get("detail", {})
    metrics = {k: v for k, v in record.items() if k not in ("run", "detail") and isinstance(v, dict)}
    cm = plot_confusion(spec, detail, out / "confusion_matrix.png")
    curves = plot_training_curves(log_history, spec.metric, out / "training_curves.png")
    if cm:
        paths["confusion_matrix"] = cm
    if curves:
        paths["training_curves"] = curves

    lines = [f"# {spec.name}: {run_info.get('model', '')}", ""]
    lines += [
        f"- task: `{spec.name}` ({spec.problem_type}, {spec.num_labels} labels: {', '.join(spec.label_names)})",
        f"- language: {spec.language}",
        "- splits: "
        + ", ".join(f"{k} {v}" for k, v in run_info.get("split_sizes", {}).items())
        + (f" ({spec.split_note})" if spec.split_note else ""),
    ]
    shared = {pair: n for pair, n in (run_info.get("split_overlap") or {}).items() if n}
    if shared:
        lines.append(
            "- **texts in two splits:** "
            + ", ".join(f"{n} of {pair}" for pair, n in shared.items())
            + " (exact duplicates: those scores are not held-out scores)"
        )
    for k in (
        "model",
        "pooling",
        "text_prefix",
        "max_length",
        "threshold",
        "train_runtime_s",
        "peak_rss_mb",
        "command",
    ):
        if k in run_info:
            lines.append(f"- {k}: `{run_info[k]}`")
    lines += method_section(run_info)
    lines += ["", "## Metrics (percent where a ratio)", ""]
    keys = sorted({k for m in metrics.values() for k in m if isinstance(m[k], (int, float))})
    lines.append("| metric | " + " | ".join(metrics) + " |")
    lines.append("|---|" + "---|" * len(metrics))
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(_fmt(m.get(k, "")) for m in metrics.values()) + " |")
    rep = detail.get("classification_report")
    if rep:
        lines += [
            "",
            "## Per-class report (test)",
            "",
            "| class | precision | recall | f1 | support |",
            "|---|---|---|---|---|",
        ]
        for name, r in rep.items():
            if isinstance(r, dict):
                lines.append(
                    f"| {name} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1-score']:.4f} | {int(r['support'])} |"
                )
            else:
                lines.append(f"| {name} | | | {r:.4f} | |")
    if cm:
        lines += ["", "![confusion matrix](confusion_matrix.png)"]
    if curves:
        lines += ["", "![training curves](training_curves.png)"]
    paths["report"].write_text("\n".join(lines) + "\n")
    return paths


def plot_heatmap(
    matrix: np.ndarray,
    row_labels: Sequence,
    col_labels: Sequence,
    path: str | Path,
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    fmt: str = "{:.1f}",
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | None = None,
) -> Path:
    """A heat map PNG with the value written in each cell (cells are left blank past 20 columns)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.asarray(matrix, dtype=float)
    big = m.shape[1] > 20
    cell = 0.45 if big else 1.1
    fig, ax = plt.subplots(figsize=(2.5 + cell * m.shape[1], 1.5 + (0.4 if big else 0.6) * m.shape[0]))
    im = ax.imshow(
        np.ma.masked_invalid(m),
        cmap=cmap or ("coolwarm" if vmin is not None and vmin < 0 else "viridis"),
        aspect="auto",
        vmin=vmin,
        vmax=vmax,
    )
    ax.set_xticks(range(m.shape[1]), [str(c) for c in col_labels], rotation=90 if len(col_labels) > 8 else 0)
    ax.set_yticks(range(m.shape[0]), [str(r) for r in row_labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if not big and not np.isnan(m[i, j]):
                ax.text(j, i, fmt.format(m[i, j]), ha="center", va="center", color="w", fontsize=8)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_task_weights(log_history: list[dict], path: str | Path, title: str = "GradNorm task weights") -> Path | None:
    """GradNorm's task weights over training steps (TBED-MTL Fig. 3), from rows with ``step`` and
    ``task_weight_<task>`` keys (``MultiTaskTrainer.gradnorm_history`` or the log history)."""
    rows = [h for h in log_history if any(k.startswith("task_weight_") for k in h)]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for key in sorted({k for h in rows for k in h if k.startswith("task_weight_")}):
        ax.plot([h["step"] for h in rows], [h[key] for h in rows], label=key.removeprefix("task_weight_"))
    ax.set_xlabel("step")
    ax.set_ylabel("loss weight")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_label_correlation(
    names: list[str],
    corr: np.ndarray,
    out_dir: str | Path,
    *,
    title: str = "Label correlation",
    stem: str = "label_correlation",
) -> dict[str, Path]:
    """A label correlation matrix (``MultiTaskModel.label_correlation()``, TBED-MTL Fig. 4/7) as ``<stem>.csv`` and
    a heat map ``<stem>.png``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / f"{stem}.csv"
    lines = ["label," + ",".join(names)]
    lines += [names[i] + "," + ",".join(f"{v:.4f}" for v in corr[i]) for i in range(len(names))]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    png = plot_heatmap(corr, names, names, out / f"{stem}.png", title=title, fmt="{:.2f}", vmin=-1, vmax=1)
    return {"csv": csv, "png": png}
