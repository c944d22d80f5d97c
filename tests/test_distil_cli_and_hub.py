"""`hf-emo distil` end to end on a tiny model (teacher trained first), loyalty in `evaluate`, the model card, the
exact upload file set, and the Hub error paths (offline: no token, unreachable Hub)."""

import json

import numpy as np
import pytest

from hf_emo.cli import main
from hf_emo.cards import render_model_card
from hf_emo.jobs.push import HubError, push_run, stage_upload
from tests.test_cli import files  # noqa: F401  (fixture)

COMMON = """task: null
train_file: {train}
validation_file: {validation}
test_file: {test}
text_column: text
label_columns: [emotion]
problem_type: single_label
max_length: 16
num_train_epochs: 2
per_device_train_batch_size: 3
learning_rate: 5.0e-3
save_strategy: "no"
logging_steps: 1
report_to: none
dataloader_pin_memory: false
"""


@pytest.fixture
def runs(tiny_encoder_dir, files, tmp_path):  # noqa: F811
    cfg = tmp_path / "common.yaml"
    cfg.write_text(COMMON.format(**files))
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    assert (
        main(
            ["train", "--config", str(cfg), "--model_name_or_path", str(tiny_encoder_dir), "--output_dir", str(teacher)]
        )
        == 0
    )
    kd = tmp_path / "kd.yaml"
    kd.write_text(
        f"teacher: [{teacher}]\ntemperature: 2.0\nalpha_schedule: linear\nalpha_start: 0.1\n"
        f"alpha_end: 0.7\noutput_dir: {student}\n"
    )
    assert (
        main(
            [
                "distil",
                "--config",
                str(cfg),
                "--config",
                str(kd),
                "--model_name_or_path",
                str(tiny_encoder_dir),
                "--seed",
                "1",
            ]
        )
        == 0
    )
    return teacher, student


def test_distil_writes_kd_settings_loyalty_and_curves(runs):
    teacher, student = runs
    m = json.loads((student / "metrics.json").read_text())
    assert "distillation" not in m["run"]  # each KD setting once: in the config as given and the method's settings
    kd = m["run"]["method"]["settings"]
    assert kd["teachers"] == [teacher.name] and kd["kd_loss"] == "kl_softmax"  # its name: no /tmp path
    assert kd["cached_teacher_logits"]
    assert m["run"]["config"]["temperature"] == 2.0
    assert (kd["alpha_start"], kd["alpha_end"], kd["temperature"]) == (0.1, 0.7, 2.0)
    assert 0.0 <= m["test_loyalty"]["label_loyalty"] <= 1.0 and 0.0 <= m["test_loyalty"]["probability_loyalty"] <= 1
    t = json.loads((teacher / "metrics.json").read_text())
    assert m["test_teacher"]["accuracy"] == pytest.approx(t["test"]["accuracy"])  # cached logits = the teacher's
    assert m["run"]["command"].startswith("hf-emo distil --config")
    assert not any(p.name.startswith("teacher") for p in student.iterdir())


def test_distil_computes_the_teacher_logits_on_the_training_device(
    tiny_encoder_dir,
    files,
    tmp_path,  # noqa: F811
    monkeypatch,
):
    """Cached teacher logits are computed before the Trainer exists: on the run's device (``config.device``), not
    where the teacher was loaded (the CPU, which made every KD run on a GPU machine wait minutes)."""
    import torch

    import hf_emo.jobs.train as train_job

    seen, real = [], train_job.cache_teacher_logits
    monkeypatch.setattr(
        train_job, "cache_teacher_logits", lambda *a, **kw: seen.append(kw.get("device")) or real(*a, **kw)
    )
    cfg = tmp_path / "common.yaml"
    cfg.write_text(COMMON.format(**files) + "use_cpu: true\n")
    teacher = tmp_path / "teacher"
    assert (
        main(
            ["train", "--config", str(cfg), "--model_name_or_path", str(tiny_encoder_dir), "--output_dir", str(teacher)]
        )
        == 0
    )
    assert (
        main(
            [
                "distil",
                "--config",
                str(cfg),
                "--model_name_or_path",
                str(tiny_encoder_dir),
                "--teacher",
                str(teacher),
                "--output_dir",
                str(tmp_path / "student"),
            ]
        )
        == 0
    )
    assert seen == [torch.device("cpu")]


