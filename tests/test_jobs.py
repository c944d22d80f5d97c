"""The job layer: reproducible seeds, resume, the output folder, safe push, evaluation that checks the model's
labels, prediction refusals, and one clear error for each bad input (each test failed before the job layer)."""

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from hf_emo.cli import main
from tests.conftest import cli_error
from tests.test_cli import ROWS, files  # noqa: F401  (fixture)
from tests.test_distil_cli_and_hub import COMMON

TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWx12"

TRAIN = COMMON.replace('save_strategy: "no"\n', "")  # the tests choose their own save strategy


@pytest.fixture
def config(files, tmp_path):  # noqa: F811
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TRAIN.format(**files))
    return cfg


def _train(config, encoder, out, *extra) -> int:
    return main(
        [
            "train",
            "--config",
            str(config),
            "--model_name_or_path",
            str(encoder),
            "--output_dir",
            str(out),
            *map(str, extra),
        ]
    )


def _weights(run: Path) -> dict:
    return load_file(str(run / "model.safetensors"))


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


# -- 1. seeds -------------------------------------------------------------------------------------------------
def test_same_seed_same_weights_and_metrics_other_seed_differs(config, tiny_encoder_dir, tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        torch.manual_seed(1000 + len(name) * ord(name))  # a different global RNG state before each run
        assert _train(config, tiny_encoder_dir, tmp_path / name, "--seed", seed, "--save_strategy", "no") == 0
    a, b, c = (json.loads((tmp_path / n / "metrics.json").read_text()) for n in "abc")
    assert a["test"] == b["test"] and a["validation"] == b["validation"]
    assert _max_diff(_weights(tmp_path / "a"), _weights(tmp_path / "b")) == 0.0
    assert _max_diff(_weights(tmp_path / "a"), _weights(tmp_path / "c")) > 1e-4
    assert a["run"]["seed"] == 7 and a["run"]["versions"]["transformers"]


# -- 4. resume and the output folder -------------------------------------------------------------------------
def test_resume_equals_a_straight_run_and_skips_an_interrupted_checkpoint(config, tiny_encoder_dir, tmp_path, caplog):
    import shutil

    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    common = ["--seed", 3, "--save_strategy", "steps", "--save_steps", 2, "--num_train_epochs", 2]
    assert _train(config, tiny_encoder_dir, straight, *common) == 0
    # what a run killed during the save of step 4 leaves: checkpoint-2 complete, checkpoint-4 without its state
    resumed.mkdir()
    shutil.copytree(straight / "checkpoint-2", resumed / "checkpoint-2")
    shutil.copytree(straight / "checkpoint-4", resumed / "checkpoint-4")
    (resumed / "checkpoint-4" / "trainer_state.json").unlink()
    assert (
        main(
            [
                "train",
                "--config",
                str(config),
                "--model_name_or_path",
                str(tiny_encoder_dir),
                "--output_dir",
                str(resumed),
                "--resume_from_checkpoint",
                "true",
                *map(str, common),
            ]
        )
        == 0
    )
    assert "skipping" in caplog.text and "checkpoint-4" in caplog.text
    m = json.loads((resumed / "metrics.json").read_text())
    assert m["run"]["resumed_from"].endswith("checkpoint-2")
    assert _max_diff(_weights(straight), _weights(resumed)) < 1e-6
    assert m["test"] == json.loads((straight / "metrics.json").read_text())["test"]


def test_non_empty_output_dir_is_refused_unless_overwrite(config, tiny_encoder_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no") == 0
    (out / "notes.txt").write_text("mine")
    err = cli_error(
        capsys,
        ["train", "--config", str(config), "--model_name_or_path", str(tiny_encoder_dir), "--output_dir", str(out)],
    )
    assert "already holds files" in err and "--overwrite_output_dir" in err
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no", "--overwrite_output_dir", "true") == 0
    assert (out / "notes.txt").read_text() == "mine"  # overwrite deletes only what the earlier run wrote
    err = cli_error(
        capsys,
        [
            "train",
            "--config",
            str(config),
            "--model_name_or_path",
            str(tiny_encoder_dir),
            "--output_dir",
            str(tmp_path / "new"),
            "--resume_from_checkpoint",
            "true",
        ],
    )
    assert "no complete checkpoint" in err


# -- 3. push leaks --------------------------------------------------------------------------------------------
def test_no_token_or_local_path_in_any_artefact_and_push_uploads_this_run_only(
    config, tiny_encoder_dir, tmp_path, capsys, monkeypatch
):
    from hf_emo.jobs.push import stage_upload

    out = tmp_path / "run"
    out.mkdir()
    (out / "old_confusion.png").write_bytes(b"\x89PNG stale")  # left by an earlier run
    monkeypatch.setenv("HOME", str(tmp_path))  # the run's paths are under the user's home
    assert (
        _train(
            config,
            tiny_encoder_dir,
            out,
            "--save_strategy",
            "no",
            "--hub_token",
            TOKEN,
            "--overwrite_output_dir",
            "true",
        )
        == 0
    )
    for f in out.iterdir():
        if f.is_file():
            assert TOKEN.encode() not in f.read_bytes(), f.name
    run = json.loads((out / "metrics.json").read_text())["run"]
    assert str(tmp_path) not in json.dumps(run) and run["model"].startswith("~")
    staged = stage_upload(out, tmp_path / "staging", "me/x")
    names = {p.name for p in staged}
    assert "old_confusion.png" not in names and "training_args.bin" not in names and "model.safetensors" in names
    card = (tmp_path / "staging" / "README.md").read_text()
    assert "base_model:" not in card and str(tmp_path) not in card and TOKEN not in card
    # config.json names the wrapped encoder (it once kept the folder's absolute path, pushed with the model)
    for f in [out / "config.json", *staged]:
        if f.suffix in (".json", ".md", ".txt"):
            assert str(tmp_path) not in f.read_text(), f.name
    assert json.loads((out / "config.json").read_text())["encoder"]["_name_or_path"] == "~/tiny-bert"
    old_config = json.loads((out / "config.json").read_text())  # a run folder written before that fix
    old_config["encoder"]["_name_or_path"] = str(tmp_path / "models" / "my-e5")
    (out / "config.json").write_text(json.dumps(old_config))
    stage_upload(out, tmp_path / "staging_old", "me/x")
    assert json.loads((tmp_path / "staging_old" / "config.json").read_text())["encoder"]["_name_or_path"] == "my-e5"
    # offline: one sentence, rc 1, nothing lost
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    assert main(["push", "--output-dir", str(out), "--repo-id", "me/x", "--token", TOKEN]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hf-emo push: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert TOKEN not in err and sorted(p.name for p in out.iterdir()) == before


def test_scrub_removes_tokens_and_home_paths(monkeypatch, tmp_path):
    from hf_emo.scrub import scrub

    monkeypatch.setenv("HOME", str(tmp_path))
    rec = {
        "hub_token": TOKEN,
        "command": f"hf-emo train --hub_token {TOKEN} --model {tmp_path}/m",
        "note": f"token={TOKEN}",
        "nested": [{"api_key": "abc"}],
        "push_to_hub_token": None,
    }
    out = scrub(rec)
    assert TOKEN not in json.dumps(out) and "abc" not in json.dumps(out)
    assert out["command"] == "hf-emo train --hub_token <redacted> --model ~/m"
    assert out["push_to_hub_token"] is None


# -- 2. evaluate checks the model's labels ----------------------------------------------------------------------
@pytest.fixture
def trained(config, tiny_encoder_dir, tmp_path):
    out = tmp_path / "trained"
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no") == 0
    return out


def test_evaluate_refuses_a_file_with_other_labels_and_matches_a_subset_by_name(trained, tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("text,emotion\ni am happy,joy\ni hate this,anger\n")
    err = cli_error(capsys, ["evaluate", "--model", str(trained), "--file", str(other), "--label-columns", "emotion"])
    assert "['anger']" in err and "fear" in err and "joy" in err
    # a file with two of the model's three labels: encoded by the model's names, not re-numbered 0..1
    subset = tmp_path / "subset.csv"
    rows = [r for r in ROWS if r[1] != "fear"]
    subset.write_text("text,emotion\n" + "".join(f"{t},{y}\n" for t, y in rows))
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(trained),
                "--file",
                str(subset),
                "--label-columns",
                "emotion",
                "--output",
                str(tmp_path / "e.json"),
            ]
        )
        == 0
    )
    res = json.loads((tmp_path / "e.json").read_text())
    from hf_emo import predict

    pred = predict(str(trained), texts=[t for t, _ in rows])
    expected = np.mean([p[0] == y for p, (_, y) in zip(pred.labels, rows)])
    assert res["accuracy"] == pytest.approx(expected)


def test_evaluate_unknown_split_names_the_valid_ones(trained, data_dir, capsys):
    err = cli_error(capsys, ["evaluate", "--model", str(trained), "--task", "redv2", "--split", "dev"])
    assert "no split 'dev'" in err and "validation" in err and "test" in err


# -- 8. predict -------------------------------------------------------------------------------------------------
def test_predict_refuses_empty_text_and_a_bare_encoder(trained, tiny_encoder_dir, capsys):
    assert "text 2 is empty" in cli_error(capsys, ["predict", "--model", str(trained), "i am happy", " "])
    err = cli_error(capsys, ["predict", "--model", str(tiny_encoder_dir), "i am happy"])
    assert "no trained classification head" in err


# -- 9. live teacher with another tokenizer ----------------------------------------------------------------------
def test_live_teacher_with_another_tokenizer_is_refused(config, trained, tmp_path, capsys):
    from transformers import BertModel, BertTokenizer

    from tests.conftest import tiny_bert_config

    other = tmp_path / "other-encoder"
    vocab = {
        t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "zz", "yy", *ROWS[0][0].split()])
    }
    BertTokenizer(vocab=vocab).save_pretrained(other)
    BertModel(tiny_bert_config(vocab_size=len(vocab))).save_pretrained(other)
    err = cli_error(
        capsys,
        [
            "distil",
            "--config",
            str(config),
            "--model_name_or_path",
            str(other),
            "--teacher",
            str(trained),
            "--teacher_mode",
            "live",
            "--output_dir",
            str(tmp_path / "kd"),
        ],
    )
    assert "another tokenizer" in err and "teacher_mode cached" in err


