import pytest
import torch
from transformers import AutoModelForSequenceClassification

from hf_emo.data import TaskSpec
from hf_emo.models import PooledClassifier, build_classifier, pool, task_spec_of

SPEC = TaskSpec("toy", "multi_label", ("joy", "fear", "anger"), "en")


def test_mean_pooling_ignores_padding():
    h = torch.tensor([[[1.0, 1.0], [3.0, 5.0], [100.0, 100.0]]])
    m = torch.tensor([[1, 1, 0]])
    assert torch.allclose(pool(h, m, "mean"), torch.tensor([[2.0, 3.0]]))
    assert torch.allclose(pool(h, m, "cls"), torch.tensor([[1.0, 1.0]]))


def test_padding_does_not_change_logits(tiny_encoder_dir):
    model = build_classifier(str(tiny_encoder_dir), SPEC).eval()
    ids = torch.tensor([[2, 5, 6, 3]])
    padded = torch.tensor([[2, 5, 6, 3, 0, 0]])
    a = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    b = model(input_ids=padded, attention_mask=torch.tensor([[1, 1, 1, 1, 0, 0]])).logits
    assert torch.allclose(a, b, atol=1e-5)


def test_save_load_round_trip_through_auto_class(tiny_encoder_dir, tmp_path):
    model = build_classifier(str(tiny_encoder_dir), SPEC, text_prefix="query: ", max_length=32).eval()
    model.save_pretrained(tmp_path / "m")
    again = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m").eval()
    assert isinstance(again, PooledClassifier)
    ids = torch.tensor([[2, 7, 8, 9, 3]])
    assert torch.allclose(model(input_ids=ids).logits, again(input_ids=ids).logits, atol=1e-6)
    assert task_spec_of(again) == SPEC
    assert again.config.text_prefix == "query: " and again.config.max_seq_length == 32
    assert again.config.id2label[1] == "fear"


def test_model_computes_its_own_loss(tiny_encoder_dir):
    model = build_classifier(str(tiny_encoder_dir), SPEC)
    out = model(input_ids=torch.tensor([[2, 5, 3]]), labels=torch.tensor([[1.0, 0.0, 1.0]]))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(out.logits, torch.tensor([[1.0, 0.0, 1.0]]))
    assert torch.allclose(out.loss, expected)


def test_pooler_layout_uses_the_architecture_head(tiny_encoder_dir):
    model = build_classifier(str(tiny_encoder_dir), SPEC, pooling="pooler")
    assert type(model).__name__ == "BertForSequenceClassification"
    assert model.config.problem_type == "multi_label_classification"


def test_keep_layers_makes_a_distilbert_style_student_that_reloads(tiny_encoder_dir, tmp_path):
    import torch

    from hf_emo.data import TaskSpec
    from hf_emo.models import build_classifier, load_classifier

    spec = TaskSpec("t", "single_label", ("a", "b"), "en")
    full = build_classifier(str(tiny_encoder_dir), spec)
    small = build_classifier(str(tiny_encoder_dir), spec, num_layers=1)
    assert len(small.encoder.encoder.layer) == 1 and small.config.encoder["num_hidden_layers"] == 1
    assert torch.equal(
        small.encoder.encoder.layer[0].attention.self.query.weight,
        full.encoder.encoder.layer[0].attention.self.query.weight,
    )
    small.save_pretrained(tmp_path / "s")
    again = load_classifier(str(tmp_path / "s"))
    x = torch.tensor([[2, 7, 8, 3]])
    small.eval()
    again.eval()
    assert torch.allclose(small(input_ids=x).logits, again(input_ids=x).logits, atol=1e-6)
    with pytest.raises(ValueError, match=r"num_layers must be in \[1, 2\]"):
        build_classifier(str(tiny_encoder_dir), spec, num_layers=3)


@pytest.mark.parametrize("config_class", ["PooledClassifierConfig", "MultiTaskModelConfig"])
def test_encoder_wrapper_configs_keep_their_fields_through_a_save(config_class, tmp_path):
    """Both configs share ``EncoderWrapperConfig.__init__``; transformers 5 makes every config a dataclass, and a
    subclass without an ``__init__`` of its own once got a generated one that set none of these fields."""
    import hf_emo.models as models
    from tests.conftest import tiny_bert_config

    cls = getattr(models, config_class)
    config = cls(
        encoder=tiny_bert_config(),
        pooling="cls",
        classifier_dropout=0.3,
        text_prefix="query: ",
        max_seq_length=64,
        num_labels=3,
    )
    config.save_pretrained(tmp_path)
    for loaded in (config, cls.from_pretrained(tmp_path)):
        assert (loaded.pooling, loaded.classifier_dropout, loaded.text_prefix, loaded.max_seq_length) == (
            "cls",
            0.3,
            "query: ",
            64,
        )
        assert loaded.encoder_config.model_type == "bert"
        assert loaded.hidden_size == tiny_bert_config().hidden_size
    with pytest.raises(ValueError, match="pooling must be 'mean' or 'cls'"):
        cls(encoder=tiny_bert_config(), pooling="max")
