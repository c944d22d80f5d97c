"""Gradient reversal: negated, lambda-scaled gradients; the DANN schedule; adversarial tasks in MultiTaskTrainer."""

import math

import pytest
import torch
from conftest import mt_model
from transformers import DataCollatorWithPadding

from hf_emo.gradient_reversal import adversarial_lambda_at, dann_lambda, grad_reverse
from hf_emo.trainers import MultiTaskTrainer
from test_multitask_trainer import TOK, config, data


def test_forward_is_identity_and_backward_is_negated_and_scaled():
    x = torch.randn(4, 3, requires_grad=True)
    w = torch.randn(4, 3)
    y = grad_reverse(x, 0.3)
    assert torch.equal(y, x)
    (y * w).sum().backward()
    assert torch.allclose(x.grad, -0.3 * w)
    x.grad = None
    (grad_reverse(x, 0.0) * w).sum().backward()
    assert torch.count_nonzero(x.grad) == 0
    with pytest.raises(ValueError, match=">= 0"):
        grad_reverse(x, -1.0)


def test_dann_schedule():
    assert dann_lambda(0.0) == 0.0 and dann_lambda(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1)
    vals = [dann_lambda(p / 10) for p in range(11)]
    assert vals == sorted(vals) and dann_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert adversarial_lambda_at(5, 10, "dann", 0.5) == pytest.approx(0.5 * dann_lambda(0.5))
    assert adversarial_lambda_at(5, 10, "constant", 0.5) == 0.5
    with pytest.raises(ValueError, match="adversarial_schedule"):
        adversarial_lambda_at(1, 10, "cosine")


def _grads(tmp_path, name, **kw):
    model = mt_model(seed=3)
    tr = MultiTaskTrainer(
        model,
        config(tmp_path / name, task_sampler="round_robin", **kw),
        train_dataset=data(),
        data_collator=DataCollatorWithPadding(TOK),
    )
    batch = tr._prepare_inputs(next(iter(tr.get_train_dataloader())))  # round robin: the first batch is 'emo'
    assert model.task_name(batch["task"]) == "emo"
    model.train()
    loss = tr.compute_loss(model, batch)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize("mode", ["gradient_reversal", "loss_sign_reversal"])
def test_adversarial_task_gradients(tmp_path, mode):
    plain_loss, plain = _grads(tmp_path, "plain")
    adv_loss, adv = _grads(
        tmp_path,
        mode,
        adversarial_tasks=["emo"],
        adversarial_mode=mode,
        adversarial_schedule="constant",
        adversarial_lambda=0.4,
    )
    assert set(adv) == set(plain)
    for n, g in plain.items():
        head = n.startswith("heads.emo")
        if mode == "gradient_reversal":
            # the discriminator head still learns to discriminate; everything below it gets -lambda * gradient
            expected = g if head else -0.4 * g
        else:
            expected = -0.4 * g  # the whole network maximises the task's loss
        assert torch.allclose(adv[n], expected, atol=1e-6), n
    expected_loss = plain_loss if mode == "gradient_reversal" else -0.4 * plain_loss
    assert torch.allclose(adv_loss, expected_loss, atol=1e-6)


def test_adversarial_lambda_follows_the_global_step_and_is_logged(tmp_path):
    model = mt_model(seed=3)
    tr = MultiTaskTrainer(
        model,
        config(tmp_path, adversarial_tasks=["sent"], max_steps=6),
        train_dataset=data(),
        data_collator=DataCollatorWithPadding(TOK),
    )
    tr.train()
    assert model._gradient_reversal == {}  # the trained model carries no reversal layer out of training
    logged = [h["adversarial_lambda"] for h in tr.state.log_history if "adversarial_lambda" in h]
    assert logged and all(0 <= v < 1 for v in logged)
    tr.state.global_step = 3
    assert tr.adversarial_lambda("sent") == pytest.approx(dann_lambda(0.5)) and tr.adversarial_lambda("emo") is None
    with pytest.raises(ValueError, match="adversarial_tasks names task 'lang'"):
        MultiTaskTrainer(
            mt_model(),
            config(tmp_path, adversarial_tasks=["lang"]),
            train_dataset=data(),
            data_collator=DataCollatorWithPadding(TOK),
        )
    for bad in (
        dict(adversarial_mode="flip"),
        dict(adversarial_lambda=-1.0),
        dict(adversarial_schedule="x"),
        dict(adversarial_tasks=["emo"], loss_weighting="gradnorm"),
    ):
        with pytest.raises(ValueError):
            config(tmp_path, **bad)