# -- 5. label space of load_local ---------------------------------------------------------------------------
def _csv(tmp_path, name, body):
    p = tmp_path / name
    p.write_bytes(body if isinstance(body, bytes) else body.encode())
    return str(p)


def test_load_local_label_space_comes_from_train(tmp_path):
    from hf_emo import DataError, load_local

    train = _csv(tmp_path, "train.csv", "text,y\na b,joy\nc d,sad\n")
    test = _csv(tmp_path, "test.csv", "text,y\na b,joy\nc d,angry\n")
    with pytest.raises(
        DataError,
        match=r"test.csv, row 3, column 'y': label\(s\) \['angry'\] do not occur in the "
        r"train split",
    ):
        load_local({"train": train, "test": test}, text_column="text", label_columns="y", problem_type="single_label")
    multi = _csv(tmp_path, "m.csv", "text,y\na b,joy|sad\n")
    with pytest.raises(DataError, match=r"row 2.*contains '\|' but no label_sep.*label_sep='\|'"):
        load_local({"train": multi}, text_column="text", label_columns="y", problem_type="multi_label")
    comma = _csv(tmp_path, "c.csv", "text,y\nhello, world,joy\n")
    with pytest.raises(DataError, match=r"c.csv, row 2: 3 fields where the header has 2.*unquoted"):
        load_local({"train": comma}, text_column="text", label_columns="y", problem_type="single_label")
    header = _csv(tmp_path, "h.csv", "text,y\na b,joy\ntext,y\n")
    with pytest.raises(DataError, match=r"h.csv, row 3: the header row is repeated"):
        load_local({"train": header}, text_column="text", label_columns="y", problem_type="single_label")