def test_teacher_cache_dir_serves_the_next_run_without_a_teacher_pass(
    runs,
    tiny_encoder_dir,
    files,
    tmp_path,  # noqa: F811
    monkeypatch,
):
    """``--teacher_cache_dir``: the first run keeps the teacher's logits, a second (another seed) reads them instead
    of running the teacher, and trains exactly as a run that computes them again (same weights)."""
    import torch
    from safetensors.torch import load_file

    import hf_emo.models.forward as forward

    teacher, _ = runs
    cfg = tmp_path / "c.yaml"
    cfg.write_text(COMMON.format(**files))
    cache = tmp_path / "logits"

    def distil(out: str, *extra: str) -> int:
        return main(
            ["distil", "--config", str(cfg), "--model_name_or_path", str(tiny_encoder_dir), "--teacher", str(teacher),
             "--output_dir", str(tmp_path / out), *extra]
        )  # fmt: skip

    assert distil("first", "--teacher_cache_dir", str(cache), "--seed", "3") == 0
    assert any(cache.iterdir())
    real = forward.model_batches

    def no_teacher_pass(*args, **kwargs):
        raise AssertionError("the teacher ran although its logits were cached")

    monkeypatch.setattr(forward, "model_batches", no_teacher_pass)
    assert distil("cached", "--teacher_cache_dir", str(cache), "--seed", "4") == 0
    monkeypatch.setattr(forward, "model_batches", real)
    assert distil("fresh", "--seed", "4") == 0
    cached, fresh = (load_file(tmp_path / d / "model.safetensors") for d in ("cached", "fresh"))
    assert cached.keys() == fresh.keys() and all(torch.equal(cached[k], fresh[k]) for k in fresh)


def test_evaluate_reports_loyalty_to_the_teacher(runs, files, tmp_path, capsys):  # noqa: F811
    teacher, student = runs
    out = tmp_path / "eval.json"
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(student),
                "--file",
                files["test"],
                "--label-columns",
                "emotion",
                "--problem-type",
                "single_label",
                "--teacher",
                str(teacher),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    m = json.loads((student / "metrics.json").read_text())
    assert res["loyalty"]["label_loyalty"] == pytest.approx(m["test_loyalty"]["label_loyalty"])
    assert res["loyalty"]["probability_loyalty"] == pytest.approx(m["test_loyalty"]["probability_loyalty"], abs=1e-4)
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(student),
                "--file",
                files["test"],
                "--label-columns",
                "emotion",
                "--problem-type",
                "single_label",
                "--teacher",
                str(student),
            ]
        )
        == 0
    )
    res_self = json.loads(capsys.readouterr().out)
    assert res_self["loyalty"]["label_loyalty"] == 1.0


