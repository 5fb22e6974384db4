"""Reading budgets files: the bundled example and the files users name, validated like scenarios.

Every problem is reported at once, each with its file and line; the budgets themselves and the
check over them are pure (:mod:`costmodel.core.budgets`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

import yaml

from costmodel.adapters.user_files import read_text
from costmodel.adapters.yaml_reader import _compose, _Reader
from costmodel.core.budgets import _KEYS, _MAX, SCOPES, Budget, BudgetError
from costmodel.errors import ScenarioError, located

__all__ = ["example_budgets_path", "load_budgets", "parse_budgets"]


def example_budgets_path() -> Path:
    """The bundled example budgets file (it works on the demo data)."""
    return Path(str(resources.files("costmodel") / "data" / "example-budgets.yaml"))


def load_budgets(path: str | Path) -> tuple[Budget, ...]:
    """Read and validate a budgets file (one of the files users name: bounded, regular)."""
    text = read_text(path, kind="budgets file", error=BudgetError)
    return parse_budgets(text, str(path))


def parse_budgets(text: str, source: str = "<string>") -> tuple[Budget, ...]:
    """Parse and validate budgets YAML, reporting every problem at once (:class:`BudgetError`)."""
    if not text.strip():
        raise BudgetError(
            located("empty file; expected a mapping with a 'budgets' list", file=source, line=1)
        )
    try:
        root, loader = _compose(text, source)
    except ScenarioError as exc:
        raise BudgetError(exc.problems) from None
    reader = _Reader(source, loader)
    try:
        budgets = _budgets(reader, root)
    finally:
        loader.dispose()
    if reader.problems:
        raise BudgetError(reader.problems)
    return budgets


def _budgets(reader: _Reader, root: yaml.Node) -> tuple[Budget, ...]:
    top = reader.mapping(root, "", ("budgets",), ("budgets",), what="a mapping with 'budgets'")
    if top is None or "budgets" not in top:
        return ()
    node = top["budgets"]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        reader.problem(node, "budgets", f"got {reader.shown(node)}; expected a list of budgets")
        return ()
    out: list[Budget] = []
    seen: dict[tuple[str, str | None], int] = {}
    for index, item in enumerate(node.value):
        path = f"budgets[{index}]"
        keys = reader.mapping(item, path, _KEYS, ("monthly",), what="a budget mapping")
        if keys is None:
            continue
        scopes = [scope for scope in SCOPES if scope in keys]
        line = item.start_mark.line + 1
        if len(scopes) != 1:
            given = ", ".join(scopes) if scopes else "none"
            reader.problem(
                item, path, f"got {given}; expected exactly one of total, job, model, workspace"
            )
            continue
        scope = scopes[0]
        key: str | None = None
        if scope == "total":
            ok, value = reader.scalar(keys["total"], f"{path}.total", "true")
            if ok and value is not True:
                reader.problem(
                    keys["total"],
                    f"{path}.total",
                    f"got {reader.shown(keys['total'])}; expected true",
                )
                continue
        else:
            key = reader.text(keys[scope], f"{path}.{scope}", expected=f"a {scope} name")
            if key is None:
                continue
        monthly = _amount(reader, keys.get("monthly"), f"{path}.monthly")
        name = None
        if "name" in keys:
            name = reader.text(keys["name"], f"{path}.name", expected="a name")
        if monthly is None:
            continue
        identity = (scope, key)
        if identity in seen:
            reader.problem(
                item,
                path,
                f"a second budget for the same {scope}{'' if key is None else ' ' + repr(key)} "
                f"(first on line {seen[identity]}); expected one budget each",
            )
            continue
        seen[identity] = line
        label = name or ("All usage" if key is None else f"{scope} {key}")
        out.append(Budget(label, scope, key, monthly, line))
    return tuple(out)


def _amount(reader: _Reader, node: yaml.Node | None, path: str) -> Decimal | None:
    if node is None:
        return None
    expected = "an amount in USD above 0, such as 400 or 99.50"
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:str",
    ):
        reader.problem(node, path, f"got {reader.shown(node)}; expected {expected}")
        return None
    try:
        # The digits as written, never through a float.
        amount = Decimal(str(node.value).strip().replace("_", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount > _MAX:
        reader.problem(node, path, f"got {reader.shown(node)}; expected {expected}, at most 1e13")
        return None
    return amount
