"""Every registered data set against the figures in its PROVENANCE.md (skipped without local data)."""

import numpy as np
import pytest

from hf_emo.data import TASKS, load_task

# Totals and label counts stated in ../shared/data/*/PROVENANCE.md (and the data README).
PROVENANCE_TOTALS = {
    "redv2": 4088 + 543 + 818,
    "redv1": 3237 + 405 + 405,
    "laroseda": 12000 + 3000,
    "dair_emotion": 16000 + 2000 + 2000,
    "sst2": 67349 + 872,
    "ag_news": 7600,
    "semeval2018_ec": 6838 + 886,
    "emobank": 8062 + 1000 + 1000,
    "xed_en_ro": 16217,
    # en-annotated.tsv's 17,528 lines minus the 6,235 whose letters-and-digits key is a parallel English line
    "xed_en": 17528 - 6235,
    # the parallel set's 7,681 distinct English and 9,672 distinct Romanian strings (PROVENANCE.md)
    "xed_language": 7681 + 9672,
}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_rows_and_splits(name, data_dir):
    dd = load_task(name, data_dir)
    spec = TASKS[name]
    assert set(dd) == {"train", "validation", "test"}
    sizes = {k: len(v) for k, v in dd.items()}
    assert sizes == spec.split_sizes
    assert sum(sizes.values()) == PROVENANCE_TOTALS[name]
    for split in dd.values():
        assert {"text", "labels", "task"} <= set(split.column_names)
        assert all(t.strip() for t in split["text"])
        assert set(split["task"]) == {name}


def _counts(ds, spec):
    y = np.asarray(ds["labels"])
    if spec.problem_type == "multi_label":
        return dict(zip(spec.label_names, y.sum(0).astype(int).tolist()))
    return dict(zip(spec.label_names, np.bincount(y, minlength=spec.num_labels).tolist()))


def test_label_counts_match_provenance(data_dir):
    dair = load_task("dair_emotion", data_dir)
    assert _counts(dair["train"], TASKS["dair_emotion"]) == {
        "joy": 5362,
        "sadness": 4666,
        "anger": 2159,
        "fear": 1937,
        "love": 1304,
        "surprise": 572,
    }
    sst = load_task("sst2", data_dir)
    tr = _counts(sst["train"], TASKS["sst2"])
    va = _counts(sst["validation"], TASKS["sst2"])
    assert {k: tr[k] + va[k] for k in tr} == {"negative": 29780, "positive": 37569}
    assert _counts(sst["test"], TASKS["sst2"]) == {"negative": 428, "positive": 444}
    ag = load_task("ag_news", data_dir)
    total = {k: sum(_counts(ag[s], TASKS["ag_news"])[k] for s in ag) for k in TASKS["ag_news"].label_names}
    assert total == {"World": 1900, "Sports": 1900, "Business": 1900, "Sci/Tech": 1900}
    lar = load_task("laroseda", data_dir)
    tr = _counts(lar["train"], TASKS["laroseda"])
    va = _counts(lar["validation"], TASKS["laroseda"])
    assert {k: tr[k] + va[k] for k in tr} == {"negative": 6000, "positive": 6000}
    xed = load_task("xed_en_ro", data_dir)
    total = {k: sum(_counts(xed[s], TASKS["xed_en_ro"])[k] for s in xed) for k in TASKS["xed_en_ro"].label_names}
    assert total == {
        "anger": 4234,
        "anticipation": 3656,
        "trust": 2769,
        "joy": 2694,
        "sadness": 2671,
        "surprise": 2651,
        "fear": 2400,
        "disgust": 2048,
    }
    red = load_task("redv2", data_dir)
    assert _counts(red["train"], TASKS["redv2"])["Neutral"] == 1045


def test_xed_is_split_by_movie_and_keeps_english(data_dir):
    dd = load_task("xed_en_ro", data_dir)
    movies = {s: set(dd[s]["movie_id"]) for s in dd}
    assert not (movies["train"] & movies["test"]) and not (movies["train"] & movies["validation"])
    assert not (movies["validation"] & movies["test"])
    assert len(movies["train"] | movies["validation"] | movies["test"]) == 48
    row = dd["train"][0]
    assert row["en_text"] and row["text"] and row["en_text"] != row["text"]


def test_xed_en_excludes_every_parallel_line(data_dir):
    from hf_emo.data.readers import alnum_key

    en = load_task("xed_en", data_dir)
    parallel = load_task("xed_en_ro", data_dir)
    keys = {alnum_key(t) for s in parallel for t in parallel[s]["en_text"]}
    assert not any(alnum_key(t) in keys for s in en for t in en[s]["text"])
    assert all(sum(row) >= 1 for row in en["train"]["labels"])


def test_xed_detokenize():
    from hf_emo.data.readers import detokenize_xed

    assert detokenize_xed("And I do n't think we need it , [PERSON] .") == "And I don't think we need it, [PERSON]."
    assert detokenize_xed("He 's ( not ) here !") == "He's (not) here!"


def test_carved_splits_are_deterministic(data_dir):
    a = load_task("ag_news", data_dir)["test"]["text"]
    b = load_task("ag_news", data_dir)["test"]["text"]
    assert a == b


def test_joined_text_fields(data_dir):
    lar = load_task("laroseda", data_dir)["test"]
    assert "\n" in lar[0]["text"]  # title + content


def test_label_types(data_dir):
    assert isinstance(load_task("redv1", data_dir)["test"][0]["labels"], int)
    red = load_task("redv2", data_dir)["test"][0]["labels"]
    assert isinstance(red, list) and len(red) == 7 and all(isinstance(v, float) for v in red)
    emo = load_task("emobank", data_dir)["test"][0]["labels"]
    assert len(emo) == 3 and 1.0 <= min(emo) and max(emo) <= 5.0


def test_unknown_task():
    with pytest.raises(KeyError, match="registered tasks"):
        load_task("moroco")


def test_hub_fallback_without_local_copy(tmp_path, monkeypatch):
    """No local copy -> the Hub id is used, through the same validation and carving."""
    import datasets

    calls = []

    def fake_load_dataset(repo, config=None, split=None):
        calls.append((repo, config, split))
        labels = [i % 6 for i in range(60)]
        return datasets.Dataset.from_dict({"text": [f"text number {i}" for i in range(60)], "label": labels})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    dd = load_task("dair_emotion", data_dir=tmp_path)
    assert ("dair-ai/emotion", "split", "train") in calls
    assert len(dd["train"]) == 60 and dd["test"][7]["labels"] == 1


def test_missing_local_copy_without_hub_id_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="redv2"):
        load_task("redv2", data_dir=tmp_path)