# -- 7. files that name themselves -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, expected",
    [
        (b"", r"empty.csv: the file is empty"),
        (b"text,y\ncaf\xe9,joy\n", r"empty.csv, row 2: not UTF-8"),
        (b'text,y\n"unclosed,joy\nx,y2\n', r"empty.csv.*(quoting|fields)"),
    ],
)
def test_bad_csv_gives_one_error_naming_the_file(tmp_path, body, expected):
    from hf_emo import DataError, load_local

    path = _csv(tmp_path, "empty.csv", body)
    with pytest.raises(DataError, match=expected):
        load_local({"train": path}, text_column="text", label_columns="y", problem_type="single_label")


def test_yaml_syntax_error_and_missing_model_name_the_path(tmp_path, capsys, files):  # noqa: F811
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rate: [1e-3\nseed: 1\n")
    err = cli_error(capsys, ["train", "--config", str(bad)])
    assert str(bad) in err and "YAML syntax error at line" in err
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TRAIN.format(**files))
    err = cli_error(
        capsys,
        [
            "train",
            "--config",
            str(cfg),
            "--model_name_or_path",
            str(tmp_path / "no-such-model"),
            "--output_dir",
            str(tmp_path / "o"),
        ],
    )
    assert f"model folder {tmp_path / 'no-such-model'} does not exist" in err
    empty = tmp_path / "empty-model"
    empty.mkdir()
    err = cli_error(
        capsys,
        ["train", "--config", str(cfg), "--model_name_or_path", str(empty), "--output_dir", str(tmp_path / "o2")],
    )
    assert "has no config.json" in err


