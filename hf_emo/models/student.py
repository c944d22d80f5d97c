"""A half-depth student initialised from its teacher (Sanh et al. 2019; Avram et al. 2022, §3): the teacher's
embeddings, heads and every other transformer layer, copied."""

from __future__ import annotations

import copy

from torch import nn


def layer_stack(model: nn.Module) -> tuple[nn.Module, str]:
    """``(parent, attribute)`` of the model's list of transformer layers: the ``nn.ModuleList`` whose length is
    ``config.num_hidden_layers`` (BERT's ``encoder.layer``, Llama's / Gemma's ``model.layers``, GPT-2's ``h``, ...)."""
    n = getattr(model.config, "num_hidden_layers", None)
    found = [
        (parent, name)
        for parent in model.modules()
        for name, child in parent.named_children()
        if isinstance(child, nn.ModuleList) and len(child) == n
    ]
    if len(found) != 1:
        raise ValueError(
            f"{type(model).__name__}: found {len(found)} layer lists of length num_hidden_layers={n}; "
            "cannot tell which one holds the transformer layers"
        )
    return found[0]


def every_other_layer(num_layers: int) -> list[int]:
    """Layers 0, 2, 4, ... of the teacher: half the depth, rounded up."""
    return list(range(0, num_layers, 2))


def init_student_from_teacher(teacher: nn.Module, layers: list[int] | None = None) -> nn.Module:
    """A copy of ``teacher`` that keeps only ``layers`` (default :func:`every_other_layer`) of its transformer stack,
    with everything else (embeddings, norms, LM / classification heads) copied. Its config says the new depth (and
    the kept entries of per-layer settings such as Gemma's ``layer_types``), so it saves and reloads as a normal
    model of the same class."""
    total = teacher.config.num_hidden_layers
    keep = every_other_layer(total) if layers is None else list(layers)
    if not keep or sorted(set(keep)) != keep or keep[0] < 0 or keep[-1] >= total:
        raise ValueError(f"layers must be increasing indices in [0, {total - 1}] without repeats, got {layers}")
    student = copy.deepcopy(teacher)
    parent, name = layer_stack(student)
    stack = getattr(parent, name)
    setattr(parent, name, nn.ModuleList(stack[i] for i in keep))
    for new_index, layer in enumerate(getattr(parent, name)):  # caches index layers by position
        for module in layer.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = new_index
    config = student.config
    for per_layer in ("layer_types",):
        values = getattr(config, per_layer, None)
        if isinstance(values, (list, tuple)) and len(values) == total:
            setattr(config, per_layer, [values[i] for i in keep])
    config.num_hidden_layers = len(keep)
    config.hf_emo_student_of = {"teacher": getattr(teacher.config, "_name_or_path", ""), "layers": keep}
    return student
