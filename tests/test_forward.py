"""The shared batched forward pass: model_batches reads text as the model does and leaves its mode as it was."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from transformers import BertForSequenceClassification

from conftest import tiny_bert_config, tiny_tokenizer
from hf_emo.models.forward import batched_logits, eval_mode, inference_settings, model_batches


def _model(**config):
    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_bert_config(num_labels=3))
    for key, value in config.items():
        setattr(model.config, key, value)
    return model


def test_inference_settings_read_the_config_and_give_way_to_arguments():
    model = _model(text_prefix="query: ", max_seq_length=7)
    assert inference_settings(model) == ("query: ", 7, torch.device("cpu"))
    assert inference_settings(model, max_length=5, text_prefix="", device="cpu") == ("", 5, torch.device("cpu"))
    assert inference_settings(_model())[:2] == ("", 512)


@pytest.mark.parametrize("training", [True, False])
def test_model_batches_run_in_eval_mode_and_restore_the_mode(training):
    model = _model(text_prefix="", max_seq_length=4)
    model.train(training)
    ds = Dataset.from_dict({"text": ["happy day today great", "sad", "i am very angry today", "calm"]})
    seen_modes, lengths = [], []
    for batch in model_batches(model, ds, tiny_tokenizer(), batch_size=3):
        seen_modes.append(model.training)
        lengths.append(tuple(batch["input_ids"].shape))
        assert all(v.device == torch.device("cpu") for v in batch.values())
    assert seen_modes == [False, False]
    assert lengths[0] == (3, 4)  # cut at the config's max_seq_length, [CLS] and [SEP] included
    assert lengths[1][0] == 1
    assert model.training is training


def test_model_batches_restore_the_mode_when_the_loop_stops_early():
    model = _model()
    model.train()
    ds = Dataset.from_dict({"text": ["happy", "sad", "calm"]})
    batches = model_batches(model, ds, tiny_tokenizer(), batch_size=1)
    next(batches)
    assert not model.training
    batches.close()
    assert model.training


def test_model_batches_give_the_logits_that_batched_logits_gives():
    model = _model(text_prefix="", max_seq_length=16)
    texts = ["happy day", "i am not sad today", "the market is bad"]
    ds = Dataset.from_dict({"text": texts})
    with torch.inference_mode():
        from_batches = torch.cat([model(**b).logits for b in model_batches(model, ds, tiny_tokenizer(), batch_size=2)])
    torch.testing.assert_close(from_batches.numpy(), batched_logits(model, tiny_tokenizer(), texts, batch_size=2))


@pytest.mark.parametrize("training", [True, False])
def test_eval_mode_restores_the_mode_after_an_error(training):
    model = _model()
    model.train(training)
    with pytest.raises(RuntimeError, match="boom"):
        with eval_mode(model):
            assert not model.training
            raise RuntimeError("boom")
    assert model.training is training