# -- 6. early validation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "flag, value, expected",
    [
        ("--num_train_epochs", "-1", "num_train_epochs must be > 0"),
        ("--max_length", "-5", "max_length must be a whole number >= 1"),
        ("--per_device_train_batch_size", "0", "per_device_train_batch_size must be >= 1"),
        ("--learning_rate", "-0.1", "learning_rate must be >= 0"),
    ],
)
def test_bad_numbers_fail_before_any_work(config, tiny_encoder_dir, tmp_path, capsys, flag, value, expected):
    out = tmp_path / "o"
    err = cli_error(
        capsys,
        [
            "train",
            "--config",
            str(config),
            "--model_name_or_path",
            str(tiny_encoder_dir),
            "--output_dir",
            str(out),
            flag,
            value,
        ],
    )
    assert expected in err and value in err
    assert not out.exists()


def test_a_string_where_a_number_belongs_is_named():
    from hf_emo import DistillationConfig

    with pytest.raises(ValueError, match=r"temperature must be a number, got '2' \(str\)"):
        DistillationConfig(output_dir="x", report_to="none", temperature="2")


# -- 10. checkpoints load tensors only ------------------------------------------------------------------------------
class _Exploit:
    def __reduce__(self):
        return (Path.write_text, (Path("/tmp/hf_emo_pwned_marker"), "pwned"))


def test_gradnorm_state_is_loaded_without_running_pickled_code(tmp_path):
    from tests.conftest import mt_dataset, mt_model, mt_specs, tiny_tokenizer

    from hf_emo import MultiTaskConfig, MultiTaskTrainer

    marker = Path("/tmp/hf_emo_pwned_marker")
    marker.unlink(missing_ok=True)
    tok = tiny_tokenizer()
    specs = mt_specs()
    args = MultiTaskConfig(
        output_dir=str(tmp_path / "o"),
        report_to="none",
        loss_weighting="gradnorm",
        task_sampler="round_robin",
        gradient_accumulation_steps=3,
        max_steps=1,
    )
    trainer = MultiTaskTrainer(
        mt_model(), args, train_dataset={s.name: mt_dataset(s, 6, 0, tok) for s in specs}, processing_class=tok
    )
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    with open(ckpt / "gradnorm.pt", "wb") as fh:
        pickle.dump(_Exploit(), fh)
    with pytest.raises(Exception):
        trainer._load_optimizer_and_scheduler(str(ckpt))
    assert not marker.exists()


# -- 11. noise ----------------------------------------------------------------------------------------------------
def test_import_and_build_print_no_known_harmless_warnings(tiny_encoder_dir, capfd):
    import subprocess
    import sys

    code = (
        "import hf_emo; from hf_emo.models import build_classifier; from hf_emo import TaskSpec; "
        f"m = build_classifier({str(tiny_encoder_dir)!r}, TaskSpec('t', 'single_label', ('a', 'b'), 'en')); "
        "m.save_pretrained('/tmp/hf_emo_noise_m'); from hf_emo.models import load_classifier; "
        "load_classifier('/tmp/hf_emo_noise_m')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    text = out.stdout + out.stderr
    assert "gemm_4bit_forward" not in text
    assert not re.search(r"pooler\.dense\.\w+\s*\|\s*(MISSING|UNEXPECTED)", text), text


def test_machine_description_names_the_torch_thread_count_when_it_is_not_the_core_count():
    """CPU results repeat bit for bit only at the same thread count, so the record must say which it was."""
    import os

    from hf_emo.jobs.record import machine_description

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(os.cpu_count())
        assert "torch thread" not in machine_description()
        torch.set_num_threads(1)
        assert ("1 torch thread," in machine_description()) == (os.cpu_count() != 1)
    finally:
        torch.set_num_threads(before)


def test_machine_description_of_a_gpu_names_the_card_and_the_torch_version(monkeypatch):
    from hf_emo.jobs.record import machine_description

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "NVIDIA H200")
    assert machine_description() == f"1 x NVIDIA H200, torch {torch.__version__}"


