"""The CLI end to end on a tiny encoder and a user's own files: train -> report -> predict -> evaluate."""

import json

import pytest

from hf_emo.cli import main

ROWS = [
    ("i am happy today", "joy"),
    ("this is great joy", "joy"),
    ("i love this day", "joy"),
    ("i am sad", "sadness"),
    ("awful bad day", "sadness"),
    ("i hate this", "sadness"),
    ("i am afraid", "fear"),
    ("fear fear", "fear"),
    ("you are afraid", "fear"),
]


@pytest.fixture
def files(tmp_path):
    paths = {}
    for split in ("train", "validation", "test"):
        p = tmp_path / f"{split}.csv"
        p.write_text("text,emotion\n" + "".join(f"{t},{y}\n" for t, y in ROWS), encoding="utf-8")
        paths[split] = str(p)
    return paths


def test_train_report_predict_evaluate(tiny_encoder_dir, files, tmp_path, capsys):
    out = tmp_path / "run"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""model_name_or_path: {tiny_encoder_dir}
task: null
train_file: {files["train"]}
validation_file: {files["validation"]}
test_file: {files["test"]}
text_column: text
label_columns: [emotion]
problem_type: single_label
max_length: 16
num_train_epochs: 3
per_device_train_batch_size: 3
learning_rate: 5.0e-3
eval_strategy: epoch
save_strategy: "no"
logging_steps: 1
report_to: none
dataloader_pin_memory: false
output_dir: {out}
""")
    assert main(["train", "--config", str(cfg), "--seed", "3"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"validation", "test", "detail", "run"}
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0
    assert metrics["run"]["split_sizes"] == {"train": 9, "validation": 9, "test": 9}
    assert metrics["run"]["seed"] == 3
    cm = metrics["detail"]["confusion_matrix"]
    assert sum(map(sum, cm)) == 9 and len(cm) == 3
    for name in ("report.md", "confusion_matrix.png", "training_curves.png", "config.json", "tokenizer.json"):
        assert (out / name).exists(), name
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert "| accuracy |" in (out / "report.md").read_text()

    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--format", "json", "i am happy", "i am afraid"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["text"] for r in rows] == ["i am happy", "i am afraid"]
    for r in rows:
        assert set(r["scores"]) == {"fear", "joy", "sadness"}
        assert sum(r["scores"].values()) == pytest.approx(1.0, abs=1e-3)
        assert r["labels"] == [max(r["scores"], key=r["scores"].get)]

    assert (
        main(
            [
                "evaluate",
                "--model",
                str(out),
                "--file",
                files["test"],
                "--label-columns",
                "emotion",
                "--problem-type",
                "single_label",
                "--output",
                str(tmp_path / "e.json"),
            ]
        )
        == 0
    )
    ev = json.loads((tmp_path / "e.json").read_text())
    assert ev["accuracy"] == pytest.approx(metrics["test"]["accuracy"])


def test_data_lists_tasks(capsys, data_dir):
    assert main(["data", "--json", "--task", "redv2", "--task", "emobank"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["redv2"]["rows"] == {"train": 4088, "validation": 543, "test": 818}
    assert out["redv2"]["train_label_counts"]["Sadness"] == 820
    assert set(out["emobank"]["train_label_means"]) == {"V", "A", "D"}


def test_unknown_command():
    assert main(["fly"]) == 2
