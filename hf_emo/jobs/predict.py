"""The prediction job behind ``hf-emo predict``: labels and probabilities of a saved single- or multi-task model
for texts, as rows ready for JSON or a table."""

from __future__ import annotations

from ..inference import predict, predict_multitask
from ..models import load_tokenizer
from ..models.factory import load_config
from .record import inference_device

__all__ = ["is_multitask", "predict_rows", "format_table"]


def is_multitask(path: str) -> bool:
    from pathlib import Path

    from ..generative.decoder import GENERATIVE_FILE

    if (Path(path) / GENERATIVE_FILE).is_file():  # an adapter folder: no config.json of its own
        return False
    return load_config(path).model_type == "hf_emo_multitask"


def predict_rows(model: str, texts: list[str], *, threshold: float | None = None, batch_size: int = 32) -> list[dict]:
    """Single-task: ``[{"text", "labels", "scores"}]``; multi-task: ``[{"text", "tasks": {task: {"labels",
    "scores"}}}]``."""
    if is_multitask(model):
        from transformers import AutoModel

        from ..zoo import resolve_model

        mt = AutoModel.from_pretrained(resolve_model(model))
        per_task = predict_multitask(
            mt, load_tokenizer(model), texts, threshold=threshold, batch_size=batch_size, device=inference_device()
        )
        rows = [{"text": t, "tasks": {}} for t in texts]
        for task, pred in per_task.items():
            for row, r in zip(rows, pred.rows()):
                row["tasks"][task] = {"labels": r["labels"], "scores": r["scores"]}
        return rows
    return predict(model, texts=texts, threshold=threshold, batch_size=batch_size, device=inference_device()).rows()


def format_table(rows: list[dict]) -> str:
    """Tab-separated: text (cut at 60 characters), labels, one column per label score (per task for multi-task)."""
    if rows and "tasks" in rows[0]:
        lines = ["text\ttask\tlabels\tscores"]
        for r in rows:
            for task, res in r["tasks"].items():
                scores = " ".join(f"{n}={v:.3f}" for n, v in res["scores"].items())
                lines.append("\t".join([r["text"][:60], task, ",".join(res["labels"]), scores]))
        return "\n".join(lines)
    names = list(rows[0]["scores"]) if rows else []
    lines = ["\t".join(["text", "labels", *names])]
    for r in rows:
        lines.append("\t".join([r["text"][:60], ",".join(r["labels"]), *(f"{r['scores'][n]:.3f}" for n in names)]))
    return "\n".join(lines)