# -- CLI conventions (issue 38 item 6) ---------------------------------------------------------------------------
def test_quick_runs_cap_the_evaluated_rows_and_say_so(config, tiny_encoder_dir, tmp_path):
    """`--max_eval_samples` / `--max_test_samples` cut validation and test to a seeded subset (a 3-step run spent
    minutes scoring thousands of rows); the record states the cut."""
    out = tmp_path / "capped"
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no", "--max_eval_samples", "3",
                  "--max_test_samples", "4") == 0  # fmt: skip
    run = json.loads((out / "metrics.json").read_text())["run"]
    assert run["row_caps"] == {"validation": 3, "test": 4}
    assert run["split_sizes"]["validation"] == 3 and run["split_sizes"]["test"] == 4
    full = tmp_path / "full"
    assert _train(config, tiny_encoder_dir, full, "--save_strategy", "no") == 0
    assert "row_caps" not in json.loads((full / "metrics.json").read_text())["run"]


def test_problem_type_reads_transformers_names_and_push_reads_output_dir_with_an_underscore(
    config, tiny_encoder_dir, tmp_path, capsys
):
    from hf_emo.data.spec import problem_type_name
    from hf_emo.jobs.train import RunArguments

    assert RunArguments(problem_type="multi_label_classification").problem_type == "multi_label"
    assert RunArguments(problem_type="single_label_classification").problem_type == "single_label"
    assert problem_type_name("regression") == "regression" and problem_type_name(None) is None
    with pytest.raises(ValueError, match="multi_label_classification"):
        RunArguments(problem_type="multilabel")
    out = tmp_path / "run"
    # a config written the HF way (the fixture's config says single_label; the override uses transformers' name)
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no", "--problem_type",
                  "single_label_classification") == 0  # fmt: skip
    assert json.loads((out / "config.json").read_text())["problem_type"] == "single_label_classification"
    assert main(["push", "--output_dir", str(out), "--repo-id", "me/x", "--dry-run", str(tmp_path / "up")]) == 0
    assert (tmp_path / "up" / "README.md").is_file()


def test_a_tracker_that_is_not_installed_is_one_sentence_before_any_work(config, tiny_encoder_dir, tmp_path, capsys,
                                                                          monkeypatch):  # fmt: skip
    """`--report_to tensorboard` without tensorboard raised transformers' RuntimeError from Trainer.__init__, a trace
    after the data and the model had loaded; now one line naming the extra, and nothing written."""
    import transformers.integrations as integrations

    monkeypatch.setattr(integrations, "get_available_reporting_integrations", lambda: [])
    out = tmp_path / "run"
    argv = ["train", "--config", str(config), "--model_name_or_path", str(tiny_encoder_dir), "--output_dir", str(out)]
    line = cli_error(capsys, [*argv, "--report_to", "tensorboard"])
    assert "report_to tensorboard: not installed; pip install 'hf_emo[tracking]'" in line and not out.exists()
    assert "pip install mlflow" in cli_error(capsys, [*argv, "--report_to", "mlflow"])
    monkeypatch.setattr(integrations, "get_available_reporting_integrations", lambda: ["tensorboard"])
    from hf_emo.jobs.pipeline import check_trackers
    from hf_emo.trainers import EmotionConfig

    check_trackers(EmotionConfig(output_dir=str(out), report_to="tensorboard"))  # installed: no error


