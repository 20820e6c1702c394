"""DESIGN.md's layers, made executable: every import in aldesk/, including imports inside
functions, must point downward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "aldesk"

#: Who may import what, by top-level package under aldesk (None: the package root modules).
ALLOWED_QT = {"ui", "app.py", "__main__.py"}
FORBIDDEN = {
    "core": {"aldesk.store", "aldesk.io", "aldesk.ml", "aldesk.al", "aldesk.services",
             "aldesk.cli", "aldesk.ui", "torch", "sklearn", "pydicom", "PIL"},
    "store": {"aldesk.io", "aldesk.ml", "aldesk.al", "aldesk.services", "aldesk.cli",
              "aldesk.ui"},
    "io": {"aldesk.store", "aldesk.ml", "aldesk.al", "aldesk.services", "aldesk.cli",
           "aldesk.ui"},
    "ml": {"aldesk.store", "aldesk.al", "aldesk.services", "aldesk.cli", "aldesk.ui"},
    "al": {"aldesk.store", "aldesk.io", "aldesk.ml", "aldesk.services", "aldesk.cli",
           "aldesk.ui", "torch"},
    "services": {"aldesk.cli", "aldesk.ui"},
    "cli": {"aldesk.ui"},
}


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.name


def _hits(names: list[str], banned: set[str]) -> list[str]:
    return [n for n in names if any(n == b or n.startswith(b + ".") for b in banned)]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_downward(path):
    names = imports_of(path)
    where = layer(path)
    if where not in ALLOWED_QT:
        assert not _hits(names, {"PySide6", "shiboken6", "pyqtgraph"}), "Qt outside aldesk/ui"
    assert not _hits(names, FORBIDDEN.get(where, set())), f"{where} imports upward"


def test_the_check_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from PySide6 import QtCore\n    import torch.nn\n")
    assert _hits(imports_of(sample), {"PySide6", "torch"}) == ["PySide6", "torch.nn"]


def test_every_layer_is_known():
    layers = {layer(p) for p in modules()}
    assert layers <= set(FORBIDDEN) | ALLOWED_QT | {"__init__.py", "ml", "al"}
