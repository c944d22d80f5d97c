"""The on-disk dataset cache shared by the runs of a study (teacher logits, encoder features)."""

from pathlib import Path

from datasets import Dataset

from hf_emo.data.cache import cache_key, disk_cached


def _table(value: int) -> Dataset:
    return Dataset.from_dict({"x": [value, value + 1]})


def test_computed_once_then_loaded(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return _table(1)

    first = disk_cached(tmp_path, {"k": 1}, compute)
    second = disk_cached(tmp_path, {"k": 1}, compute)
    assert calls == [1]
    assert first["x"] == second["x"] == [1, 2]
    assert [p.name for p in Path(tmp_path).iterdir()] == [cache_key({"k": 1})]


def test_a_failed_write_leaves_no_entry_that_later_runs_would_trust(tmp_path, monkeypatch):
    def broken_save(self, path, *args, **kwargs):
        Path(path).mkdir(parents=True)
        (Path(path) / "dataset_info.json").write_text("{}")  # the half-written state a crash leaves
        raise OSError("disk full")

    monkeypatch.setattr(Dataset, "save_to_disk", broken_save)
    try:
        disk_cached(tmp_path, {"k": 2}, lambda: _table(2))
    except OSError:
        pass
    assert not (Path(tmp_path) / cache_key({"k": 2})).exists()
    monkeypatch.undo()
    assert disk_cached(tmp_path, {"k": 2}, lambda: _table(5))["x"] == [5, 6]  # recomputed, not the broken entry


def test_two_runs_computing_one_entry_both_end_with_the_first_writers_copy(tmp_path):
    def compute_while_another_run_finishes_first():
        disk_cached(tmp_path, {"k": 3}, lambda: _table(10))  # the other lane writes the entry meanwhile
        return _table(10)

    out = disk_cached(tmp_path, {"k": 3}, compute_while_another_run_finishes_first)
    assert out["x"] == [10, 11]
    assert [p.name for p in Path(tmp_path).iterdir()] == [cache_key({"k": 3})]  # no partial folder left behind
