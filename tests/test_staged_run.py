"""`hf-emo stages`: schedules (multi-stage, gradual, multi-task cross-lingual) on a tiny encoder and real data."""

import json

import pytest

from hf_emo.jobs.staged import stage_config, stage_rows, validate_stages
from hf_emo.trainers import MultiTaskConfig


def test_schedule_validation_and_sizes(tmp_path):
    tasks = ["redv2", "dair_emotion"]
    ok = validate_stages(
        [{"tasks": {"dair_emotion": 0.5, "redv2": None}}, {"name": "ro", "tasks": {"redv2": 100}}], tasks
    )
    assert [s["name"] for s in ok] == ["stage1", "ro"]
    for bad, msg in (
        ([], "non-empty"),
        ([{"tasks": {}}], "non-empty 'tasks'"),
        ([{"tasks": {"sst2": None}}], "not among"),
        ([{"tasks": {"redv2": 1.5}}], "fraction"),
        ([{"tasks": {"redv2": 0}}], "row count"),
        ([{"tasks": {"redv2": None}, "lr": 1}], "unknown key"),
        ([{"tasks": {"redv2": None}, "num_train_epochs": 0}], "num_train_epochs"),
    ):
        with pytest.raises(ValueError, match=msg):
            validate_stages(bad, tasks)
    assert (stage_rows(1000, None), stage_rows(1000, 0.25), stage_rows(1000, 5000), stage_rows(1000, 10)) == (
        1000,
        250,
        1000,
        10,
    )
    cfg = MultiTaskConfig(
        output_dir=str(tmp_path), task_weights={"redv2": 1.0, "xed_language": 0.1}, report_to=[], use_cpu=True
    )
    st = stage_config(
        cfg,
        {"tasks": {"redv2": None}, "num_train_epochs": 2, "learning_rate": 1e-4, "adversarial_tasks": ["xed_language"]},
    )
    assert (st.num_train_epochs, st.learning_rate, st.adversarial_tasks) == (2, 1e-4, ["xed_language"])
    assert stage_config(cfg, {"tasks": {"redv2": None}, "task_weights": {"redv2": 1, "x": 2}}).task_weights == {
        "redv2": 1
    }
    assert cfg.num_train_epochs == 3  # the run's config is not modified
    from hf_emo.jobs.staged import StagedRunArguments

    stages = [{"tasks": {"redv2": None}}]
    for extra in ({"teacher": {"redv2": "runs/t"}}, {"teacher_columns": {"redv2": "soft_labels"}}):
        with pytest.raises(ValueError, match="teacher_columns are not supported"):  # refused, not ignored
            StagedRunArguments(tasks=["redv2"], stages=stages, **extra)


def test_stages_cli_multitask_cross_lingual(data_dir, tiny_encoder_dir, tmp_path):
    from hf_emo.cli import main

    out = tmp_path / "run"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""model_name_or_path: {tiny_encoder_dir}
tasks: [redv2, dair_emotion, xed_language]
primary_task: redv2
max_length: 16
stages:
  - name: english
    tasks: {{dair_emotion: 64}}
  - name: romanian+language
    tasks: {{redv2: 96, xed_language: 32}}
    adversarial_tasks: [xed_language]
    task_weights: {{xed_language: 0.5}}
max_steps: 3
per_device_train_batch_size: 16
per_device_eval_batch_size: 256
learning_rate: 1.0e-3
report_to: none
save_strategy: "no"
eval_strategy: "no"
use_cpu: true
output_dir: {out}
""")
    assert main(["stages", "--config", str(cfg), "--data_dir", str(data_dir)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert "redv2_f1_micro" in m["test"] and not any(k.startswith("dair") for k in m["test"])
    st = m["run"]["stages"]
    assert [s["name"] for s in st] == ["english", "romanian+language"]
    assert st[0]["rows"] == {"dair_emotion": 64} and st[1]["rows"] == {"redv2": 96, "xed_language": 32}
    assert st[1]["adversarial_tasks"] == ["xed_language"] and st[1]["adversarial_mode"] == "gradient_reversal"
    assert st[1]["task_weights"] == {"xed_language": 0.5} and all(s["steps"] == 3 for s in st)
    report = (out / "report.md").read_text()
    assert "## Stages" in report and "| metric |  |" not in report
    dair_section = report.split("## dair_emotion")[1].split("## ")[0]
    assert "Not evaluated" in dair_section and "| f1_micro |" in report.split("## redv2")[1].split("## ")[0]
    from hf_emo.cards import render_model_card

    card = render_model_card(out, "me/xl")
    for part in (
        "Trained in stages",
        "`english` (dair_emotion: 64 rows",
        "xed_language trained by gradient reversal",
        "@misc{xu2021gradual",
        "@article{chen2018adan",
    ):
        assert part in card, part
    from transformers import AutoModel

    loaded = AutoModel.from_pretrained(out)
    assert loaded.task_names == ["redv2", "dair_emotion", "xed_language"] and loaded._gradient_reversal == {}
