"""A pushed student works for someone who has only transformers (issue 38): tiny models of each kind trained by the
CLI, staged by ``hf-emo push --dry-run``, then loaded in a process where ``import hf_emo`` fails, through the exact
snippet of their card; the labels must be ``hf-emo predict``'s and the scores equal to 1e-6."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hf_emo.cli import main
from hf_emo.inference import predict, predict_multitask
from hf_emo.models import load_tokenizer
from hf_emo.models.portable import CODE_FILE, is_portable, make_portable
from tests.conftest import answer_without_hf_emo, tiny_bert_config, tiny_tokenizer, train_tiny_runs

COMMON = [
    "--max_train_samples", "48", "--max_eval_samples", "48", "--max_test_samples", "16",
    "--max_length", "24", "--num_train_epochs", "1", "--per_device_train_batch_size", "8",
    "--learning_rate", "1e-3", "--report_to", "none", "--save_strategy", "no", "--use_cpu", "true",
    "--disable_tqdm", "true", "--text_prefix", "query: ",
]  # fmt: skip
# (name, command line after the encoder) of each kind of student
KINDS = {
    "single_label": ["train", "--task", "dair_emotion", "--pooling", "mean"],
    "pooler": ["train", "--task", "dair_emotion", "--pooling", "pooler"],
    "multi_label": ["train", "--task", "redv2", "--pooling", "cls", "--threshold_tuning", "per_label"],
    "regression": ["train", "--task", "emobank", "--pooling", "mean"],
    "multitask": [
        "mtl", "--tasks", "redv2", "dair_emotion", "--head_layout", "shared_embedding", "--shared_layer_size", "16",
        "--threshold_tuning", "per_label",
    ],
}  # fmt: skip
HIDDEN = 'import sys\nsys.modules["hf_emo"] = None  # as where hf_emo is not installed\n'
TEXTS = [
    "i feel happy today and the day is great",
    "sunt atât de trist și supărat azi",
    "the team lost and i hate it " * 12,  # past the 24-token limit: cut where training cut
    "news",
]


@pytest.fixture(scope="module")
def students(tmp_path_factory) -> dict[str, Path]:
    """Each kind trained by the CLI on real data (module-scoped: about a minute for all)."""
    return train_tiny_runs(
        tmp_path_factory.mktemp("portable"), KINDS, COMMON, multitask_caps={"redv2": 48, "dair_emotion": 48}
    )


def _stage(run: Path, dest: Path, *extra: str) -> Path:
    assert main(["push", "--output_dir", str(run), "--repo-id", "someone/student", "--dry-run", str(dest), *extra]) == 0
    return dest


def _card_snippet(staged: Path) -> str:
    """The card's first Python block, verbatim but for the repo id (the staged folder stands for the Hub repo)."""
    card = (staged / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    assert 'model="someone/student"' in code
    return code.replace('"someone/student"', json.dumps(str(staged)))


def _run_hidden(code: str) -> list:
    return answer_without_hf_emo(code, TEXTS)


def _assert_same(answer: list[dict], expected) -> None:
    assert [a["labels"] for a in answer] == expected.labels
    got = np.array([[a["scores"][n] for n in expected.label_names] for a in answer])
    np.testing.assert_allclose(got, expected.probabilities, atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["single_label", "pooler", "multi_label", "regression"])
def test_card_snippet_gives_predicts_answer_without_hf_emo(students, tmp_path, kind):
    staged = _stage(students[kind], tmp_path / "staged")
    assert (staged / CODE_FILE).is_file() and is_portable(staged)
    answer = _run_hidden(_card_snippet(staged))
    expected = predict(str(students[kind]), texts=TEXTS)
    _assert_same(answer, expected)
    if kind == "multi_label":  # the tuned per-label thresholds were applied, not 0.5
        thresholds = json.loads((staged / "config.json").read_text())["hf_emo_threshold"]
        assert isinstance(thresholds, list) and thresholds != [0.5] * len(thresholds)
        assert expected.threshold == thresholds
    if kind == "regression":
        assert all(a["labels"] == [] for a in answer)


def test_multitask_model_and_each_exported_head_give_predicts_answer(students, tmp_path):
    run = students["multitask"]
    expected = predict_multitask(
        __import__("transformers").AutoModel.from_pretrained(str(run)), load_tokenizer(str(run)), TEXTS
    )
    whole = _run_hidden(_card_snippet(_stage(run, tmp_path / "whole")))
    for task, pred in expected.items():
        _assert_same([a["tasks"][task] for a in whole], pred)
    for task, pred in expected.items():  # push --task: one head as a standalone classifier
        staged = _stage(run, tmp_path / task, "--task", task)
        config = json.loads((staged / "config.json").read_text())
        assert config["model_type"] == "hf_emo_pooled_classifier" and config["hf_emo_task"]["name"] == task
        _assert_same(_run_hidden(_card_snippet(staged)), pred)
        _assert_same_rows(predict(str(staged), texts=TEXTS), pred)  # and hf-emo predict on the export agrees


def _assert_same_rows(got, expected) -> None:
    assert got.labels == expected.labels
    np.testing.assert_allclose(got.probabilities, expected.probabilities, atol=1e-6, rtol=0)


def test_model_alone_loads_through_the_auto_class_without_hf_emo(students, tmp_path):
    staged = _stage(students["single_label"], tmp_path / "s")
    code = HIDDEN + (
        "import json, torch\n"
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        f"model = AutoModelForSequenceClassification.from_pretrained({str(staged)!r}, trust_remote_code=True)\n"
        f"tok = AutoTokenizer.from_pretrained({str(staged)!r}, trust_remote_code=True)\n"
        "batch = tok(['query: i feel happy today'], return_tensors='pt')\n"
        "print('ANSWER', json.dumps(model(**batch).logits.tolist()), type(model).__module__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("ANSWER "))
    logits, module = line[len("ANSWER ") :].rsplit(" ", 1)
    assert "modeling_hf_emo" in module and "hf_emo.models" not in module
    expected = predict(str(students["single_label"]), texts=["i feel happy today"]).logits
    np.testing.assert_allclose(np.array(json.loads(logits)), expected, atol=1e-6)


def test_push_task_refusals(students, tmp_path, capsys):
    argv = ["push", "--output_dir", str(students["single_label"]), "--repo-id", "a/b", "--dry-run", str(tmp_path / "x")]
    assert main([*argv, "--task", "redv2"]) == 2
    assert "single-task model" in capsys.readouterr().err
    argv[2] = str(students["multitask"])
    assert main([*argv, "--task", "nope"]) == 2
    err = capsys.readouterr().err
    assert "has the tasks ['redv2', 'dair_emotion']" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_an_older_run_folder_is_upgraded_in_the_staged_copy_only(students, tmp_path):
    """A run saved before the custom code existed (no auto_map, no modeling file) is portable once staged; the run
    folder itself is only read."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(students["single_label"], old)
    (old / CODE_FILE).unlink()
    config = json.loads((old / "config.json").read_text())
    for key in ("auto_map", "custom_pipelines"):
        config.pop(key)
    (old / "config.json").write_text(json.dumps(config))
    before = {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()}
    staged = _stage(old, tmp_path / "staged")
    assert is_portable(staged) and not is_portable(old)
    assert {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()} == before
    _assert_same(_run_hidden(_card_snippet(staged)), predict(str(old), texts=TEXTS))


def test_make_portable_leaves_other_folders_alone(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    assert make_portable(tmp_path) == [] and not (tmp_path / CODE_FILE).exists()
    assert make_portable(tmp_path / "missing") == []


# -- cards to the Hub's conventions ----------------------------------------------------------------------------
def _with_base(run: Path, dest: Path, base: str) -> Path:
    """A copy of ``run`` whose record names ``base`` as its base model (the tiny encoder is a local folder)."""
    import shutil

    shutil.copytree(run, dest)
    record = json.loads((dest / "metrics.json").read_text())
    record["run"]["model"] = base
    (dest / "metrics.json").write_text(json.dumps(record))
    return dest


@pytest.mark.parametrize(
    "kind,base,licence,dataset,metric",
    [
        ("single_label", "multilingual-e5-small", "mit", "dair-ai/emotion", ("accuracy", None)),
        ("multi_label", "all-MiniLM-L6-v2", "apache-2.0", None, ("f1", {"average": "micro"})),
        ("regression", "roberta-base", "mit", None, ("pearsonr", None)),
        ("pooler", "someone/unknown-encoder", "unknown", "dair-ai/emotion", ("f1", {"average": "macro"})),
    ],
)
def test_card_metadata_round_trips_through_modelcard_load(students, tmp_path, kind, base, licence, dataset, metric):
    from huggingface_hub import ModelCard

    from hf_emo.zoo import ZOO

    run = _with_base(students[kind], tmp_path / "run", base)
    staged = _stage(run, tmp_path / "staged")
    card = ModelCard.load(staged / "README.md")
    data = card.data
    hub_id = ZOO[base].hub_id if base in ZOO else {"roberta-base": "FacebookAI/roberta-base"}.get(base, base)
    assert data.base_model == hub_id and data.license == licence and data.library_name == "transformers"
    assert data.pipeline_tag == "text-classification" and data.model_name == "student"  # the repo's name
    assert card.text.lstrip().startswith("# student")
    record = json.loads((run / "metrics.json").read_text())
    spec = json.loads((run / "config.json").read_text())["hf_emo_task"]
    assert data.language == spec["language"] and (data.datasets or [None])[0] == dataset
    results = {(r.metric_type, json.dumps(r.metric_args)): r for r in data.eval_results}
    entry = results[(metric[0], json.dumps(metric[1]))]
    assert entry.dataset_type == (dataset or spec["name"]) and entry.dataset_split == "test"
    assert entry.task_type == "text-classification"
    key = {
        "accuracy": "accuracy",
        "f1": "f1_micro" if kind == "multi_label" else "f1_macro",
        "pearsonr": "pearson_mean",
    }
    assert entry.metric_value == pytest.approx(record["test"][key[metric[0]]])
    assert len(data.eval_results) == sum(k in record["test"] for k in __import__("hf_emo").cards.HUB_METRICS)
    if licence == "unknown":
        assert "does not know the licence of `someone/unknown-encoder`" in card.text
    for f in staged.iterdir():  # no local path in any uploaded text file
        if f.suffix in (".json", ".md", ".py"):
            assert str(tmp_path.parent) not in f.read_text(encoding="utf-8"), f.name


def test_multitask_cards_index_every_task_and_an_exported_heads_card_its_own(students, tmp_path):
    from huggingface_hub import ModelCard

    run = _with_base(students["multitask"], tmp_path / "run", "multilingual-e5-small")
    whole = ModelCard.load(_stage(run, tmp_path / "whole") / "README.md").data
    assert whole.license == "mit" and whole.base_model == "intfloat/multilingual-e5-small"
    assert sorted(whole.language) == ["en", "ro"] and whole.datasets == ["dair-ai/emotion"]
    assert {r.dataset_name for r in whole.eval_results} == {"redv2", "dair_emotion"}
    head = ModelCard.load(_stage(run, tmp_path / "head", "--task", "redv2") / "README.md")
    assert head.data.language == "ro" and {r.dataset_name for r in head.data.eval_results} == {"redv2"}
    record = json.loads((run / "metrics.json").read_text())
    f1 = next(r for r in head.data.eval_results if r.metric_args == {"average": "micro"} and r.metric_type == "f1")
    assert f1.metric_value == pytest.approx(record["test"]["redv2_f1_micro"])
    assert 'pipeline("text-classification"' in head.text and "labels" in head.text


def test_trainer_card_honours_create_model_card_arguments(tmp_path):
    """A user's own project: ``trainer.create_model_card(language=..., ...)`` sets the card's metadata."""
    from huggingface_hub import ModelCard

    from hf_emo import EmotionConfig, EmotionTrainer
    from hf_emo.models import PooledClassifier, PooledClassifierConfig
    from tests.conftest import mt_dataset, mt_specs

    spec = mt_specs()[0]
    torch.manual_seed(0)
    config = PooledClassifierConfig(
        encoder=tiny_bert_config().to_dict(),
        num_labels=spec.num_labels,
        problem_type=spec.hf_problem_type,
        id2label=spec.id2label,
        label2id=spec.label2id,
    )
    args = EmotionConfig(output_dir=str(tmp_path / "out"), report_to="none", use_cpu=True, max_steps=1)
    data = mt_dataset(spec, 12, seed=0, tokenizer=tiny_tokenizer())
    trainer = EmotionTrainer(
        model=PooledClassifier(config),
        args=args,
        train_dataset=data,
        eval_dataset=data,
        task_spec=spec,
        processing_class=tiny_tokenizer(),
    )
    trainer.train()
    trainer.evaluate()
    trainer.create_model_card(
        language="ro",
        license="cc-by-4.0",
        tags=["mine"],
        model_name="my-student",
        finetuned_from="intfloat/multilingual-e5-small",
        dataset_tags="me/my-data",
        dataset="My data",
    )
    card = ModelCard.load(tmp_path / "out" / "README.md")
    data_ = card.data
    assert (data_.language, data_.license, data_.model_name) == ("ro", "cc-by-4.0", "my-student")
    assert data_.base_model == "intfloat/multilingual-e5-small" and "mine" in data_.tags
    assert data_.datasets == ["me/my-data"]
    assert {r.dataset_type for r in data_.eval_results} == {"me/my-data"}
    assert {r.dataset_split for r in data_.eval_results} == {"validation"}
    assert "| train | 12 |" in card.text and card.text.lstrip().startswith("# my-student")


def test_readme_hub_example_runs_with_transformers_alone(students, tmp_path):
    """The README's "Model cards and the Hub" use of a pushed student, verbatim but for the repo id, where
    ``import hf_emo`` fails: it prints hf-emo predict's answer."""
    from tests.test_readme_example import readme_example

    staged = _stage(students["multi_label"], tmp_path / "staged")
    code = readme_example("hub")
    assert 'model="your-name/redv2-student"' in code
    code = code.replace('"your-name/redv2-student"', json.dumps(str(staged)))
    _assert_same(_run_hidden(code), predict(str(students["multi_label"]), texts=TEXTS))
