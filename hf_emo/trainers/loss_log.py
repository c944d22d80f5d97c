"""``LossLog``: the one accumulator behind every trainer's logged loss parts (``loss_hard``, ``loss_kd``,
``loss_<task>``, ``alpha``, ...)."""

from __future__ import annotations

import torch


class LossLog:
    """Named loss parts of the optimizer steps since the last log.

    ``add(name, value, share)``: ``value`` is one micro-batch's part; ``share`` is 1 when the loss was normalised by
    the step's item count (the micro-batches of a step then add up to the step's value) and ``1 / accumulation
    steps`` otherwise. ``end_step()`` closes an optimizer step; ``pop()`` returns each part averaged over the steps
    in which it occurred (a task absent from a step does not dilute its mean), and each ``add_mean`` value
    averaged over its calls. Tensors stay on their device until ``pop``: no device sync inside a training step.
    """

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor | float] = {}
        self._steps: dict[str, int] = {}
        self._in_step: set[str] = set()
        self._means: dict[str, list[float]] = {}

    def add(self, name: str, value: torch.Tensor | None, share: float = 1.0) -> None:
        if value is None:
            return
        self._sums[name] = self._sums.get(name, 0.0) + value.detach().float() * share
        self._in_step.add(name)

    def add_mean(self, name: str, value: float) -> None:
        total = self._means.setdefault(name, [0.0, 0])
        total[0] += float(value)
        total[1] += 1

    def end_step(self) -> None:
        for name in self._in_step:
            self._steps[name] = self._steps.get(name, 0) + 1
        self._in_step.clear()

    def pop(self) -> dict[str, float]:
        """The averages since the last ``pop`` (Trainer logs between optimizer steps, so no step is open)."""
        out = {name: round(float(self._sums[name]) / steps, 6) for name, steps in self._steps.items() if steps}
        out.update({name: round(s / n, 6) for name, (s, n) in self._means.items() if n})
        self._sums.clear()
        self._steps.clear()
        self._in_step.clear()
        self._means.clear()
        return out


class TrainingDiverged(ValueError):
    """The training loss (or a weight) stopped being a finite number: the run stops at that step."""


def check_finite_weights(model: torch.nn.Module, step: int) -> None:
    """Refuse to go on with a model holding a NaN or infinite weight (a last update can diverge after the last loss
    was computed): :class:`TrainingDiverged` names the first such weight."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.is_floating_point() and not bool(torch.isfinite(param).all()):
                raise TrainingDiverged(
                    f"training diverged: weight {name} holds non-finite values after step {step}; lower the "
                    "learning rate or check the data for extreme values (no model was saved)"
                )


class LossLogMixin:
    """For a ``transformers.Trainer`` subclass: ``self.loss_log`` closed at every optimizer step and its averages added
    to each training log line. Subclasses add to it in ``compute_loss`` and may extend ``end_optimizer_step``.

    A non-finite loss stops training with :class:`TrainingDiverged` naming the step (transformers' default
    ``logging_nan_inf_filter`` would otherwise log the earlier steps' mean in its place, and the run would go on to
    save NaN weights)."""

    loss_log: LossLog

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        if not bool(torch.isfinite(loss).all()):  # one sync per micro-batch, as logging_nan_inf_filter's own check
            raise TrainingDiverged(
                f"training diverged: the loss is {float(loss.detach().float().mean())} at step "
                f"{self.state.global_step + 1} (epoch {self.state.epoch or 0:.2f}); lower the learning rate or check "
                "the data for extreme values (no model was saved)"
            )
        if self.accelerator.sync_gradients:  # the last micro-batch of the optimizer step
            self.end_optimizer_step()
        return loss

    def end_optimizer_step(self) -> None:
        """Called after the last micro-batch of every optimizer step."""
        self.loss_log.end_step()

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            logs.update(self.loss_log.pop())
        super().log(logs, start_time)
