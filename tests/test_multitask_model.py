"""MultiTaskModel: heads and masks of both layouts, routing, cached features, round trip, label correlation."""

import numpy as np
import pytest
import torch
from conftest import mt_model, mt_specs, tiny_tokenizer
from transformers import AutoModel

from hf_emo.models import MultiTaskModel


def batch(n=3):
    tok = tiny_tokenizer()
    return tok(["happy joy day", "sad bad news today", "calm"][:n], padding=True, return_tensors="pt")


@pytest.mark.parametrize("layout", ["multi_head", "shared_embedding"])
def test_each_task_gets_its_own_output_width(layout):
    model = mt_model(layout).eval()
    b = batch()
    for spec in mt_specs():
        out = model(**b, task=spec.name)
        assert out.logits.shape == (3, spec.num_labels)
    assert model(**b, task=1).logits.shape == (3, 2)  # a task id routes like its name
    assert model(**b, task=torch.tensor([2, 2, 2])).logits.shape == (3, 3)
    every = model(**b).task_logits
    assert {k: tuple(v.shape) for k, v in every.items()} == {"emo": (3, 3), "sent": (3, 2), "vad": (3, 3)}
    assert torch.allclose(every["sent"], model(**b, task="sent").logits)


def test_shared_embedding_is_one_bias_free_matrix_masked_per_task():
    model = mt_model("shared_embedding").eval()
    assert model.shared_embedding.bias is None
    assert model.shared_embedding.weight.shape == (3 + 2 + 3, 16)
    b = batch()
    pooled, _ = model.encode(**b)
    full = model.shared_embedding(model.shared_representation(pooled))  # W^SE q over all 8 labels
    assert torch.allclose(model(**b, task="emo").logits, full[:, 0:3], atol=1e-6)
    assert torch.allclose(model(**b, task="sent").logits, full[:, 3:5], atol=1e-6)
    assert torch.allclose(model(**b, task="vad").logits, full[:, 5:8], atol=1e-6)


def test_shared_base_layer_is_relu_256_style():
    model = mt_model(shared_layer_size=16)
    lin, act = model.shared_layer
    assert (lin.in_features, lin.out_features) == (32, 16) and isinstance(act, torch.nn.ReLU)
    assert mt_model(shared_layer_size=None).shared_layer is None


def test_losses_follow_the_problem_type():
    model = mt_model().eval()
    b = batch()
    out = model(**b, task="sent", labels=torch.tensor([0, 1, 1]))
    assert torch.allclose(out.loss, torch.nn.functional.cross_entropy(out.logits, torch.tensor([0, 1, 1])))
    y = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 0]])
    out = model(**b, task="emo", labels=y)
    assert torch.allclose(out.loss, torch.nn.functional.binary_cross_entropy_with_logits(out.logits, y))
    y = torch.rand(3, 3)
    out = model(**b, task="vad", labels=y)
    assert torch.allclose(out.loss, torch.nn.functional.mse_loss(out.logits, y))


def test_routing_errors_name_the_problem():
    model = mt_model()
    b = batch()
    with pytest.raises(ValueError, match="one task; it holds task ids"):
        model(**b, task=torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="unknown task 'news'.*emo"):
        model(**b, task="news")
    with pytest.raises(ValueError, match="task id 5 outside"):
        model(**b, task=5)
    with pytest.raises(ValueError, match="without a task"):
        model(**b, labels=torch.tensor([0, 1, 1]))


def test_cached_features_replace_the_encoder_pass():
    model = mt_model().eval()
    b = batch()
    feats, _ = model.encode(**b)
    for t in ("emo", "sent", "vad"):
        assert torch.allclose(model(features=feats, task=t).logits, model(**b, task=t).logits, atol=1e-6)


def test_freeze_encoder_leaves_only_the_heads_training():
    model = mt_model()
    model.freeze_encoder()
    out = model(**batch(), task="emo", labels=torch.ones(3, 3))
    out.loss.backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert model.shared_layer[0].weight.grad is not None and model.heads["emo"].weight.grad is not None
    assert model.heads["sent"].weight.grad is None  # the other tasks' heads are untouched


@pytest.mark.parametrize("layout", ["multi_head", "shared_embedding"])
def test_save_load_round_trip_keeps_tasks_and_outputs(tmp_path, layout):
    model = mt_model(layout).eval()
    model.save_pretrained(tmp_path / "m")
    again = AutoModel.from_pretrained(tmp_path / "m").eval()
    assert isinstance(again, MultiTaskModel)
    assert again.config.task_specs == model.config.task_specs
    assert again.config.head_layout == layout
    b = batch()
    for t in model.task_names:
        assert torch.allclose(again(**b, task=t).logits, model(**b, task=t).logits, atol=1e-6)


def test_label_correlation_matrix_csv_and_png(tmp_path):
    model = mt_model("shared_embedding")
    with torch.no_grad():  # make "emo:joy" and "sent:pos" the same vector, "emo:sad" its negative
        w = model.shared_embedding.weight
        w[4] = w[0]
        w[1] = -w[0]
    names, corr = model.label_correlation()
    assert names[:5] == ["emo:joy", "emo:sad", "emo:fear", "sent:neg", "sent:pos"]
    assert corr.shape == (8, 8)
    assert np.allclose(np.diag(corr), 1.0)
    assert corr[0, 4] == pytest.approx(1.0) and corr[0, 1] == pytest.approx(-1.0)
    from hf_emo.report import write_label_correlation  # models write no files: the report does

    paths = write_label_correlation(names, corr, tmp_path)
    rows = paths["csv"].read_text().splitlines()
    assert rows[0].split(",")[1:] == names and len(rows) == 9
    assert float(rows[1].split(",")[5]) == pytest.approx(1.0, abs=1e-4)
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"


def test_config_validation():
    from hf_emo.models import MultiTaskModelConfig

    with pytest.raises(ValueError, match="head_layout"):
        MultiTaskModelConfig(tasks=mt_specs(), head_layout="tower")
    with pytest.raises(ValueError, match="duplicate task names"):
        MultiTaskModelConfig(tasks=mt_specs() + mt_specs()[:1])
    with pytest.raises(ValueError, match="shared_layer_size"):
        MultiTaskModelConfig(tasks=mt_specs(), shared_layer_size=0)
