"""The import direction of the layout: the core is pure, adapters never reach into the shells.

Every module under ``costmodel/`` is parsed (never imported) and its imports read from the syntax
tree, so a violation is caught wherever it is written: at the top, inside a function, or as a
relative import. Imports under ``if TYPE_CHECKING:`` are allowed everywhere: they only name
types for the checker and load nothing at run time.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "costmodel"

# What the core may not import: heavy or outside-world libraries and the outer layers.
CORE_FORBIDDEN = (
    "duckdb",
    "anthropic",
    "streamlit",
    "plotly",
    "httpx",
    "costmodel.adapters",
    "costmodel.shells",
)
ADAPTERS_FORBIDDEN = ("costmodel.shells",)
# Reading the clock: the core takes every day as an argument.
CLOCK_CALLS = frozenset({"date.today", "datetime.now", "datetime.utcnow", "time.time"})


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The absolute module names an import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    # ``from costmodel import adapters`` loads costmodel.adapters: count each name as a module.
    return [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:``."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for inner in node.body:
                    ids.update(id(n) for n in ast.walk(inner))
    return ids


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _matches(name: str, forbidden: tuple[str, ...]) -> str | None:
    return next((f for f in forbidden if name == f or name.startswith(f + ".")), None)


def violations(package: Path) -> list[Violation]:
    """Every import or clock read that breaks the layout's direction, in ``package``."""
    root = package.parent
    found: list[Violation] = []
    for path in sorted(package.rglob("*.py")):
        if path.is_symlink():
            continue  # the dashboard_app link is app.py, a shell, checked as app.py is
        module = _module_name(path, root)
        layer = module.split(".")[1] if module.count(".") else ""
        if layer == "core":
            forbidden = CORE_FORBIDDEN
        elif layer == "adapters":
            forbidden = ADAPTERS_FORBIDDEN
        else:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_only = _type_checking_only(tree)
        rel = str(path.relative_to(root))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in typing_only:
                for name in _imported(node, module, path.name == "__init__.py"):
                    bad = _matches(name, forbidden)
                    if bad:
                        found.append(Violation(rel, node.lineno, f"{layer} imports {name}"))
                        break
            elif layer == "core" and isinstance(node, ast.Call):
                called = _dotted(node.func)
                if called and any(called == c or called.endswith("." + c) for c in CLOCK_CALLS):
                    found.append(Violation(rel, node.lineno, f"core reads the clock: {called}()"))
    return found


def test_the_core_is_pure_and_adapters_never_import_shells() -> None:
    problems = violations(PACKAGE)
    assert not problems, "\n".join(map(str, problems))


def test_every_module_is_in_a_layer() -> None:
    # Only the package's entry points and the modules every layer shares sit at the top; dask.py
    # and spark.py are the engines' public entry points (costmodel.dask.price, ...), adapters
    # that keep the path the issue and the README promise.
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "dask.py", "errors.py", "optional.py", "spark.py"]
    for layer in ("core", "adapters", "shells"):
        assert (PACKAGE / layer / "__init__.py").is_file()


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "costmodel"
    for name in ("", "core", "adapters", "shells"):
        (package / name).mkdir(parents=True, exist_ok=True)
        (package / name / "__init__.py").write_text("")
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))
    return package


@pytest.mark.parametrize(
    ("name", "text", "what"),
    [
        ("core/bad.py", "import duckdb\n", "core imports duckdb"),
        ("core/bad.py", "def f():\n    import plotly.graph_objects as go\n", "plotly"),
        ("core/bad.py", "from costmodel.adapters.store import Store\n", "costmodel.adapters"),
        ("core/bad.py", "from costmodel import shells\n", "costmodel.shells"),
        ("core/bad.py", "from ..adapters import store\n", "costmodel.adapters"),
        ("core/bad.py", "from anthropic import Anthropic\n", "anthropic"),
        ("core/bad.py", "import httpx\n", "httpx"),
        ("core/bad.py", "import streamlit as st\n", "streamlit"),
        (
            "core/bad.py",
            "from datetime import date\n\ndef f():\n    return date.today()\n",
            "clock: date.today()",
        ),
        (
            "core/bad.py",
            "import datetime\n\nx = datetime.datetime.now()\n",
            "clock: datetime.datetime.now()",
        ),
        ("core/bad.py", "import time\n\nx = time.time()\n", "clock: time.time()"),
        ("adapters/bad.py", "from costmodel.shells.cli import main\n", "adapters imports"),
        ("adapters/bad.py", "from ..shells import cli\n", "costmodel.shells"),
    ],
)
def test_a_planted_violation_is_caught(tmp_path: Path, name: str, text: str, what: str) -> None:
    package = _tree(tmp_path, {name: text})
    found = violations(package)
    assert len(found) == 1 and what in str(found[0]), found
    assert str(found[0]).startswith(f"costmodel/{name}:")


def test_allowed_imports_pass(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "core/good.py": """
                from __future__ import annotations
                from typing import TYPE_CHECKING
                import numpy as np
                from costmodel.errors import CostModelError
                from costmodel.core import good
                if TYPE_CHECKING:
                    from costmodel.adapters.store import Store
            """,
            "adapters/good.py": "import duckdb\nfrom costmodel.core.good import np\n",
            "shells/good.py": "import streamlit\nfrom costmodel.adapters import good\n",
        },
    )
    assert violations(package) == []


def test_the_lazy_exports_name_the_modules_that_hold_them() -> None:
    # The move split modules: each lazily exported name must still be where the table says.
    import costmodel

    for name in costmodel.__all__:
        assert getattr(costmodel, name) is not None, name
