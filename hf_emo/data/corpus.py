"""Text corpora for language-model distillation: the project's own training texts, a user's files or a Hub
dataset (optionally streamed), tokenised on the fly and packed into fixed-length blocks."""

from __future__ import annotations

from pathlib import Path

from .errors import DataError
from .registry import load_task

# file suffix -> the ``datasets`` packaged builder that reads it
_BUILDERS = {
    ".txt": "text",
    ".text": "text",
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
}


def task_corpus(tasks: list[str], data_dir: str | None, seed: int, max_rows: int | None):
    """The ``text`` column of the *training* splits of registered ``tasks`` (never validation or test), shuffled
    with ``seed`` and capped to ``max_rows``."""
    from datasets import concatenate_datasets

    parts = [load_task(t, data_dir)["train"].select_columns(["text"]) for t in tasks]
    corpus = concatenate_datasets(parts).shuffle(seed=seed)
    return corpus.select(range(min(max_rows, len(corpus)))) if max_rows else corpus


def load_text_corpus(
    source: str,
    *,
    split: str = "train",
    text_column: str = "text",
    config_name: str | None = None,
    streaming: bool = False,
    seed: int = 0,
    max_rows: int | None = None,
    shuffle_buffer: int = 10_000,
):
    """One text column of a corpus, as a ``Dataset`` (or an ``IterableDataset`` when ``streaming``).

    ``source`` is a local file (``.txt``: one text per line; ``.json(l)``, ``.csv``, ``.tsv``, ``.parquet``), a
    folder of such files, a folder written by ``Dataset.save_to_disk``, or a Hub dataset id (with ``config_name``
    and ``split``). Rows are shuffled with ``seed`` (a buffer of ``shuffle_buffer`` rows when streaming) and capped
    to ``max_rows``; empty texts are dropped.
    """
    import datasets

    from ..zoo import hub_map

    local = hub_map()
    source = local.get(f"{source}:{config_name}", local.get(str(source), source))
    path = Path(source).expanduser()
    if path.is_dir() and (path / "dataset_info.json").is_file():
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise DataError(f"the saved dataset has no split {split!r}; its splits are {list(ds)}", file=str(path))
            ds = ds[split]
        if streaming:
            ds = ds.to_iterable_dataset()
    elif path.exists():
        files = sorted(p for p in path.rglob("*") if p.suffix in _BUILDERS) if path.is_dir() else [path]
        if not files:
            raise DataError(f"no corpus files ({', '.join(sorted(_BUILDERS))}) in the folder", file=str(path))
        kinds = {_BUILDERS.get(p.suffix) for p in files}
        if None in kinds or len(kinds) > 1:
            raise DataError(
                f"corpus files must share one of the formats {sorted(set(_BUILDERS))}; got suffixes "
                f"{sorted({p.suffix for p in files})}",
                file=str(path),
            )
        builder = kinds.pop()
        kwargs = {"delimiter": "\t"} if all(p.suffix == ".tsv" for p in files) else {}
        ds = datasets.load_dataset(
            builder, data_files=[str(p) for p in files], split="train", streaming=streaming, **kwargs
        )
    else:
        try:
            ds = datasets.load_dataset(source, config_name, split=split, streaming=streaming)
        except Exception as err:  # the Hub is unreachable, or no such dataset
            raise DataError(
                f"corpus {source!r} is neither a local file or folder nor a loadable Hub dataset "
                f"({type(err).__name__}: {err})"
            ) from err
    # a stream's columns may be unknown until read: peek at its first row
    columns = list(ds.column_names) if ds.column_names else list(next(iter(ds), {}))
    if text_column not in columns:
        raise DataError(
            f"no text column {text_column!r}; the corpus has {columns} (set corpus_text_column)",
            file=str(source),
            column=text_column,
        )
    ds = ds.select_columns([text_column])
    if text_column != "text":
        ds = ds.rename_column(text_column, "text")
    ds = ds.filter(lambda row: bool(row["text"] and str(row["text"]).strip()))
    if streaming:
        ds = ds.shuffle(seed=seed, buffer_size=shuffle_buffer)
        return ds.take(max_rows) if max_rows else ds
    ds = ds.shuffle(seed=seed)
    return ds.select(range(min(max_rows, len(ds)))) if max_rows else ds


def group_blocks(corpus, tokenizer, block_size: int):
    """Tokenised texts joined end to end (each ended by EOS when the tokenizer has one) and cut into blocks of
    ``block_size`` tokens: no padding, so no position is masked out of the loss by mistake. Works on a ``Dataset``
    and, lazily, on an ``IterableDataset`` (on-the-fly tokenisation)."""
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []

    def blocks(batch):
        ids = [tok + eos for tok in tokenizer(batch["text"], add_special_tokens=True)["input_ids"]]
        flat = [t for seq in ids for t in seq]
        n = len(flat) // block_size * block_size
        chunks = [flat[i : i + block_size] for i in range(0, n, block_size)]
        return {"input_ids": chunks, "attention_mask": [[1] * block_size for _ in chunks]}

    import datasets

    if isinstance(corpus, datasets.IterableDataset):
        return corpus.map(blocks, batched=True, batch_size=1000, remove_columns=["text"])
    return corpus.map(
        blocks, batched=True, batch_size=1000, remove_columns=corpus.column_names, desc=f"blocks of {block_size} tokens"
    )