# -- nothing already on disk is lost (issue 37, class 1) ----------------------------------------------------------
def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_replacement_that_fails_to_start_leaves_the_earlier_run_intact(config, tiny_encoder_dir, tmp_path, capsys):
    """--overwrite_output_dir with a training file that does not parse deleted the earlier run before reading the
    data; now the inputs are read first and the earlier run is set aside only then (and put back on failure)."""
    out = tmp_path / "run"
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no") == 0
    before = _files(out)
    bad = tmp_path / "bad.csv"
    bad.write_text('text,emotion\n"unclosed,joy\n', encoding="utf-8")
    argv = ["train", "--config", str(config), "--model_name_or_path", str(tiny_encoder_dir), "--output_dir", str(out)]
    line = cli_error(capsys, [*argv, "--overwrite_output_dir", "true", "--train_file", str(bad)])
    assert "bad.csv" in line
    assert _files(out) == before  # every file, byte for byte; no lock left behind


def test_a_replacement_that_fails_mid_training_puts_the_earlier_run_back(config, tiny_encoder_dir, tmp_path,
                                                                          monkeypatch):  # fmt: skip
    from hf_emo.trainers import EmotionTrainer

    out = tmp_path / "run"
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no") == 0
    before = _files(out)

    def boom(self, *a, **k):
        raise RuntimeError("killed mid-training")

    monkeypatch.setattr(EmotionTrainer, "train", boom)
    with pytest.raises(RuntimeError, match="killed mid-training"):
        _train(config, tiny_encoder_dir, out, "--save_strategy", "no", "--overwrite_output_dir", "true")
    assert _files(out) == before
    monkeypatch.undo()
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no", "--overwrite_output_dir", "true") == 0
    assert not (out / ".previous_run").exists() and not (out / ".hf_emo.lock").exists()
    assert (out / "model.safetensors").read_bytes() == before["model.safetensors"]  # same seed, same run


def test_a_checkpoint_of_another_run_is_not_resumed_into_a_finished_run(config, tiny_encoder_dir, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _train(config, tiny_encoder_dir, a, "--save_strategy", "steps", "--save_steps", "1") == 0
    assert _train(config, tiny_encoder_dir, b, "--save_strategy", "no") == 0
    before = _files(b)
    ckpt = sorted(a.glob("checkpoint-*"))[0]
    line = cli_error(capsys, ["train", "--config", str(config), "--model_name_or_path", str(tiny_encoder_dir),
                              "--output_dir", str(b), "--resume_from_checkpoint", str(ckpt)])  # fmt: skip
    assert f"cannot resume {ckpt} into output_dir {b}" in line and _files(b) == before


def test_a_second_run_into_a_busy_folder_is_refused_naming_the_holder_and_a_dead_holder_is_taken_over(
    config, tiny_encoder_dir, tmp_path, capsys
):
    import socket
    import subprocess

    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(["sleep", "60"])  # a live process on this host holds the folder
    try:
        (out / ".hf_emo.lock").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                                       "started": "2026-12-06 10:00:00"}))  # fmt: skip
        line = cli_error(capsys, ["train", "--config", str(config), "--model_name_or_path", str(tiny_encoder_dir),
                                  "--output_dir", str(out)])  # fmt: skip
        assert f"in use by another hf-emo run (pid {holder.pid}" in line
        assert sorted(p.name for p in out.iterdir()) == [".hf_emo.lock"]  # nothing written
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing its lock: the next run takes it over, trains, and releases it
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no") == 0
    assert (out / "model.safetensors").is_file() and not (out / ".hf_emo.lock").exists()
    assert ".hf_emo.lock" not in json.loads((out / "run_files.json").read_text())["files"]


def test_a_dry_run_push_never_overwrites_a_folder_that_holds_files(trained, tmp_path, capsys):
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "README.md").write_text("my own notes")
    line = cli_error(capsys, ["push", "--output-dir", str(trained), "--repo-id", "me/x", "--dry-run", str(staged)])
    assert "already holds files" in line and (staged / "README.md").read_text() == "my own notes"


# -- no silent degradation: training that diverges (issue 37, class 2) --------------------------------------------
def test_a_diverging_run_stops_at_its_step_and_saves_no_model(config, tiny_encoder_dir, tmp_path, capsys):
    """A learning rate of 1e30 trained to all-NaN weights, logged train_loss 0.0 and wrote metrics with rc 0."""
    out = tmp_path / "run"
    argv = ["train", "--config", str(config), "--model_name_or_path", str(tiny_encoder_dir), "--output_dir", str(out)]
    line = cli_error(capsys, [*argv, "--learning_rate", "1e30", "--save_strategy", "no"])
    assert re.search(r"training diverged: the loss is (nan|inf) at step \d+ .*no model was saved", line), line
    assert not (out / "model.safetensors").exists() and not (out / "metrics.json").exists()


