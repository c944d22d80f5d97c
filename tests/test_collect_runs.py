"""bench/collect_runs.py: a study's records round-trip through the committed JSON, so its tables can be rebuilt on a
machine that has lost its run folders."""

import json
from pathlib import Path

import pytest

from hf_emo.tables import seed_table


def _run(folder: Path, task: str, f1: float, seed: int) -> None:
    folder.mkdir(parents=True)
    folder.joinpath("metrics.json").write_text(
        json.dumps(
            {
                "validation": {"f1_macro": 0.1},
                "test": {"f1_macro": f1},
                "test_teacher": {"f1_macro": 0.7},
                "run": {"task": task, "seed": seed, "command": f"hf-emo train --seed {seed}", "model": "private/path"},
            }
        )
    )


def test_restored_runs_rebuild_the_same_table(tmp_path, load_bench):
    cr = load_bench("collect_runs")
    study = tmp_path / "study"
    for seed, f1 in [(1, 0.60), (2, 0.62), (42, 0.61)]:
        _run(study / f"stl_redv2_s{seed}", "redv2", f1, seed)
    assert set(cr.collect([f"{study}/*"], ["test"])["runs"]["stl_redv2_s1"]) == {"test", "run"}
    collected = cr.collect([f"{study}/*"])  # every test split by default
    run = collected["runs"]["stl_redv2_s1"]
    assert set(run) == {"test", "test_teacher", "run"}
    assert run["run"] == {"task": "redv2", "seed": 1, "command": "hf-emo train --seed 1"}  # no private model path
    out = tmp_path / "collected.json"
    out.write_text(json.dumps(collected))

    fresh = tmp_path / "fresh"
    _run(fresh / "stl_redv2_s42", "redv2", 0.99, 42)  # a run already there is kept, not overwritten
    assert cr.restore(out, fresh) == ["stl_redv2_s1", "stl_redv2_s2"]
    restored = json.loads((fresh / "stl_redv2_s1" / "metrics.json").read_text())
    assert (
        restored["run"]["restored_from"] == "collected.json"
        and restored["test"] == {"f1_macro": 0.60}
        and restored["test_teacher"] == {"f1_macro": 0.7}
    )
    assert json.loads((fresh / "stl_redv2_s42" / "metrics.json").read_text())["test"]["f1_macro"] == 0.99
    assert cr.restore(out, fresh) == []

    # the task rides along, so a single-task run answers the multi-task table's redv2_<metric> name
    (fresh / "stl_redv2_s42" / "metrics.json").unlink()
    cr.restore(out, fresh)
    assert seed_table({"STL": f"{fresh}/stl_redv2_s*"}, ["redv2_f1_macro"]) == seed_table(
        {"STL": f"{study}/stl_redv2_s*"}, ["redv2_f1_macro"]
    )


def test_restore_refuses_a_file_that_is_not_collected_runs(tmp_path, load_bench):
    cr = load_bench("collect_runs")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rows": []}))
    with pytest.raises(SystemExit, match="bad.json: not a collected-runs file"):
        cr.restore(bad, tmp_path / "into")
    bad.write_text(json.dumps({"runs": {"../escape": {"test": {}}}}))
    with pytest.raises(SystemExit, match="'../escape' is not a run record"):
        cr.restore(bad, tmp_path / "into")


def test_restored_refinement_rebuilds_its_weight_noise_table(tmp_path, load_bench):
    """Paper 001's quality study tabulates ``run.weight_noise_correlations``: the record must keep it."""
    from hf_emo.tables import mean_json_table

    cr = load_bench("collect_runs")
    study = tmp_path / "study"
    for seed, corr in [(1, -0.16), (42, -0.15)]:
        folder = study / f"quality_s{seed}"
        folder.mkdir(parents=True)
        folder.joinpath("metrics.json").write_text(
            json.dumps(
                {
                    "test": {"f1_macro": 0.36},
                    "run": {"seed": seed, "weight_noise_correlations": {"abs_log_length_ratio": corr}},
                }
            )
        )
    out = tmp_path / "collected.json"
    out.write_text(json.dumps(cr.collect([f"{study}/*"])))
    cr.restore(out, tmp_path / "fresh")
    key = "run.weight_noise_correlations"
    assert mean_json_table([f"{tmp_path}/fresh/quality_s*"], key) == mean_json_table([f"{study}/quality_s*"], key)


