"""``hf-emo export`` (issue 40): a run's classifier for serving (ONNX Runtime fp32 / int8, PyTorch int8) answers as
the run does, and every way it can go wrong gives one sentence.

Tiny students of each kind are trained by the CLI on real data (as in ``test_portable``), exported, and compared
with ``hf-emo predict`` on the run: fp32 ONNX to 1e-5 in the scores and the same labels; int8 within the error
dynamic quantisation allows; the export folder's own snippet (onnxruntime + a tokenizer, no hf_emo) gives
``predict``'s labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from hf_emo.cli import main  # noqa: E402
from hf_emo.export import EXPORT_FILE, ExportError, export_classifier, load_exported  # noqa: E402
from hf_emo.inference import predict, predict_multitask  # noqa: E402
from hf_emo.models import load_tokenizer  # noqa: E402
from tests.conftest import answer_without_hf_emo, train_tiny_runs  # noqa: E402

COMMON = [
    "--max_train_samples", "64", "--max_eval_samples", "32", "--max_test_samples", "16",
    "--max_length", "24", "--num_train_epochs", "2", "--per_device_train_batch_size", "8",
    "--learning_rate", "3e-3", "--report_to", "none", "--save_strategy", "no", "--use_cpu", "true",
    "--disable_tqdm", "true", "--text_prefix", "query: ",
]  # fmt: skip
KINDS = {
    "single_label": ["train", "--task", "dair_emotion", "--pooling", "mean"],
    "pooler": ["train", "--task", "dair_emotion", "--pooling", "pooler"],
    "multi_label": ["train", "--task", "redv2", "--pooling", "cls", "--threshold_tuning", "per_label"],
    "multitask": ["mtl", "--tasks", "redv2", "dair_emotion", "--shared_layer_size", "16"],
}  # fmt: skip
TEXTS = [
    "i feel happy today and the day is great",
    "sunt atât de trist și supărat azi",
    "the team lost and i hate it " * 12,  # past the 24-token limit: cut where training cut
    "news",
    "i am scared of the dark and angry at the noise",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Each kind trained by the CLI on real data (module-scoped)."""
    return train_tiny_runs(
        tmp_path_factory.mktemp("export"), KINDS, COMMON, multitask_caps={"redv2": 64, "dair_emotion": 64}
    )


def _export(run: Path, dest: Path, *extra: str) -> Path:
    assert main(["export", str(run), "--output_dir", str(dest), "--check_split", "none", *extra]) == 0
    return dest


@pytest.mark.parametrize("kind", ["single_label", "pooler", "multi_label"])
def test_onnx_fp32_answers_as_the_run(runs, tmp_path, kind):
    exported = _export(runs[kind], tmp_path / "onnx")
    ours, theirs = predict(str(exported), texts=TEXTS), predict(str(runs[kind]), texts=TEXTS)
    assert ours.labels == theirs.labels
    np.testing.assert_allclose(ours.logits, theirs.logits, atol=1e-5)
    assert ours.threshold == theirs.threshold  # per-label thresholds travel with the export
    manifest = json.loads((exported / EXPORT_FILE).read_text())
    assert manifest["format"] == "onnx" and manifest["quantize"] == "none"
    assert manifest["source"] == kind  # the run's name, not a local path
    assert str(runs[kind].parent) not in (exported / EXPORT_FILE).read_text()
    # the whole classifier is one graph: the attention subgraphs were fused
    assert manifest["fusions"].get("Attention") == 2