def test_model_card_and_exact_upload_file_set(runs, tmp_path):
    teacher, student = runs
    card = render_model_card(student, "me/tiny-student")
    assert "base_model:" not in card  # a local folder is no Hub id: no base_model metadata, no local path
    for needle in (
        "a local model (tiny-bert)",
        "| train | 9 |",
        "T = 2.0",
        "teacher annealing",
        "| accuracy |",
        "@misc{matei_mtkd_romanian",
        "@article{hinton2015distilling",
        "@inproceedings{clark2019bam",
        "Ethics.",
        "hf-emo distil --config",
        "me/tiny-student",
        "knowledge-distillation",
    ):
        assert needle in card, needle
    staged = stage_upload(student, tmp_path / "staging", "me/tiny-student")
    names = sorted(p.name for p in staged)
    assert names == sorted(
        [
            "README.md",
            "config.json",
            "model.safetensors",
            "modeling_hf_emo.py",
            "tokenizer.json",
            "tokenizer_config.json",
            "metrics.json",
            "report.md",
            "confusion_matrix.png",
            "training_curves.png",
        ]
    )
    assert main(["push", "--output-dir", str(student), "--repo-id", "me/x", "--dry-run", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "README.md").read_text().startswith("---\n")


def _snapshot(d):
    return {p.name: p.stat().st_mtime_ns for p in d.iterdir()}


def test_push_without_token_or_hub_fails_clearly_and_keeps_files(runs, tmp_path, monkeypatch):
    _, student = runs
    before = _snapshot(student)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(HubError, match="no Hugging Face token"):
        push_run(student, "me/x")
    assert main(["push", "--output-dir", str(student), "--repo-id", "me/x"]) == 1
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(HubError, match="could not upload"):
        push_run(student, "me/x", token="hf_fake")
    assert _snapshot(student) == before


def test_table_commands(tmp_path, capsys):
    for name, f1s, kd in (
        ("base", [0.60, 0.62], None),
        ("kd", [0.63, 0.65], {"temperature": 1.0, "alpha": 0.5, "alpha_schedule": "constant"}),
        ("ta", [0.64], {"temperature": 1.5, "alpha_schedule": "linear", "alpha_start": 0.1, "alpha_end": 0.7}),
    ):
        for i, f in enumerate(f1s):
            d = tmp_path / f"{name}_s{i}"
            d.mkdir()
            run = {"distillation": kd} if kd else {}
            d.joinpath("metrics.json").write_text(json.dumps({"test": {"f1_micro": f}, "run": run}))
    assert (
        main(
            [
                "table",
                "seeds",
                "--row",
                f"baseline={tmp_path}/base_s*",
                "--row",
                f"KD={tmp_path}/kd_s*",
                "--metric",
                "f1_micro",
                "--out",
                str(tmp_path / "t.md"),
            ]
        )
        == 0
    )
    text = (tmp_path / "t.md").read_text()
    assert f"| baseline | 2 | 61.00 ± {100 * np.std([0.60, 0.62], ddof=1):.2f} |" in text
    assert "| KD | 2 | 64.00 ± 1.41 |" in text
    png = tmp_path / "grid.png"
    assert main(["table", "kd-grid", "--runs", f"{tmp_path}/*_s*", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert (
        "| T \\ alpha | 0.5 | 0.1→0.7 |" in out and "| 1 | 64.00 ± 1.41 | – |" in out and "| 1.5 | – | 64.00 |" in out
    )
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_seed_table_ci95_and_missing_tasks(tmp_path):
    from scipy.stats import t

    from hf_emo.tables import seed_table

    vals = [0.40, 0.42, 0.45, 0.41, 0.43]
    for i, v in enumerate(vals):
        d = tmp_path / f"mtl_s{i}"
        d.mkdir()
        d.joinpath("metrics.json").write_text(json.dumps({"test": {"s_jaccard": v, "t_f1": 0.7}}))
        d = tmp_path / f"stl_s{i}"
        d.mkdir()
        d.joinpath("metrics.json").write_text(json.dumps({"test": {"s_jaccard": v}}))
    half = t.ppf(0.975, 4) * 100 * np.std(vals, ddof=1) / np.sqrt(5)
    text = seed_table(
        {"MTL": f"{tmp_path}/mtl_s*", "STL": f"{tmp_path}/stl_s*"},
        ["s_jaccard", "t_f1"],
        spread="ci95",
        allow_missing=True,
    )
    assert f"| MTL | 5 | 42.20 ± {half:.2f} | 70.00 ± 0.00 |" in text
    assert f"| STL | 5 | 42.20 ± {half:.2f} | – |" in text
    with pytest.raises(KeyError, match="t_f1"):
        seed_table({"STL": f"{tmp_path}/stl_s*"}, ["t_f1"])


def test_seed_table_marks_only_differences_whose_paired_interval_excludes_zero(tmp_path):
    """Runs pair by seed: a consistent gain is marked even when the rows' spreads overlap, a larger mean gain that
    the seeds do not agree on is not (the "beyond the spread" rule had both backwards)."""
    from scipy.stats import t

    from hf_emo.tables import paired_difference, seed_table

    groups = {
        "stl": [0.60, 0.64, 0.62],  # mean 62, std 2
        "steady": [0.61, 0.65, 0.63],  # +1 on every seed: interval [+1, +1]
        "noisy": [0.58, 0.70, 0.65],  # +2.33 on average, but -2 / +6 / +3: interval holds 0
        "down": [0.59, 0.635, 0.61],  # -1, -0.5, -1
        "one": [0.70],
    }  # one pair: no interval, no mark
    for g, vals in groups.items():
        for seed, v in zip((42, 1, 2), vals):
            (tmp_path / f"{g}_s{seed}").mkdir()
            (tmp_path / f"{g}_s{seed}" / "metrics.json").write_text(
                json.dumps({"test": {"f1": v}, "run": {"seed": seed}})
            )
    rows = {g: f"{tmp_path}/{g}_s*" for g in groups}
    text = seed_table(rows, ["f1"], baseline="stl")
    lines = {
        ln.split(" | ")[0][2:]: ln
        for ln in text.splitlines()
        if ln.startswith("| ") and " | 3 | " in ln or ln.startswith("| one | 1")
    }
    assert lines["stl"] == "| stl | 3 | 62.00 ± 2.00 |"
    assert lines["steady"] == "| steady | 3 | 63.00 ± 2.00 ▲ |"
    assert lines["noisy"] == "| noisy | 3 | 64.33 ± 6.03 |"
    assert lines["down"].endswith(" ▼ |") and lines["one"] == "| one | 1 | 70.00 |"
    d = [-2.0, 6.0, 3.0]
    half = t.ppf(0.975, 2) * np.std(d, ddof=1) / np.sqrt(3)
    assert f"| noisy | {np.mean(d):+.2f} [{np.mean(d) - half:+.2f}, {np.mean(d) + half:+.2f}] (n=3) |" in text
    assert "| one | – |" in text
    assert "▲" not in seed_table(rows, ["f1"])  # no baseline, no marks
    with pytest.raises(ValueError, match="baseline row 'nope'"):
        seed_table(rows, ["f1"], baseline="nope")
    # from 5 pairs up: a seeded percentile bootstrap of the mean difference
    five = paired_difference({s: 0.6 + 0.01 * s for s in range(5)}, {s: 0.6 for s in range(5)})
    assert five.method == "bootstrap" and five.n == 5 and five.mean == pytest.approx(2.0)
    assert 0 <= five.low < 2.0 < five.high <= 4.0 and five.mark == " ▲"
    assert paired_difference({1: 0.5, 2: 0.6}, {3: 0.5, 4: 0.6}) is None  # no seed in common


def test_table_row_names_may_hold_an_equals_sign(tmp_path, capsys):
    """Paper tables name rows "MTL D=5" or "teacher = ensemble": the glob is what follows the last '='."""
    for name, v in (("d5_s1", 0.61), ("d5_s2", 0.63), ("ens_s1", 0.7)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps({"test": {"f1": v}}))
    assert (
        main(
            [
                "table",
                "seeds",
                "--metric",
                "f1",
                "--row",
                f"MTL D=5={tmp_path}/d5_s*",
                "--row",
                f"MTKD-TA, teacher = ensemble={tmp_path}/ens_s*",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "| MTL D=5 | 2 | 62.00 ± 1.41 |" in out and "| MTKD-TA, teacher = ensemble | 1 | 70.00 |" in out


def test_single_task_runs_answer_task_prefixed_metrics(tmp_path):
    from hf_emo.tables import seed_table

    for name, content in (
        ("stl", {"test": {"f1_micro": 0.6}, "run": {"task": "redv2"}}),
        ("mtl", {"test": {"redv2_f1_micro": 0.65, "laroseda_accuracy": 0.9}, "run": {"tasks": ["redv2", "laroseda"]}}),
    ):
        d = tmp_path / name
        d.mkdir()
        d.joinpath("metrics.json").write_text(json.dumps(content))
    text = seed_table(
        {"baseline": str(tmp_path / "stl"), "MTL": str(tmp_path / "mtl")},
        ["redv2_f1_micro", "laroseda_accuracy"],
        allow_missing=True,
    )
    assert "| baseline | 1 | 60.00 | – |" in text and "| MTL | 1 | 65.00 | 90.00 |" in text


def test_seed_table_reads_another_split_per_row_and_json_table(tmp_path, capsys):
    from hf_emo.tables import seed_table

    for i, (after, before, corr) in enumerate(((0.50, 0.45, -0.2), (0.52, 0.44, -0.4))):
        d = tmp_path / f"q_s{i}"
        d.mkdir()
        d.joinpath("metrics.json").write_text(
            json.dumps(
                {
                    "test": {"f1_micro": after},
                    "test_stage1": {"f1_micro": before},
                    "run": {"weight_noise_correlations": {"pivot_lang=da": corr, "alignment=1:n": float("nan")}},
                }
            )
        )
    text = seed_table({"before": f"{tmp_path}/q_s*::test_stage1", "after": f"{tmp_path}/q_s*"}, ["f1_micro"])
    assert "| before | 2 | 44.50 ± 0.71 |" in text and "| after | 2 | 51.00 ± 1.41 |" in text
    with pytest.raises(ValueError, match="different splits"):
        seed_table({"x": [f"{tmp_path}/q_s0::test", f"{tmp_path}/q_s1::test_stage1"]}, ["f1_micro"])
    assert main(["table", "json", "--runs", f"{tmp_path}/q_s*", "--key", "run.weight_noise_correlations"]) == 0
    out = capsys.readouterr().out
    assert "| pivot_lang=da | 2 | -0.300 ± 0.141 |" in out and "alignment" not in out


def test_distil_from_redv2s_annotator_shares(tiny_encoder_dir, data_dir, tmp_path, capsys):
    """`--teacher_column soft_labels`: REDv2's per-label vote shares are the teacher (no teacher model); the record
    and the card say so, and it trains other weights than gold labels alone. Both sources at once, or a column the
    data lacks, are refused by name."""
    from safetensors.torch import load_file

    from hf_emo.cards import render_model_card
    from tests.conftest import cli_error

    cfg = tmp_path / "red.yaml"
    cfg.write_text(
        "task: redv2\nmax_train_samples: 24\nmax_length: 16\nnum_train_epochs: 1\n"
        'per_device_train_batch_size: 8\nlearning_rate: 5.0e-3\nsave_strategy: "no"\nreport_to: none\n'
        "dataloader_pin_memory: false\nseed: 3\n"
    )
    common = ["--config", str(cfg), "--model_name_or_path", str(tiny_encoder_dir)]
    assert (
        main(
            ["distil", *common, "--teacher_column", "soft_labels", "--alpha", "0", "--output_dir", str(tmp_path / "kd")]
        )
        == 0
    )
    assert main(["train", *common, "--output_dir", str(tmp_path / "gold")]) == 0
    m = json.loads((tmp_path / "kd" / "metrics.json").read_text())
    kd = m["run"]["method"]["settings"]
    assert kd["teacher_column"] == "soft_labels" and "teachers" not in kd
    assert 0.0 <= m["test_loyalty"]["label_loyalty"] <= 1.0 and "test_teacher" not in m
    kd, gold = (
        load_file(str(tmp_path / "kd" / "model.safetensors")),
        load_file(str(tmp_path / "gold" / "model.safetensors")),
    )
    assert max(float((kd[k] - gold[k]).abs().max()) for k in kd) > 1e-4
    assert "the training data's `soft_labels` column" in render_model_card(tmp_path / "kd")
    err = cli_error(
        capsys,
        [
            "distil",
            *common,
            "--teacher_column",
            "soft_labels",
            "--teacher",
            str(tmp_path / "gold"),
            "--output_dir",
            str(tmp_path / "both"),
        ],
    )
    assert "not both" in err
    err = cli_error(capsys, ["distil", *common, "--teacher_column", "votes", "--output_dir", str(tmp_path / "no")])
    assert "redv2" in err and "'votes'" in err and "soft_labels" in err
