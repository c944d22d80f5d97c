"""`hf-emo consistency` end to end on XED en-ro (real data) with tiny models built from a config."""

import json
import re

import pytest

from hf_emo.data import TASKS
from tests.conftest import tiny_tokenizer
from tests.test_emotion_trainer import tiny_model
from tests.conftest import cli_error


def _save(spec, seed, path, threshold):
    m = tiny_model(spec, seed=seed)
    m.config.hf_emo_task = TASKS["xed_en"].to_dict()  # trained on English XED: same label names
    m.config.hf_emo_threshold = threshold
    m.save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return str(path)


@pytest.mark.parametrize("weighting", ["quality", "threshold"])
def test_consistency_run_reports_before_after_teacher_and_weight_correlations(
    data_dir, tmp_path, weighting, monkeypatch
):
    from hf_emo.cli import main
    from hf_emo.data import TaskSpec

    xed = TASKS["xed_en_ro"]
    spec = TaskSpec("xed", "multi_label", xed.label_names, "ro")
    student = _save(spec, 1, tmp_path / "stage1", 0.4)
    teacher = _save(spec, 2, tmp_path / "teacher", 0.45)
    out = tmp_path / "run"
    assert (
        main(
            [
                "consistency",
                "--model_name_or_path",
                student,
                "--teacher",
                teacher,
                "--data_dir",
                str(data_dir),
                "--max_train_samples",
                "48",
                "--max_steps",
                "3",
                "--per_device_train_batch_size",
                "16",
                "--per_device_eval_batch_size",
                "256",
                "--learning_rate",
                "1e-3",
                "--report_to",
                "none",
                "--save_strategy",
                "no",
                "--quality_weighting",
                weighting,
                "--drop_fraction",
                "0.25",
                "--temperature",
                "2",
                "--output_dir",
                str(out),
                "--max_length",
                "24",
                "--use_cpu",
                "true",
                "--prepared_cache_dir",
                str(tmp_path / "prep"),
            ]
        )
        == 0
    )
    m = json.loads((out / "metrics.json").read_text())
    assert len(list((tmp_path / "prep").iterdir())) == 1
    # a second run of the same student, teacher and data reuses the prepared set: no teacher / student pass
    import hf_emo.jobs.consistency as cr

    def fail(*a, **k):
        raise AssertionError("recomputed")

    real = cr._translation_logits
    monkeypatch.setattr(cr, "add_translation_disagreement", fail)  # the test split still gets the teacher's logits
    monkeypatch.setattr(cr, "_translation_logits", lambda t, ds, r, d: fail() if len(ds) == 48 else real(t, ds, r, d))
    assert (
        main(
            [
                "consistency",
                "--model_name_or_path",
                student,
                "--teacher",
                teacher,
                "--data_dir",
                str(data_dir),
                "--max_train_samples",
                "48",
                "--max_steps",
                "1",
                "--per_device_train_batch_size",
                "16",
                "--report_to",
                "none",
                "--save_strategy",
                "no",
                "--quality_weighting",
                "uniform",
                "--output_dir",
                str(tmp_path / "run2"),
                "--max_length",
                "24",
                "--use_cpu",
                "true",
                "--prepared_cache_dir",
                str(tmp_path / "prep"),
            ]
        )
        == 0
    )
    monkeypatch.undo()
    assert {"test", "test_stage1", "validation", "validation_stage1", "test_teacher", "test_loyalty"} <= set(m)
    assert m["run"]["threshold"] == 0.4 and m["run"]["split_sizes"]["train"] == 48
    c = m["run"]["method"]["settings"]
    assert c["quality_weighting"] == weighting and c["kd_loss"] == "kl_bernoulli"
    assert c["translation_column"] == "en_text" and c["teachers"] == ["teacher"]  # its name, not its /tmp path
    assert m["run"]["refinement"]["rows"] == (36 if weighting == "threshold" else 48)
    corr = m["run"]["weight_noise_correlations"]
    assert set(corr) >= {"pivot_lang=da", "alignment=1:n", "abs_log_length_ratio"}
    assert all(v != v or -1 <= v <= 1 for v in corr.values())  # nan when a flag is constant in the sample
    assert (out / "quality_weights.png").read_bytes()[:4] == b"\x89PNG"
    from transformers import AutoModelForSequenceClassification

    before = AutoModelForSequenceClassification.from_pretrained(student).classifier.weight
    after = AutoModelForSequenceClassification.from_pretrained(out).classifier.weight
    assert not before.allclose(after) and m["run"]["train_loss"] > 0  # three steps moved the student
    assert m["test_stage1"]["f1_micro"] >= 0 and m["test_teacher"]["f1_micro"] >= 0
    from hf_emo.cards import render_model_card

    card = render_model_card(out, "me/refined")
    for part in (
        "ConsistencyDistillationTrainer",
        "Wang et al. 2024",
        "student before refinement",
        "@inproceedings{wang2024",
        "`teacher`",
        "No gold label",
        "per-label Bernoulli KL",
        "cross-lingual",
    ):
        assert part in card, part


def test_consistency_run_needs_a_trained_student_and_a_teacher(data_dir, tmp_path, tiny_encoder_dir, capsys):

    assert re.search(
        "not a fine-tuned classifier",
        cli_error(
            capsys,
            [
                "consistency",
                "--model_name_or_path",
                str(tiny_encoder_dir),
                "--teacher",
                "x",
                "--output_dir",
                str(tmp_path),
                "--report_to",
                "none",
            ],
        ),
    )
    spec = TASKS["xed_en_ro"]
    student = _save(spec, 1, tmp_path / "s", 0.5)
    assert re.search(
        "needs a --teacher",
        cli_error(
            capsys,
            ["consistency", "--model_name_or_path", student, "--output_dir", str(tmp_path), "--report_to", "none"],
        ),
    )
    assert re.search(
        "no translation column 'de_text'",
        cli_error(
            capsys,
            [
                "consistency",
                "--model_name_or_path",
                student,
                "--teacher",
                student,
                "--translation_column",
                "de_text",
                "--output_dir",
                str(tmp_path / "refined"),
                "--report_to",
                "none",
                "--data_dir",
                str(data_dir),
            ],
        ),
    )