def test_a_renamed_record_keeps_its_old_name_through_restore_and_collect(tmp_path, load_bench):
    """13's records were renamed when the study gained a KD-form axis (kd_s42 -> kd_kl_bernoulli_s42): the old name
    rides along, so the record's command (with the old output_dir) is not mistaken for the new run's."""
    cr = load_bench("collect_runs")
    out = tmp_path / "collected.json"
    out.write_text(
        json.dumps(
            {
                "runs": {
                    "kd_kl_bernoulli_s42": {
                        "test": {"f1_macro": 0.61},
                        "run": {
                            "seed": 42,
                            "renamed_from": "kd_s42",
                            "command": "hf-emo distil --output_dir runs/a/kd_s42",
                        },
                    }
                }
            }
        )
    )
    cr.restore(out, tmp_path / "a")
    again = cr.collect([f"{tmp_path / 'a'}/*"])["runs"]["kd_kl_bernoulli_s42"]["run"]
    assert again["renamed_from"] == "kd_s42" and again["restored_from"] == "collected.json"


def test_move_carries_a_record_to_its_new_name_and_refuses_to_overwrite(tmp_path, load_bench):
    """When the embedded MTKD changes KD form, 07's mtkd_ta_s42 (Bernoulli) becomes 12's mtkd_ta_kl_bernoulli_s42
    and 12's softmax run becomes 07's: the record moves between collected files (or run folders, weights with it)
    and keeps its first name; nothing is overwritten and a missing run is named."""
    cr = load_bench("collect_runs")
    a, b = tmp_path / "mtl.json", tmp_path / "form.json"
    a.write_text(
        json.dumps(
            {
                "runs": {
                    "mtkd_ta_s42": {"test": {"redv2_f1_macro": 0.61}, "run": {"seed": 42}},
                    "mtkd_s42": {"test": {}, "run": {}},
                }
            }
        )
    )
    b.write_text(
        json.dumps({"runs": {"mtkd_ta_kl_softmax_s42": {"test": {"redv2_f1_macro": 0.62}, "run": {"seed": 42}}}})
    )
    cr.move(f"{a}:mtkd_ta_s42", f"{b}:mtkd_ta_kl_bernoulli_s42")
    cr.move(f"{b}:mtkd_ta_kl_softmax_s42", f"{a}:mtkd_ta_s42")
    ra, rb = json.loads(a.read_text())["runs"], json.loads(b.read_text())["runs"]
    assert sorted(ra) == ["mtkd_s42", "mtkd_ta_s42"] and sorted(rb) == ["mtkd_ta_kl_bernoulli_s42"]
    assert ra["mtkd_ta_s42"]["test"]["redv2_f1_macro"] == 0.62
    assert ra["mtkd_ta_s42"]["run"]["renamed_from"] == "form/mtkd_ta_kl_softmax_s42"
    assert rb["mtkd_ta_kl_bernoulli_s42"]["run"]["renamed_from"] == "mtl/mtkd_ta_s42"
    with pytest.raises(SystemExit, match="exists already"):
        cr.move(f"{a}:mtkd_s42", f"{a}:mtkd_ta_s42")
    with pytest.raises(SystemExit, match="no run 'mtkd_ta_ens_s42'"):
        cr.move(f"{a}:mtkd_ta_ens_s42", f"{b}:x")
    cr.move(f"{b}:mtkd_ta_kl_bernoulli_s42", f"{b}:again")  # a second rename keeps the first name
    assert json.loads(b.read_text())["runs"]["again"]["run"]["renamed_from"] == "mtl/mtkd_ta_s42"
    src = tmp_path / "runs" / "form" / "mtkd_ta_kl_softmax_s1"
    src.mkdir(parents=True)
    (src / "metrics.json").write_text(json.dumps({"test": {"redv2_f1_macro": 0.6}, "run": {"seed": 1}}))
    (src / "model.safetensors").write_bytes(b"w")
    dst = tmp_path / "runs" / "mtl" / "mtkd_ta_s1"
    cr.move(str(src), str(dst))
    assert not src.exists() and (dst / "model.safetensors").read_bytes() == b"w"
    assert json.loads((dst / "metrics.json").read_text())["run"]["renamed_from"] == "form/mtkd_ta_kl_softmax_s1"
    with pytest.raises(SystemExit, match="FILE.json:RUN"):
        cr.move(f"{a}:mtkd_s42", str(dst))