def test_non_finite_weights_are_refused_before_a_save_and_inf_targets_at_load(tmp_path):
    from hf_emo.data import load_local
    from hf_emo.data.errors import DataError
    from hf_emo.trainers.loss_log import TrainingDiverged, check_finite_weights

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    check_finite_weights(model, 3)
    with torch.no_grad():
        model[1].weight[0, 1] = float("inf")
    with pytest.raises(TrainingDiverged, match=r"weight 1\.weight holds non-finite values after step 3"):
        check_finite_weights(model, 3)
    data = tmp_path / "vad.csv"
    data.write_text("text,v\ngood day,0.5\nbad day,inf\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 3.*column 'v'.*non-finite target 'inf'|non-finite target") as err:
        load_local({"train": str(data)}, text_column="text", label_columns=["v"], problem_type="regression")
    assert "vad.csv" in str(err.value)


# -- no silent degradation: options quietly ignored (issue 37, class 2) ---------------------------------------------
def test_one_threshold_check_for_every_command_and_a_table_row_that_matches_nothing(trained, tmp_path, capsys):
    """A threshold of 1.5 was refused by train but gave all-zero metrics with rc 0 in evaluate and predict; a table
    row whose pattern matches no run printed an empty row."""
    from hf_emo.metrics import check_threshold

    for cmd in (["evaluate", "--model", str(trained), "--file", str(trained.parent / "test.csv"), "--label-columns",
                 "emotion"], ["predict", "--model", str(trained), "i am happy"]):  # fmt: skip
        assert "threshold must be in (0, 1), got 1.5" in cli_error(capsys, [*cmd, "--threshold", "1.5"])
    assert check_threshold([0.2, 0.4]) == [0.2, 0.4] and check_threshold(0.3) == 0.3
    with pytest.raises(ValueError, match="threshold must be in"):
        check_threshold([0.2, 1.0])
    line = cli_error(capsys, ["table", "seeds", "--row", f"KD={tmp_path}/nothing_s*", "--metric", "f1_micro"])
    assert "row 'KD'" in line and "matches no finished run" in line
    assert main(["table", "seeds", "--row", f"KD={tmp_path}/nothing_s*", "--metric", "f1_micro",
                 "--allow-missing"]) == 0  # fmt: skip


def test_tuning_the_threshold_without_a_validation_split_says_so(caplog):
    from hf_emo.data import TaskSpec
    from hf_emo.metrics import score_splits

    spec = TaskSpec("t", "multi_label", ("a", "b"), "en")
    test = (np.array([[2.0, -1.0], [-1.0, 2.0]]), np.array([[1, 0], [0, 1]]))
    with caplog.at_level("WARNING"):
        _, threshold = score_splits(spec, {"test": test}, threshold=0.5, tune=True)
    assert threshold == 0.5 and "no validation split to tune on; the threshold stays 0.5" in caplog.text


def test_texts_shared_by_two_splits_are_counted_in_the_record_and_the_report(trained):
    """Identical train and test files gave "held-out" test scores without a word (issue 37, leakage): the fixture's
    three splits are one file, so every distinct text is counted in each pair."""
    from tests.test_cli import ROWS

    run = json.loads((trained / "metrics.json").read_text())["run"]
    n = len({t for t, _ in ROWS})
    assert run["split_overlap"] == {"train/validation": n, "train/test": n, "validation/test": n}
    assert f"{n} of train/test" in (trained / "report.md").read_text()


def test_split_overlap_counts_exact_duplicates_after_stripping():
    from datasets import Dataset, DatasetDict

    from hf_emo.data.stats import split_overlap

    dd = DatasetDict({"train": Dataset.from_dict({"text": ["a b", "c", "d "]}),
                      "test": Dataset.from_dict({"text": ["d", "e", "a  b"]})})  # fmt: skip
    assert split_overlap(dd) == {"train/test": 1}  # "d " = "d"; "a  b" is another text


