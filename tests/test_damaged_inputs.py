"""Inputs that used to end in a trace or a wrong refusal (issue 37, class 3): damaged weights and a folder without
its tokenizer in predict, a checkpoint of another model on resume (one sentence each), and data that is fine but
was refused (JSON lists of labels, a CSV text over 128 KB)."""

from __future__ import annotations

import json
import shutil

import pytest

from hf_emo.cli import main
from hf_emo.data import load_local
from tests.conftest import cli_error

ROWS = [("i am happy", "joy"), ("i am sad", "sadness"), ("great day", "joy"), ("awful day", "sadness")] * 4


def _csv(path, rows):
    path.write_text("text,emotion\n" + "".join(f"{t},{y}\n" for t, y in rows), encoding="utf-8")
    return str(path)


def _train_args(encoder, train: str, out) -> list[str]:
    return [
        "train", "--model_name_or_path", str(encoder), "--task", "none", "--train_file", train,
        "--label_columns", "emotion", "--problem_type", "single_label", "--max_length", "16",
        "--num_train_epochs", "1", "--per_device_train_batch_size", "4", "--report_to", "none", "--use_cpu", "true",
        "--output_dir", str(out),
    ]  # fmt: skip


@pytest.fixture
def run(tiny_encoder_dir, tmp_path):
    out = tmp_path / "run"
    argv = _train_args(tiny_encoder_dir, _csv(tmp_path / "train.csv", ROWS), out)
    assert main([*argv, "--save_strategy", "steps", "--save_steps", "2"]) == 0
    return out


def test_predict_with_truncated_weights_says_so(run, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    line = cli_error(capsys, ["predict", "--model", str(broken), "i am happy"])
    assert "cannot be read" in line and "damaged or truncated" in line


def test_predict_without_tokenizer_files_says_so(run, tmp_path, capsys):
    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (bare / name).unlink(missing_ok=True)
    line = cli_error(capsys, ["predict", "--model", str(bare), "i am happy"])
    assert "holds no usable tokenizer" in line and "copy the tokenizer files" in line


def test_resuming_a_checkpoint_of_another_model_is_one_sentence(run, tiny_encoder_dir, tmp_path, capsys):
    three = _csv(tmp_path / "three.csv", ROWS + [("calm day", "neutral")] * 4)  # 3 labels: another head
    argv = _train_args(tiny_encoder_dir, three, tmp_path / "other")
    line = cli_error(capsys, [*argv, "--resume_from_checkpoint", str(run / "checkpoint-2")])
    assert "holds another model than this run builds" in line and "classifier.weight" in line


def test_a_json_label_column_may_hold_lists_of_labels(tmp_path):
    rows = [{"text": "happy and afraid", "labels": ["joy", "fear"]}, {"text": "calm", "labels": []}] + [
        {"text": "happy", "labels": ["joy"]}
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = load_local(str(path), text_column="text", label_columns="labels", problem_type="multi_label")
    assert list(data.task_spec.label_names) == ["fear", "joy"]
    assert data["train"]["labels"] == [[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match=r"the label is a list .* one label per row"):
        load_local(str(path), text_column="text", label_columns="labels", problem_type="single_label")


def test_a_csv_text_over_128_kb_is_read(tmp_path):
    long_text = "word " * 30_000  # 150 KB: past the csv module's default field limit
    data = load_local(
        _csv(tmp_path / "t.csv", [(long_text, "joy"), ("sad", "sadness")]),
        text_column="text",
        label_columns="emotion",
        problem_type="single_label",
    )
    assert data["train"]["text"][0].split() == long_text.split() and data["train"]["labels"] == [0, 1]
