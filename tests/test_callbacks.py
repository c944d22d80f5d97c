"""EarlyStoppingInMemory: stops after `patience` evaluations without improvement and restores the best weights."""

import pytest
import torch
from transformers import TrainerControl, TrainerState, TrainingArguments

from hf_emo.callbacks import EarlyStoppingInMemory


def test_stops_and_restores_the_best_trainable_weights(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    model[0].requires_grad_(False)
    args = TrainingArguments(output_dir=str(tmp_path), report_to=[])
    cb, state, control = EarlyStoppingInMemory(patience=2), TrainerState(), TrainerControl()
    snapshots = []
    for step, loss in enumerate([1.0, 0.7, 0.8, 0.75, 0.9], start=1):
        state.global_step = step
        with torch.no_grad():
            model[1].weight.fill_(float(step))
        snapshots.append(model[1].weight.clone())
        cb.on_evaluate(args, state, control, metrics={"eval_loss": loss}, model=model)
        if control.should_training_stop:
            break
    assert step == 4  # 0.8 and 0.75 do not beat 0.7: the second miss stops training
    frozen = model[0].weight.clone()
    cb.on_train_end(args, state, control, model=model)
    assert torch.equal(model[1].weight, snapshots[1]) and state.best_global_step == 2 and state.best_metric == 0.7
    assert torch.equal(model[0].weight, frozen)  # frozen weights are not copied nor touched


def test_greater_is_better_for_a_score_and_clear_errors(tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path), report_to=[], metric_for_best_model="emo_f1_micro")
    cb, state, control = EarlyStoppingInMemory(patience=1), TrainerState(), TrainerControl()
    cb.on_evaluate(args, state, control, metrics={"eval_emo_f1_micro": 0.5})
    cb.on_evaluate(args, state, control, metrics={"eval_emo_f1_micro": 0.6})
    assert not control.should_training_stop and cb.best == 0.6
    cb.on_evaluate(args, state, control, metrics={"eval_emo_f1_micro": 0.55})
    assert control.should_training_stop
    with pytest.raises(KeyError, match="eval_emo_f1_micro"):
        cb.on_evaluate(args, state, control, metrics={"eval_loss": 1.0})
    with pytest.raises(ValueError, match="patience"):
        EarlyStoppingInMemory(0)
