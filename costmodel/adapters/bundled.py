"""The scenarios that ship with costmodel, found by name inside the installed package.

They are package data (``costmodel/scenarios/*.yaml``; in a checkout that folder links to the
top-level ``scenarios/`` a user sees), so an installed wheel has them too and the CLI and the
dashboard read them without a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

import yaml

from costmodel.errors import ScenarioError

__all__ = ["SCENARIO_FOLDER", "BundledScenario", "bundled_scenarios", "resolve_scenario"]

SCENARIO_FOLDER: Final = Path(str(resources.files("costmodel") / "scenarios")).resolve()
_SUFFIXES: Final = (".yaml", ".yml")


class BundledScenario:
    """One bundled scenario: its name (the file stem), title and file."""

    __slots__ = ("name", "path")

    def __init__(self, path: Path) -> None:
        self.name = path.stem
        self.path = path

    @property
    def title(self) -> str:
        """The scenario's own ``name:`` field, or "" when the file has none."""
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        title = data.get("name") if isinstance(data, dict) else None
        return str(title) if title is not None else ""


def bundled_scenarios(folder: Path = SCENARIO_FOLDER) -> list[BundledScenario]:
    """Every bundled scenario, by name."""
    return [BundledScenario(path) for path in sorted(folder.glob("*.yaml"))]


def _looks_like_a_name(value: str) -> bool:
    return "/" not in value and "\\" not in value and not value.startswith(".")


def resolve_scenario(value: str | Path, *, folder: Path = SCENARIO_FOLDER) -> Path:
    """The file ``value`` names: a path that exists wins, else a bundled scenario's name.

    ``claims-triage`` and ``claims-triage.yaml`` both name the bundled file when no such file
    is in the current folder. Anything else that is not a file is a :class:`ScenarioError`
    naming the bundled scenarios; a path with a folder in it is left for the loader to report.
    """
    path = Path(value)
    text = str(value)
    if path.exists() or not _looks_like_a_name(text):
        return path
    stem = text[: -len(path.suffix)] if path.suffix in _SUFFIXES else text
    known = {scenario.name: scenario.path for scenario in bundled_scenarios(folder)}
    if stem in known:
        return known[stem]
    names = ", ".join(sorted(known)) or "none"
    raise ScenarioError(
        f"{text}: no such file, and no bundled scenario of that name (bundled: {names}; "
        "`costmodel scenarios` lists them)"
    )
