"""The public API: every name in ``costmodel.__all__`` imports, is documented, has a worked
example where it is a function, is visible to type checkers, and ``import costmodel`` stays light.
"""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import costmodel

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = [name for name in costmodel.__all__ if name != "__version__"]
# What `import costmodel` must not import: the heavy and the optional libraries.
HEAVY = ("pandas", "numpy", "duckdb", "pyarrow", "anthropic", "streamlit", "plotly", "yaml")


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_imports_and_is_documented(name: str) -> None:
    value = getattr(costmodel, name)
    doc = inspect.getdoc(value) or ""
    # A dataclass without a docstring gets one made from its signature: that is not one.
    assert doc and not doc.startswith(f"{name}("), f"{name} has no docstring"
    if inspect.isfunction(value):
        assert ">>> " in doc, f"{name} has no worked example (a >>> line in its docstring)"
    exec(f"from costmodel import {name}", {})


def test_all_is_sorted_unique_and_matches_the_lazy_table_and_the_type_checking_imports() -> None:
    names = [n for n in costmodel.__all__ if n != "__version__"]
    assert names == sorted(set(names))
    exports = costmodel._EXPORTS
    assert set(names) == set(exports)
    # Each lazily exported name is also imported under TYPE_CHECKING from the same module, so
    # type checkers see its real type rather than Any.
    tree = ast.parse((ROOT / "costmodel" / "__init__.py").read_text())
    checked: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module
                for alias in statement.names:
                    checked[alias.name] = statement.module
    assert checked == exports


def test_unknown_attributes_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        costmodel.nope  # type: ignore[attr-defined]  # noqa: B018
    assert "cost_of" in dir(costmodel)


def _fresh_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    return done.stdout


def test_import_costmodel_loads_no_heavy_or_optional_library() -> None:
    code = (
        "import json, sys; import costmodel; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    assert json.loads(_fresh_python(code)) == []


def test_help_on_cost_of_explains_itself() -> None:
    text = _fresh_python("import costmodel; help(costmodel.cost_of)")
    for words in (
        "cost_of(x: ",
        "inference_geo: ",
        "MessageBatchIndividualResponse",
        "shell edge",
        ">>> ",
    ):
        assert words in text
    package = _fresh_python("import costmodel; help(costmodel)")
    assert "cost_of" in package and "render_result" in package
