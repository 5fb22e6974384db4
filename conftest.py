"""Collection for the doctests over ``costmodel/`` (``--doctest-modules``, see pyproject.toml).

Every module's examples run, except where importing the module needs an optional extra that is
not installed (``pip install costmodel[test]`` without ``[all]``): such a module is skipped at
collection rather than failing it, so the doctests of the core still run. The Streamlit entry
points are never imported for doctests: importing them runs the app.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Packages that only the extras install (pyproject.toml's optional-dependencies).
OPTIONAL = frozenset({"anthropic", "duckdb", "plotly", "pyarrow", "streamlit", "tqdm"})
collect_ignore = ["app.py", "costmodel/shells/dashboard_app.py"]
MISSING = frozenset(name for name in OPTIONAL if importlib.util.find_spec(name) is None)


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    path = Path(collection_path)
    if not MISSING:  # every extra is installed (the test command's set-up): collect it all
        return None
    if path.suffix != ".py" or ROOT / "costmodel" not in path.parents:
        return None
    parts = path.relative_to(ROOT).with_suffix("").parts
    dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    try:
        importlib.import_module(dotted)
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] in MISSING:
            return True
        raise
    return None
