"""``EarlyStoppingInMemory``: stop when the selection metric stops improving and restore the best weights, without
writing checkpoints (TBED-MTL §4: early stopping on the sum of validation losses, reporting the best network).

Trainer's own ``EarlyStoppingCallback`` needs ``load_best_model_at_end`` and a checkpoint per evaluation; with a
frozen encoder that means writing the whole encoder every epoch to keep a few hundred thousand trainable weights.
This callback keeps a copy of the trainable parameters of the best evaluation in memory instead.
"""

from __future__ import annotations

import torch
from transformers import TrainerCallback


__all__ = ["EarlyStoppingInMemory"]


class EarlyStoppingInMemory(TrainerCallback):
    def __init__(
        self, patience: int, metric: str | None = None, greater_is_better: bool | None = None, min_delta: float = 0.0
    ) -> None:
        if patience < 1:
            raise ValueError(f"early stopping patience must be >= 1, got {patience}")
        self.patience = patience
        self.metric = metric
        self.greater_is_better = greater_is_better
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_step: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_evals = 0

    def _key(self, args) -> tuple[str, bool]:
        metric = self.metric or args.metric_for_best_model or "loss"
        greater = self.greater_is_better
        if greater is None:
            greater = (
                args.greater_is_better
                if args.metric_for_best_model == metric and args.greater_is_better is not None
                else not metric.endswith("loss")
            )
        return (metric if metric.startswith("eval_") else f"eval_{metric}"), greater

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        key, greater = self._key(args)
        if not metrics or key not in metrics:
            raise KeyError(f"early stopping metric {key!r} not among the evaluation metrics {sorted(metrics or {})}")
        value = float(metrics[key])
        better = self.best is None or (
            value > self.best + self.min_delta if greater else value < self.best - self.min_delta
        )
        if better:
            self.best, self.best_step, self.bad_evals = value, state.global_step, 0
            if model is not None:
                self.best_state = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        else:
            self.bad_evals += 1
            if self.bad_evals >= self.patience:
                control.should_training_stop = True
        return control

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if model is not None and self.best_state is not None:
            params = dict(model.named_parameters())
            with torch.no_grad():
                for n, v in self.best_state.items():
                    params[n].copy_(v)
        state.best_metric = self.best
        state.best_global_step = self.best_step
        return control
