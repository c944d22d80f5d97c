"""Vocabulary pruning of a multilingual encoder to the project's Romanian training texts (Avram et al. 2022 use a
Romanian vocabulary; multilingual-e5-small spends most of its parameters on 250k pieces).

    HF_EMO_DATA_DIR=../shared/data python bench/vocab_pruning.py --model multilingual-e5-small \\
        --out bench/results/vocab_pruning_e5

Prunes with :func:`hf_emo.models.prune_vocabulary` on the training texts of REDv2, REDv1, LaRoSeDa and XED en-ro (the
corpus of ``hf-emo pretrain``), then compares the pruned encoder with the original on REDv2's *test* texts, which
the corpus never saw: the share of texts segmented exactly as before, and the cosine similarity of the mean-pooled
embeddings. Writes ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def pooled(model, tokenizer, texts: list[str], batch: int = 64) -> torch.Tensor:
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            enc = tokenizer(texts[i : i + batch], padding=True, truncation=True, max_length=128, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            out.append((hidden * mask).sum(1) / mask.sum(1))
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--out", default="bench/results/vocab_pruning_e5")
    parser.add_argument("--test_rows", type=int, default=1000)
    a = parser.parse_args()

    from transformers import AutoModel, AutoTokenizer

    from hf_emo.data import load_task
    from hf_emo.data.corpus import task_corpus
    from hf_emo.jobs.pretraining import ROMANIAN_CORPUS
    from hf_emo.models import prune_vocabulary
    from hf_emo.zoo import resolve_model

    path = resolve_model(a.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    original = AutoModel.from_pretrained(path).eval()
    model = AutoModel.from_pretrained(path).eval()
    corpus = task_corpus(list(ROMANIAN_CORPUS), None, seed=0, max_rows=None)
    texts = ["query: " + t for t in corpus["text"]]
    params_before = sum(p.numel() for p in model.parameters())
    start = time.perf_counter()
    new_tokenizer, kept = prune_vocabulary(model, tokenizer, texts)
    seconds = time.perf_counter() - start
    params_after = sum(p.numel() for p in model.parameters())
    test = ["query: " + t for t in load_task("redv2")["test"]["text"][: a.test_rows]]
    same = sum(
        tokenizer.convert_ids_to_tokens(x) == new_tokenizer.convert_ids_to_tokens(y)
        for x, y in zip(tokenizer(test)["input_ids"], new_tokenizer(test)["input_ids"])
    )
    cos = torch.nn.functional.cosine_similarity(pooled(original, tokenizer, test), pooled(model, new_tokenizer, test))
    result = {
        "model": a.model,
        "corpus": {"tasks": list(ROMANIAN_CORPUS), "split": "train", "texts": len(texts)},
        "vocabulary": {"before": len(tokenizer), "after": len(kept)},
        "parameters": {
            "before": params_before,
            "after": params_after,
            "share_kept": round(params_after / params_before, 4),
        },
        "prune_seconds": round(seconds, 1),
        "redv2_test": {
            "texts": len(test),
            "segmented_as_before": round(same / len(test), 4),
            "cosine_mean": round(float(cos.mean()), 6),
            "cosine_min": round(float(cos.min()), 6),
        },
        "machine": "CPU-2 (2 cores, torch " + torch.__version__ + ")",
    }
    print(json.dumps(result, indent=2))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{a.out}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