# -- secrets and paths (issue 37, class 4) -------------------------------------------------------------------------
def test_a_short_token_through_an_abbreviated_flag_never_reaches_the_record(config, tiny_encoder_dir, tmp_path):
    out = tmp_path / "run"
    assert _train(config, tiny_encoder_dir, out, "--save_strategy", "no", "--hub_tok", "hf_short1") == 0
    for name in ("metrics.json", "report.md", "config.json", "training_args.bin"):
        assert b"hf_short1" not in (out / name).read_bytes(), name
    record = json.loads((out / "metrics.json").read_text())["run"]
    assert "--hub_tok '<redacted>'" in record["command"]
    assert str(tmp_path) not in json.dumps(record) and str(tmp_path) not in (out / "report.md").read_text()
    assert f"--output_dir {out.name}" in record["command"]  # a /tmp path outside cwd and home: its name only


def test_redact_by_resolved_argument_name_and_tokens_of_any_length():
    from hf_emo.scrub import redact_secret_arguments, scrub

    fields = ["hub_token", "hub_model_id", "output_dir"]
    argv = ["--hub_tok", "abc", "--hub_token=xyz", "--hub_model", "me/x", "--output_dir", "runs/a"]
    assert redact_secret_arguments(argv, fields) == ["--hub_tok", "<redacted>", "--hub_token=<redacted>",
                                                     "--hub_model", "me/x", "--output_dir", "runs/a"]  # fmt: skip
    assert scrub("token hf_Ab1 in hf_emo_task of hf_emo") == "token <redacted> in hf_emo_task of hf_emo"


def test_push_stages_only_files_inside_the_run_and_the_dry_run_refuses_what_the_push_would(trained, tmp_path,
                                                                                             capsys):  # fmt: skip
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "credentials.json").write_text('{"secret": 1}')
    manifest = json.loads((trained / "run_files.json").read_text())
    (trained / "run_files.json").write_text(json.dumps({"files": [*manifest["files"],
                                                                  "../outside/credentials.json"]}))  # fmt: skip
    line = cli_error(capsys, ["push", "--output-dir", str(trained), "--repo-id", "me/x", "--dry-run",
                              str(tmp_path / "up")])  # fmt: skip
    assert "outside the run folder" in line and not (tmp_path / "up" / "credentials.json").exists()
    (trained / "run_files.json").write_text(json.dumps(manifest))
    (trained / "report.md").write_text((trained / "report.md").read_text() + "\nmy token: shortsecret42\n")
    capsys.readouterr()
    rc = main(["push", "--output-dir", str(trained), "--repo-id", "me/x", "--dry-run", str(tmp_path / "up2"),
               "--token", "shortsecret42"])  # fmt: skip
    assert rc == 1 and "report.md contains an access token" in capsys.readouterr().err
    assert not any((tmp_path / "up2").iterdir())  # nothing staged, as the push would upload nothing


# -- one clear sentence, never a trace (issue 37, class 3 in part) -------------------------------------------------
def test_max_length_past_the_position_limit_a_one_class_set_and_batch_size_0_are_one_sentence(
    config, tiny_encoder_dir, trained, tmp_path, capsys
):
    from hf_emo.models.factory import position_limit
    from transformers import AutoConfig, XLMRobertaConfig

    out = tmp_path / "run"
    argv = ["train", "--config", str(config), "--model_name_or_path", str(tiny_encoder_dir), "--output_dir", str(out)]
    line = cli_error(capsys, [*argv, "--max_length", "1000"])  # the tiny BERT has 64 positions
    assert "max_length 1000 is past" in line and "position limit of 64 tokens: pass --max_length 64 or less" in line
    assert not out.exists()
    assert position_limit(AutoConfig.from_pretrained(tiny_encoder_dir)) == 64
    assert position_limit(XLMRobertaConfig(max_position_embeddings=514)) == 512  # E5 / XLM-R: padding offset
    one = tmp_path / "one.csv"
    one.write_text("text,emotion\ni am happy,joy\nso happy,joy\n", encoding="utf-8")
    line = cli_error(capsys, [*argv, "--train_file", str(one), "--validation_file", str(one), "--test_file", str(one)])
    assert "holds one class (['joy']): a classifier needs at least two" in line and "one.csv" in line
    with pytest.raises(SystemExit) as stop:
        main(["predict", "--model", str(trained), "--batch-size", "0", "i am happy"])
    assert stop.value.code == 2 and "--batch-size: must be a whole number >= 1, got '0'" in capsys.readouterr().err
