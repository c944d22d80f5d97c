"""``GradNormWeights``: the task loss weights ``lambda_i`` of GradNorm and their own optimiser (TBED-MTL §3.4).

The trainer feeds, per optimizer step, each task's gradient norm on the shared weights (of the *unweighted* loss,
``||grad_W L_i||``) and its loss; :meth:`GradNormWeights.step` forms ``G_i = lambda_i ||grad_W L_i||`` (exactly
``||grad_W lambda_i L_i||`` for ``lambda_i > 0``), minimises :func:`hf_emo.losses.gradnorm_loss` with Adam
(lr 1e-3, as Chen et al. 2018 recommend) and renormalises the weights to sum to the number of tasks. ``L_i(0)`` is
each task's loss at the first step it appears in.
"""

from __future__ import annotations

import torch

from .losses import gradnorm_loss


__all__ = ["GradNormWeights"]


class GradNormWeights:
    def __init__(self, task_names: list[str], alpha: float = 1.0, lr: float = 1e-3, min_weight: float = 1e-3) -> None:
        if alpha < 0:
            raise ValueError(f"gradnorm_alpha must be >= 0, got {alpha}")
        if lr <= 0:
            raise ValueError(f"gradnorm_lr must be > 0, got {lr}")
        self.task_names = list(task_names)
        self.alpha = alpha
        self.min_weight = min_weight
        self.weights = torch.nn.Parameter(torch.ones(len(task_names)))
        self.optimizer = torch.optim.Adam([self.weights], lr=lr)
        self.initial_losses = torch.full((len(task_names),), float("nan"))
        self.steps = 0
        self.grads: dict[int, torch.Tensor] = {}  # this optimizer step's grad_W L_i per task index, and L_i
        self.losses: dict[int, torch.Tensor] = {}
        self.history: list[dict] = []  # the weights after every optimizer step (TBED-MTL Fig. 3)

    def weight(self, task: int) -> float:
        return float(self.weights.data[task])

    def as_dict(self) -> dict[str, float]:
        return {n: float(w) for n, w in zip(self.task_names, self.weights.data.tolist())}

    def step(self, grad_norms: torch.Tensor, losses: torch.Tensor, present: torch.Tensor) -> float | None:
        """One GradNorm update from the tasks ``present`` in this optimizer step. Returns ``L_GN`` (None when
        fewer than two tasks were present: a single task's norm equals the mean and nothing moves)."""
        grad_norms, losses, present = grad_norms.detach().cpu().float(), losses.detach().cpu().float(), present.cpu()
        first = present & torch.isnan(self.initial_losses)
        self.initial_losses[first] = losses[first]
        idx = present.nonzero().flatten()
        self.steps += 1
        if idx.numel() < 2:
            return None
        G = self.weights[idx] * grad_norms[idx]
        loss = gradnorm_loss(G, losses[idx], self.initial_losses[idx], self.alpha)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():  # renormalise: sum_i lambda_i = number of tasks
            self.weights.clamp_(min=self.min_weight)
            self.weights.mul_(len(self.task_names) / self.weights.sum())
        return float(loss.detach())

    # -- one optimizer step, fed by the trainer -------------------------------------------------------------
    def accumulate(self, task: int, loss: torch.Tensor, params: list[torch.Tensor]) -> None:
        """Add ``grad_W L_task`` (a second, partial backward through the shared weights ``params``) and the loss of
        one micro-batch of ``task`` to this optimizer step's sums."""
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        flat = torch.cat(
            [(g if g is not None else torch.zeros_like(p)).reshape(-1).float() for g, p in zip(grads, params)]
        )
        self.grads[task] = self.grads.get(task, 0) + flat
        self.losses[task] = self.losses.get(task, 0) + loss.detach().float()

    def end_step(
        self, step: int, *, num_parameters: int, device=None, reduce=None, op: str = "mean", every_task: bool = False
    ) -> None:
        """Update the weights from this optimizer step's sums, then clear them; ``history`` gets the new weights
        under ``step``. ``reduce(tensor, op)`` sums or averages across processes (``op``: ``sum`` when the losses
        are normalised by the global item count, else ``mean``); ``every_task``: every process reduces every task,
        zeros for the tasks it did not see (mixed batches give processes different tasks; one-task samplers do
        not). ``num_parameters``: the size of a gradient, for a process that saw no task."""
        n = len(self.task_names)
        norms, losses, present = torch.zeros(n), torch.zeros(n), torch.zeros(n, dtype=torch.bool)
        tasks = range(n) if reduce is not None and every_task else sorted(self.grads)
        size = next(iter(self.grads.values())).numel() if self.grads else num_parameters
        for t in tasks:
            seen = torch.tensor(float(t in self.grads), device=device)
            g = self.grads.get(t, torch.zeros(size, device=device))
            task_loss = self.losses.get(t, torch.zeros((), device=device))
            if reduce is not None:
                g, task_loss, seen = reduce(g, op), reduce(task_loss, op), reduce(seen, "sum")
            if seen > 0:
                norms[t], losses[t], present[t] = g.norm().cpu(), task_loss.cpu(), True
        self.grads.clear()
        self.losses.clear()
        self.step(norms, losses, present)
        self.history.append({"step": step, **{f"task_weight_{t}": w for t, w in self.as_dict().items()}})

    def state_dict(self) -> dict:
        return {
            "weights": self.weights.data.clone(),
            "initial_losses": self.initial_losses.clone(),
            "optimizer": self.optimizer.state_dict(),
            "steps": self.steps,
            "task_names": self.task_names,
            "alpha": self.alpha,
        }

    def load_state_dict(self, state: dict) -> None:
        if list(state["task_names"]) != self.task_names:
            raise ValueError(f"GradNorm state is for tasks {state['task_names']}, not {self.task_names}")
        self.weights.data.copy_(state["weights"])
        self.initial_losses = state["initial_losses"].clone()
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