def test_onnx_batches_by_length_and_restores_the_order(runs, tmp_path):
    """Texts are sorted by length into batches; the answer comes back in the caller's order whatever the batch."""
    exported = load_exported(_export(runs["single_label"], tmp_path / "onnx"))
    texts = TEXTS * 3
    whole = exported.logits(texts, batch_size=64)
    for batch_size in (1, 2, 5):
        np.testing.assert_allclose(exported.logits(texts, batch_size=batch_size), whole, atol=1e-5)
    one_by_one = np.concatenate([exported.logits([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(one_by_one, whole, atol=1e-5)


@pytest.mark.parametrize("fmt", ["onnx", "torch"])
def test_int8_is_smaller_and_close(runs, tmp_path, fmt):
    run = runs["single_label"]
    exported = _export(run, tmp_path / fmt, "--format", fmt, "--quantize", "int8")
    int8, fp32 = predict(str(exported), texts=TEXTS), predict(str(run), texts=TEXTS)
    spread = float(np.ptp(fp32.logits))
    assert np.max(np.abs(int8.logits - fp32.logits)) < 0.1 * spread + 1e-3
    assert not np.allclose(int8.logits, fp32.logits, atol=1e-7)  # it is quantised, not the float model again
    manifest = json.loads((exported / EXPORT_FILE).read_text())
    weights = sum(p.stat().st_size for p in run.glob("*.safetensors"))
    if fmt == "onnx":
        assert manifest["bytes"] < 0.6 * weights  # tiny: the graph itself is a large part
    else:  # torch: the linear layers are int8, the embeddings stay float
        assert manifest["bytes"] < weights


def test_torch_int8_round_trip_is_exact(runs, tmp_path):
    """The saved int8 state dict reloads (weights_only) into the same quantised model it was taken from."""
    from hf_emo.export import quantize_dynamic_int8
    from hf_emo.models import load_classifier

    run = runs["single_label"]
    exported = load_exported(_export(run, tmp_path / "t", "--format", "torch", "--quantize", "int8"))
    in_memory = quantize_dynamic_int8(load_classifier(str(run)))
    enc = exported.encode(TEXTS)
    with torch.inference_mode():
        direct = in_memory(**{k: torch.from_numpy(v) for k, v in enc.items()}).logits.numpy()
    np.testing.assert_array_equal(exported.run(enc), direct)


def test_multitask_head_export_equals_the_head(runs, tmp_path):
    run = runs["multitask"]
    assert main(["export", str(run), "--output_dir", str(tmp_path / "x"), "--check_split", "none"]) == 2
    exported = _export(run, tmp_path / "dair", "--task", "dair_emotion")
    whole = predict_multitask(
        __import__("transformers").AutoModel.from_pretrained(str(run)), load_tokenizer(str(run)), TEXTS
    )["dair_emotion"]
    head = predict(str(exported), texts=TEXTS)
    assert head.labels == whole.labels
    np.testing.assert_allclose(head.logits, whole.logits, atol=1e-5)


def test_check_split_reports_agreement_and_metric(runs, tmp_path, capsys):
    out = tmp_path / "checked"
    assert main(["export", str(runs["single_label"]), "--output_dir", str(out), "--quantize", "int8"]) == 0
    check = json.loads((out / EXPORT_FILE).read_text())["check"]
    assert check["task"] == "dair_emotion" and check["split"] == "test" and check["texts"] == 2000
    assert 0.5 < check["agreement"] <= 1.0
    assert check["disagreements"] == round((1 - check["agreement"]) * 2000)
    assert check["metric_difference"] == pytest.approx(check["exported"]["accuracy"] - check["pytorch"]["accuracy"])
    assert "% of 2000 texts get the PyTorch model's labels" in capsys.readouterr().out
    assert "classify one text at a time" in (out / "README.md").read_text(encoding="utf-8")  # int8's batch caveat


@pytest.mark.parametrize("kind", ["single_label", "multi_label"])
def test_folder_snippet_answers_without_hf_emo(runs, tmp_path, kind):
    exported = _export(runs[kind], tmp_path / f"{kind}_onnx")
    readme = (exported / "README.md").read_text(encoding="utf-8")
    assert "one text at a time" not in readme  # the fp32 graph's labels do not depend on the batch
    snippet = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert f'folder = "{exported.name}"' in snippet
    answer = answer_without_hf_emo(snippet, TEXTS, cwd=exported.parent)
    assert answer == predict(str(runs[kind]), texts=TEXTS).labels


def test_evaluate_reads_an_export(runs, tmp_path):
    """``hf-emo evaluate --model EXPORTED`` scores the export on a task split as it scores the run."""
    from hf_emo.jobs.evaluate import evaluate_models

    exported = _export(runs["multi_label"], tmp_path / "onnx")
    ours = evaluate_models([str(exported)], task="redv2", split="test")
    theirs = evaluate_models([str(runs["multi_label"])], task="redv2", split="test")
    assert ours["threshold"] == theirs["threshold"]
    for key in ("f1_micro", "f1_macro", "subset_accuracy"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-9), key


# -- the edges: one sentence each, nothing touched --------------------------------------------------------------
def _error(capsys, argv) -> str:
    capsys.readouterr()  # what earlier calls printed
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_bad_path_is_one_sentence(capsys, tmp_path):
    err = _error(capsys, ["export", str(tmp_path / "no_such_run")])
    assert "does not exist" in err


def test_adapter_is_refused(capsys, tmp_path):
    from hf_emo.models.modeling_hf_emo import GENERATIVE_FILE

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / GENERATIVE_FILE).write_text("{}")
    (adapter / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ExportError, match="LoRA adapter"):
        export_classifier(str(adapter), tmp_path / "out")


def test_missing_extra_names_it(runs, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    err = _error(capsys, ["export", str(runs["single_label"]), "--output_dir", str(tmp_path / "o")])
    assert "pip install 'hf_emo[onnx]'" in err and "onnxruntime" in err
    assert not (tmp_path / "o").exists()


def test_unknown_format_and_float_torch_are_refused(runs, tmp_path):
    with pytest.raises(ExportError, match="--format must be one of"):
        export_classifier(str(runs["single_label"]), tmp_path / "a", format="tflite")
    with pytest.raises(ExportError, match="pass --quantize int8"):
        export_classifier(str(runs["single_label"]), tmp_path / "b", format="torch")


def test_folders_are_validated_before_anything_is_written(runs, tmp_path, capsys):
    run = runs["single_label"]
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    assert "not an hf-emo export" in _error(capsys, ["export", str(run), "--output_dir", str(other)])
    assert [p.name for p in other.iterdir()] == ["mine.txt"]
    assert "inside it" in _error(capsys, ["export", str(run), "--output_dir", str(run / "onnx")])
    first = _export(run, tmp_path / "e")
    stamp = (first / "model.onnx").stat().st_mtime_ns
    assert "--overwrite" in _error(capsys, ["export", str(run), "--output_dir", str(first), "--check_split", "none"])
    assert (first / "model.onnx").stat().st_mtime_ns == stamp
    _export(run, first, "--overwrite", "--quantize", "int8")
    assert json.loads((first / EXPORT_FILE).read_text())["quantize"] == "int8"
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging folder left behind


def test_predict_on_a_broken_export_is_one_sentence(runs, tmp_path, capsys):
    exported = _export(runs["single_label"], tmp_path / "e")
    (exported / "model.onnx").unlink()
    err = _error(capsys, ["predict", "--model", str(exported), "hello"])
    assert "lost its model file" in err
