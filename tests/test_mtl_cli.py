"""`hf-emo mtl` end to end on real data with a tiny encoder: train -> report/PNGs -> predict every task."""

import json
import re

import pytest

from hf_emo.cli import main
from tests.conftest import cli_error


@pytest.mark.parametrize(
    "layout,single,extra",
    [
        ("multi_head", "dair_emotion", []),
        (
            "shared_embedding",
            "redv1",
            [
                "--loss_weighting",
                "gradnorm",
                "--task_sampler",
                "round_robin",
                "--gradient_accumulation_steps",
                "3",
                "--freeze_encoder",
                "true",
                "--threshold_tuning",
                "per_label",
            ],
        ),
    ],
)
def test_mtl_train_report_predict(tiny_encoder_dir, data_dir, tmp_path, capsys, layout, single, extra):
    """The frozen-encoder run encodes every full split once, so it uses the smaller REDv1 as its single-label task."""
    out = tmp_path / "run"
    caps = json.dumps({"redv2": 48, single: 48, "emobank": 48})
    argv = [
        "mtl",
        "--model_name_or_path",
        str(tiny_encoder_dir),
        "--tasks",
        "redv2",
        single,
        "emobank",
        "--max_train_samples",
        caps,
        "--head_layout",
        layout,
        "--shared_layer_size",
        "16",
        "--max_length",
        "32",
        "--output_dir",
        str(out),
        "--per_device_train_batch_size",
        "8",
        "--per_device_eval_batch_size",
        "256",
        "--num_train_epochs",
        "1",
        "--learning_rate",
        "1e-3",
        "--report_to",
        "none",
        "--save_strategy",
        "no",
        "--eval_strategy",
        "epoch",
        "--use_cpu",
        "true",
        "--disable_tqdm",
        "true",
        *extra,
    ]
    assert main(argv) == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in ("redv2_f1_micro", f"{single}_accuracy", "emobank_pearson_mean"):
        assert 0.0 <= abs(m["test"][key]) <= 1.0
    assert m["run"]["split_sizes"]["redv2"] == {"train": 48, "validation": 543, "test": 818}
    assert m["run"]["head_layout"] == layout
    assert "redv2" in m["run"]["thresholds"]
    per_label = "per_label" in extra  # one tuned threshold per REDv2 label, saved and used by predict
    assert isinstance(m["run"]["thresholds"]["redv2"], list if per_label else float)
    assert len(m["run"]["thresholds"]["redv2"]) == 7 if per_label else True
    report = (out / "report.md").read_text()
    assert "## redv2" in report and "## emobank" in report
    corr = (out / "label_correlation.csv").read_text().splitlines()
    assert len(corr) == 1 + 7 + (6 if single == "dair_emotion" else 5) + 3
    assert (out / "label_correlation.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "task_weights.png").exists() == ("gradnorm" in extra)
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--format", "json", "sunt fericit", "i am afraid"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [sorted(r["tasks"]) for r in rows] == [sorted([single, "emobank", "redv2"])] * 2
    assert len(rows[0]["tasks"][single]["labels"]) == 1
    assert sorted(rows[0]["tasks"]["emobank"]["scores"]) == ["A", "D", "V"]
    # the Hub card of a multi-task run, staged locally
    assert main(["push", "--output-dir", str(out), "--repo-id", "me/mtl", "--dry-run", str(tmp_path / "up")]) == 0
    card = (tmp_path / "up" / "README.md").read_text()
    assert "## Tasks and data" in card and "| emobank | regression |" in card and "(primary: `redv2`)" in card
    assert "redv2 | f1_micro |" in card and "Ethics" in card and "@misc{matei_mtkd_romanian" in card
    assert ("chen2018gradnorm" in card) == ("gradnorm" in extra)
    assert ("shared-embedding output layer" in card) == (layout == "shared_embedding")
    assert (tmp_path / "up" / "model.safetensors").is_file() and (tmp_path / "up" / "label_correlation.png").is_file()
    # paper 000 Table 6: texts, gold labels, each model's labels with probabilities
    assert (
        main(
            ["table", "probs", "--model", f"MTL={out}", "--task", "redv2", "--n", "3", "--out", str(tmp_path / "t6.md")]
        )
        == 0
    )
    table = (tmp_path / "t6.md").read_text().splitlines()
    assert table[0] == "| text | gold | MTL |" and len(table) == 2 + 3
    # the paper's own four example tweets are REDv2 test rows 110, 111, 116, 119
    assert (
        main(
            [
                "table",
                "probs",
                "--model",
                f"MTL={out}",
                "--task",
                "redv2",
                "--rows",
                "110",
                "111",
                "116",
                "119",
                "--out",
                str(tmp_path / "t6p.md"),
            ]
        )
        == 0
    )
    paper = (tmp_path / "t6p.md").read_text().splitlines()[2:]
    assert [r.split(" | ")[1] for r in paper] == ["Trust", "Fear", "Fear", "Joy"]  # Matei's Label column
    assert "fobie socială aiurea" in paper[1] and "Omul binedispus" in paper[3]
    assert "rows 0..817" in cli_error(capsys, ["table", "probs", "--model", f"MTL={out}", "--rows", "900"])


def test_mtl_bad_arguments_name_the_problem(tmp_path, capsys):
    assert re.search(
        "unknown task", cli_error(capsys, ["mtl", "--tasks", "redv2", "moroco", "--output_dir", str(tmp_path)])
    )
    assert re.search(
        r"train_fraction names unknown task\(s\) \['moroco'\]",
        cli_error(
            capsys, ["mtl", "--tasks", "redv2", "--train_fraction", '{"moroco": 0.1}', "--output_dir", str(tmp_path)]
        ),
    )
    from hf_emo.jobs.multitask import MultiTaskRunArguments

    run = MultiTaskRunArguments(tasks=["emobank"], max_train_samples='{"dair_emotion": 965, "emobank": 100}')
    assert run.max_train_samples == {"emobank": 100}  # a shared config's entry for an absent task is dropped


def test_mtkd_with_an_ensemble_of_teachers_per_task_and_a_teacher_cache(tiny_encoder_dir, data_dir, tmp_path):
    """MTKD: a task's teacher may be several folders (an ensemble, their logits stacked and aggregated); the logits
    are kept in teacher_cache_dir and the next run with the same teachers reads them from there."""
    common = [
        "--model_name_or_path",
        str(tiny_encoder_dir),
        "--max_length",
        "32",
        "--per_device_train_batch_size",
        "8",
        "--num_train_epochs",
        "1",
        "--report_to",
        "none",
        "--save_strategy",
        "no",
        "--use_cpu",
        "true",
        "--disable_tqdm",
        "true",
    ]
    teachers = []
    for seed in (1, 2):
        out = tmp_path / f"teacher{seed}"
        assert (
            main(
                [
                    "train",
                    "--task",
                    "redv2",
                    "--max_train_samples",
                    "32",
                    "--output_dir",
                    str(out),
                    "--seed",
                    str(seed),
                    *common,
                ]
            )
            == 0
        )
        teachers.append(str(out))
    cache = tmp_path / "cache"
    argv = [
        "mtl",
        "--tasks",
        "redv2",
        "emobank",
        "--max_train_samples",
        json.dumps({"redv2": 32, "emobank": 32}),
        "--teacher",
        json.dumps({"redv2": teachers}),
        "--teacher_cache_dir",
        str(cache),
        "--alpha",
        "0.5",
        "--temperature",
        "1.0",
        *common,
    ]
    assert main([*argv, "--output_dir", str(tmp_path / "mtkd")]) == 0
    run = json.loads((tmp_path / "mtkd" / "metrics.json").read_text())["run"]
    assert "distillation" not in run and len(run["method"]["settings"]["teachers"]["redv2"]) == 2
    assert run["method"]["settings"]["alpha"] == 0.5
    entries = sorted(p.name for p in cache.iterdir())
    assert len(entries) == 6  # each of the 2 teachers on train, validation and test of REDv2, kept on its own
    assert run["method"]["settings"]["kd_loss"] == {"redv2": "kl_bernoulli"}  # auto, multi-label
    assert (
        main(
            [
                *argv,
                "--output_dir",
                str(tmp_path / "mtkd2"),
                "--temperature",
                "2.0",
                "--task_kd_losses",
                '{"redv2": "kl_softmax"}',
            ]
        )
        == 0
    )
    assert sorted(p.name for p in cache.iterdir()) == entries  # same teachers and data: read, not recomputed
    run2 = json.loads((tmp_path / "mtkd2" / "metrics.json").read_text())["run"]
    assert run2["method"]["settings"]["kd_loss"] == {"redv2": "kl_softmax"}
    assert run2["method"]["settings"]["task_kd_losses"] == {"redv2": "kl_softmax"}


def test_mtkd_from_a_teacher_column_of_annotator_shares(tiny_encoder_dir, data_dir, tmp_path, capsys):
    """MTKD where REDv2's teacher is its annotators' vote shares (`--teacher_columns '{"redv2": "soft_labels"}'`)
    and the other task has a teacher model: the record and the card name the column, the KD term changes the weights
    against the same run without it, and a task given both sources, or a column its data lacks, is refused by name."""
    from safetensors.torch import load_file

    from hf_emo.cards import render_model_card

    common = [
        "--model_name_or_path",
        str(tiny_encoder_dir),
        "--max_length",
        "16",
        "--per_device_train_batch_size",
        "8",
        "--num_train_epochs",
        "1",
        "--learning_rate",
        "5e-3",
        "--report_to",
        "none",
        "--save_strategy",
        "no",
        "--use_cpu",
        "true",
        "--disable_tqdm",
        "true",
        "--seed",
        "3",
    ]
    teacher = tmp_path / "teacher"
    assert main(["train", "--task", "redv1", "--max_train_samples", "16", "--output_dir", str(teacher), *common]) == 0
    mtl = ["mtl", "--tasks", "redv2", "redv1", "--max_train_samples", json.dumps({"redv2": 24, "redv1": 16}), *common]
    kd = [
        *mtl,
        "--teacher",
        json.dumps({"redv1": str(teacher)}),
        "--alpha",
        "0.5",
        "--task_kd_losses",
        '{"redv2": "kl_softmax"}',
    ]
    assert main([*kd, "--teacher_columns", '{"redv2": "soft_labels"}', "--output_dir", str(tmp_path / "ann")]) == 0
    assert main([*kd, "--output_dir", str(tmp_path / "model_only")]) == 0
    run = json.loads((tmp_path / "ann" / "metrics.json").read_text())["run"]
    assert run["method"]["settings"]["teacher_columns"] == {"redv2": "soft_labels"}
    assert run["method"]["settings"]["kd_loss"] == {"redv1": "kl_softmax", "redv2": "kl_softmax"}
    assert "redv2" in run["method"]["summary"] and "each task with a teacher (redv1, redv2)" in run["method"]["summary"]
    ann = load_file(str(tmp_path / "ann" / "model.safetensors"))
    only = load_file(str(tmp_path / "model_only" / "model.safetensors"))
    assert max(float((ann[k] - only[k]).abs().max()) for k in ann) > 1e-4
    assert "`redv2` ← the training data's `soft_labels` column" in render_model_card(tmp_path / "ann")
    err = cli_error(
        capsys,
        [
            *mtl,
            "--teacher",
            json.dumps({"redv2": str(teacher)}),
            "--teacher_columns",
            '{"redv2": "soft_labels"}',
            "--output_dir",
            str(tmp_path / "both"),
        ],
    )
    assert "['redv2']" in err and "both a teacher" in err
    err = cli_error(capsys, [*mtl, "--teacher_columns", '{"redv2": "votes"}', "--output_dir", str(tmp_path / "no")])
    assert "'redv2'" in err and "'votes'" in err and "soft_labels" in err


def test_mtkd_teacher_logits_and_frozen_features_run_on_the_training_device(
    tiny_encoder_dir, data_dir, tmp_path, monkeypatch
):
    """The teachers' logits and the frozen encoder's features are computed before the Trainer exists; they must run
    on the run's device (on a GPU machine they ran on the CPU, minutes per MTKD run), not wherever the model was
    loaded."""
    import torch

    import hf_emo.features
    import hf_emo.jobs.multitask as mt_job

    seen = {"teachers": [], "features": []}
    real_logits, real_features = mt_job.cache_teacher_logits, hf_emo.features.cache_encoder_features

    def spy_logits(*a, **kw):
        seen["teachers"].append(kw.get("device"))
        return real_logits(*a, **kw)

    def spy_features(*a, **kw):
        seen["features"].append(kw.get("device"))
        return real_features(*a, **kw)

    monkeypatch.setattr(mt_job, "cache_teacher_logits", spy_logits)
    monkeypatch.setattr(hf_emo.features, "cache_encoder_features", spy_features)
    common = [
        "--model_name_or_path",
        str(tiny_encoder_dir),
        "--max_length",
        "16",
        "--per_device_train_batch_size",
        "8",
        "--num_train_epochs",
        "1",
        "--report_to",
        "none",
        "--save_strategy",
        "no",
        "--use_cpu",
        "true",
        "--disable_tqdm",
        "true",
    ]
    teacher = tmp_path / "teacher"
    assert main(["train", "--task", "redv1", "--max_train_samples", "16", "--output_dir", str(teacher), *common]) == 0
    assert (
        main(
            [
                "mtl",
                "--tasks",
                "redv1",
                "emobank",
                "--max_train_samples",
                json.dumps({"redv1": 16, "emobank": 16}),
                "--teacher",
                json.dumps({"redv1": str(teacher)}),
                "--freeze_encoder",
                "true",
                "--output_dir",
                str(tmp_path / "mtkd"),
                *common,
            ]
        )
        == 0
    )
    assert seen["teachers"] == [torch.device("cpu")]
    assert seen["features"] and all(d == torch.device("cpu") for d in seen["features"])


@pytest.mark.parametrize("profile", ["paper", "embedded"])
def test_recipe_05_runs_its_documented_task_subset_in_both_profiles(tiny_encoder_dir, data_dir, tmp_path, profile):
    """`05_mtl.sh --tasks redv2 ag_news` (its own example; 07's Table 5 ablations do the same through 06): the shared
    config and the script name LaRoSeDa in task_weights and task_losses, which the run drops with a warning instead
    of refusing (it failed in both profiles before)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "mtl"
    env = {**os.environ, "HF_EMO_BIN": str(Path(sys.executable).parent / "hf-emo"), "HF_EMO_DATA_DIR": str(data_dir)}
    proc = subprocess.run(
        ["bash", "recipes/romanian_mtkd/05_mtl.sh", "--profile", profile, "--tasks", "redv2", "ag_news",
         "--model_name_or_path", str(tiny_encoder_dir), "--max_train_samples", '{"redv2": 16, "ag_news": 16}',
         "--max_steps", "2", "--per_device_train_batch_size", "8", "--per_device_eval_batch_size", "256",
         "--max_length", "16", "--eval_strategy", "no", "--use_cpu", "true", "--max_eval_samples", "8",
         "--max_test_samples", "8", "--output_dir", str(out)],
        cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "['laroseda'] ignored: not among this run's tasks" in proc.stderr
    run = json.loads((out / "metrics.json").read_text())["run"]
    assert run["tasks"] == ["redv2", "ag_news"] and run["task_weights"] == {"ag_news": 0.1}
    assert run["row_caps"] == {t: {"validation": 8, "test": 8} for t in ("redv2", "ag_news")}  # quick-run caps
