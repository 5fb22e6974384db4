"""The line-numbered YAML reader shared by every file kind costmodel reads.

Scenarios, migration policies, price files and job maps are composed into YAML node trees
(bounded by :mod:`costmodel.adapters.user_files`) and walked with :class:`_Reader`, which
converts values and collects problems located as ``FILE:LINE: field.path: what is wrong;
what was expected``, in file order. The schemas that walk the tree live with their models in
the core (:mod:`costmodel.core.scenario`, :mod:`costmodel.core.policy`): they are handed a
reader and never see a file.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

import yaml

from costmodel.adapters.user_files import (
    BoundedLoader,
    compose_yaml,
    shown_key,
    shown_value,
)
from costmodel.errors import ScenarioError, located

_NUMBER_TEXT: Final = re.compile(r"[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?")

__all__ = ["_Reader", "_compose", "_join", "_key_path", "_kind"]


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a value"


class _Reader:
    """Walks the YAML node tree, converting values and collecting located problems."""

    kind = staticmethod(_kind)  # "a mapping", "a list", "a value": for messages

    def __init__(self, source: str, loader: BoundedLoader) -> None:
        self.source = source
        self.loader = loader
        self._problems: list[tuple[int, int, str]] = []
        # The key each mapping value was given under (by node id), to point at `business:`
        # rather than at the first line inside it when one of its keys is missing.
        self._key_of: dict[int, yaml.Node] = {}

    # problems
    def problem(self, node: yaml.Node | None, path: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        text = located(message, file=self.source, line=line, field=path)
        self._problems.append((line or 0, len(self._problems), text))

    @property
    def problems(self) -> list[str]:
        # In file order, which is how people read and fix them.
        return [text for _, _, text in sorted(self._problems)]

    # values
    def scalar(self, node: yaml.Node, path: str, expected: str) -> tuple[bool, Any]:
        """The Python value of a scalar node; (False, None) once a problem is reported."""
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, path, f"got {_kind(node)}; expected {expected}")
            return False, None
        try:
            return True, self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ArithmeticError, LookupError, ValueError, TypeError) as exc:
            # A date such as 2024-13-45, an unsafe tag or a tag without a value (`!!int` alone
            # raises IndexError inside PyYAML): report it and keep walking.
            detail = getattr(exc, "problem", None) or str(exc)
            self.problem(
                node,
                path,
                f"cannot read {shown_value(node.value)} ({str(detail)[:80]}); expected {expected}",
            )
            return False, None

    def shown(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            return _kind(node)
        if node.tag == "tag:yaml.org,2002:null":
            return "nothing"
        # Quoted short: the value may be anything the file holds.
        if node.tag == "tag:yaml.org,2002:str":
            return shown_value(node.value)
        plain = len(node.value) <= 40 and node.value.isprintable()
        return node.value if plain else shown_value(node.value)

    def mapping(
        self,
        node: yaml.Node,
        path: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
        *,
        what: str,
    ) -> dict[str, yaml.Node] | None:
        """The keys of a mapping node, after reporting unknown, duplicate and missing keys."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, f"got {self.shown(node)}; expected {what}")
            return None
        seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = str(key_node.value)
            if key in seen:
                line = seen[key].start_mark.line + 1
                self.problem(
                    key_node,
                    _key_path(path, key),
                    f"duplicate key (first given on line {line}); expected each key once",
                )
            seen[key] = key_node
        try:
            # Resolve YAML merge keys (<<: *defaults) so shared workload defaults work.
            self.loader.flatten_mapping(node)
        except yaml.YAMLError as exc:
            self.problem(
                node,
                path,
                f"cannot merge: {getattr(exc, 'problem', exc)}; expected '<<' to name a mapping",
            )
            return None
        found: dict[str, yaml.Node] = {}
        suggested: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, f"got {_kind(key_node)} as a key; expected a key name")
                continue
            key = str(key_node.value)
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                suggested.update(close)
                # A key that is not a key name is the file's content: say where, not what.
                said = f"unknown key {shown_key(key)}" if shown_key(key) else "an unknown key"
                self.problem(
                    key_node,
                    _key_path(path, key),
                    f"{said}; {hint}expected one of {', '.join(allowed)}",
                )
                continue
            found[key] = value_node
            self._key_of[id(value_node)] = key_node
        for key in required:
            # A misspelt required key is one mistake: its "did you mean" already says so.
            if key not in found and key not in suggested:
                self.problem(
                    self._key_of.get(id(node), node),
                    _join(path, key),
                    f"missing; expected {key!r} in {path or 'the scenario'}",
                )
        return found

    def number(
        self,
        node: yaml.Node,
        path: str,
        *,
        expected: str,
        low: float = 0.0,
        high: float | None = None,
        low_open: bool = False,
    ) -> float | None:
        ok, value = self.scalar(node, path, expected)
        if not ok:
            return None
        number: float | None = None
        if isinstance(value, bool):
            pass  # true/false/yes/no are booleans in YAML, never counts
        elif isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
            number = float(value.strip().replace("_", ""))
        if number is None or not math.isfinite(number):
            self.problem(node, path, f"got {self.shown(node)}; expected {expected}")
            return None
        too_low = number <= low if low_open else number < low
        if too_low or (high is not None and number > high):
            self.problem(node, path, f"got {self.shown(node)}; expected {expected}")
            return None
        return number

    def text(
        self, node: yaml.Node, path: str, *, expected: str, empty_ok: bool = False
    ) -> str | None:
        ok, value = self.scalar(node, path, expected)
        if not ok:
            return None
        if value is None or not str(node.value).strip():
            if not empty_ok:
                self.problem(node, path, f"got nothing; expected {expected}")
            return None
        # The text as written: a name such as 2025 or yes stays that text, not a number or bool.
        return str(node.value)

    def choice(self, node: yaml.Node, path: str, choices: Sequence[str]) -> str | None:
        expected = f"one of {', '.join(choices)}"
        chosen = self.text(node, path, expected=expected)
        if chosen is None:
            return None
        if chosen not in choices:
            close = difflib.get_close_matches(chosen.lower(), choices, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.problem(node, path, f"got {chosen!r}; {hint}expected {expected}")
            return None
        return chosen

    def day(self, node: yaml.Node, path: str) -> date | None:
        expected = "a date as YYYY-MM-DD"
        ok, value = self.scalar(node, path, expected)
        if not ok:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(node, path, f"got {self.shown(node)}; expected {expected}")
        return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _key_path(path: str, key: str) -> str:
    """The field path of a key from the file: the key only when it reads as a key name."""
    return _join(path, key) if shown_key(key) else path


def _compose(text: str, source: str) -> tuple[yaml.Node, BoundedLoader]:
    # The shared reader's limits (nesting, aliases) hold here too: a scenario reaches this
    # from a file, a dashboard upload or a string.
    node, loader = compose_yaml(text, source, error=ScenarioError)
    # A document of only `---` is an empty scalar: as empty as a file with nothing in it.
    if node is None or (node.tag == "tag:yaml.org,2002:null" and not node.value):
        loader.dispose()
        raise ScenarioError(
            located(
                "empty file; expected a mapping with at least name and workloads",
                file=source,
                line=1,
            )
        )
    return node, loader
