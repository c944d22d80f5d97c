"""The house reads top-down: no module of hf_emo imports one of a layer above it (imports inside functions too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hf_emo"

# layer of each top-level module or subpackage of hf_emo, bottom first
LAYERS = {
    0: (
        "version",
        "noise",
        "citations",
        "scrub",
        "schedules",
        "losses",
        "metrics",
        "data",
        "zoo",
        "gradnorm",
        "gradient_reversal",
        "method",
    ),
    1: (
        "models",
        "generative",
        "features",
        "inference",
        "export",
        "ensemble",
        "explain",
        "quality_weights",
        "teachers",
        "translate",
    ),
    2: ("report", "cards", "callbacks"),
    3: ("trainers",),
    4: ("jobs",),
    5: ("tables", "commands"),
    6: ("cli",),
}
RANK = {name: rank for rank, names in LAYERS.items() for name in names}


def _top(module: Path) -> str:
    parts = module.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imported(module: Path) -> set[str]:
    """The top-level hf_emo modules ``module`` imports (absolute ``hf_emo.x`` or relative)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    package = module.relative_to(PACKAGE).parent.parts
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("hf_emo.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and node.module.startswith("hf_emo."):
                    out.add(node.module.split(".")[1])
                elif node.module == "hf_emo":
                    out |= {a.name for a in node.names}
                continue
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            path = [*base, *(node.module.split(".") if node.module else [])]
            if path:
                out.add(path[0])
            else:  # from . import x (in the package root)
                out |= {a.name for a in node.names}
    return out


def test_every_module_has_a_layer():
    names = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").is_file())
    }
    assert names == set(RANK), f"place these in LAYERS: {sorted(names ^ set(RANK))}"


def test_no_module_imports_one_above_it():
    upward = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if module == PACKAGE / "__init__.py":  # the root re-exports names lazily, on first use
            continue
        own = RANK[_top(module)]
        for name in sorted(_imported(module) - {_top(module)}):
            if name in RANK and RANK[name] > own:
                upward.append(f"{module.relative_to(PACKAGE.parent)} imports hf_emo.{name}")
    assert not upward, "\n".join(upward)
