"""Scenario files: reading a scenario (and its price file) and checking files for ``validate``.

The only place a scenario's text is read: :func:`load_scenario` reads the file through the one
reader of users' files, and when a scenario names a price file and no catalogue is passed,
:func:`parse_scenario` loads that file to know its private models. The schema and its checks
are :mod:`costmodel.core.scenario`, which reads nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from costmodel.adapters.catalogue_files import bundled_catalogue, load_price_file
from costmodel.adapters.user_files import (
    read_text,
)
from costmodel.adapters.yaml_reader import _compose, _Reader
from costmodel.core.catalogue import Catalogue
from costmodel.core.results import FileCheck, ValidationReport
from costmodel.core.scenario import Scenario, prices_path, scenario_from_nodes
from costmodel.errors import CostModelError, ScenarioError, located

__all__ = ["load_scenario", "parse_scenario", "validate_files"]


def parse_scenario(
    text: str,
    source: str = "<string>",
    *,
    base_dir: Path | None = None,
    catalogue: Catalogue | None = None,
) -> Scenario:
    """Parse and validate scenario YAML, reporting every problem at once.

    ``source`` names the text in messages; ``base_dir`` is where a relative ``prices`` path is
    resolved from (the scenario file's folder). Model names are checked against ``catalogue``;
    by default the bundled one, with the scenario's own price file laid over it if it names one.

    >>> s = parse_scenario('''
    ... name: claims
    ... workloads:
    ...   - {name: triage, model: claude-3-5-sonnet, requests: 50000,
    ...      input_tokens: 2000, output_tokens: 150}
    ... ''')
    >>> s.workloads[0].requests
    Volume(count=50000.0, per='month')
    """
    root, loader = _compose(text, source)
    reader = _Reader(source, loader)
    try:
        if catalogue is None:
            catalogue = _scenario_catalogue(reader, root, base_dir)
        scenario = scenario_from_nodes(reader, root, base_dir=base_dir, catalogue=catalogue)
    except RecursionError as exc:  # an alias that contains itself, such as a: &x {<<: *x}
        raise ScenarioError(
            located(
                "invalid YAML: an alias refers to itself; expected plain nested values", file=source
            )
        ) from exc
    finally:
        loader.dispose()
    if reader.problems or scenario is None:
        raise ScenarioError(reader.problems or [located("invalid scenario", file=source)])
    return scenario


def _scenario_catalogue(
    reader: _Reader, root: yaml.Node, base_dir: Path | None
) -> Catalogue | None:
    """The bundled catalogue, with the scenario's price file over it if it names one.

    None when the price file cannot be used: its private models are unknown then, so model
    names go unchecked, and the problem is the reader's, located at ``prices:``.
    """
    if not isinstance(root, yaml.MappingNode):
        return bundled_catalogue()
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "prices":
            if not isinstance(value, yaml.ScalarNode) or not isinstance(value.value, str):
                return None  # the schema reports what is wrong with it
            return _price_file_catalogue(reader, value, prices_path(value.value, base_dir))
    return bundled_catalogue()


def _price_file_catalogue(reader: _Reader, node: yaml.Node, path: str) -> Catalogue | None:
    """The bundled catalogue with the scenario's price file over it; None if that fails."""
    try:
        return load_price_file(path, bundled_catalogue())
    except (CostModelError, OSError) as exc:
        # Without the price file its private models are unknown: skip model checks then.
        reader.problem(
            node,
            "prices",
            f"cannot use the price file: {exc}; expected a readable "
            "price file (see the README, 'Your own prices')",
        )
        return None


def load_scenario(path: str | Path, *, catalogue: Catalogue | None = None) -> Scenario:
    """Read and validate a scenario file; every problem is reported in one ScenarioError."""
    text = read_text(path, kind="scenario YAML file", error=ScenarioError)
    return parse_scenario(text, str(path), base_dir=Path(path).parent, catalogue=catalogue)


def validate_files(paths: Sequence[str | Path]) -> ValidationReport:
    """Load each scenario file, collecting its problems instead of stopping at the first file."""
    checks = []
    for path in paths:
        policy = _policy_check(path)
        if policy is not None:
            checks.append(policy)
            continue
        try:
            loaded = load_scenario(path)
        except ScenarioError as error:
            checks.append(FileCheck(str(path), False, 0, tuple(error.problems)))
        else:
            checks.append(FileCheck(str(path), True, len(loaded.workloads), ()))
    return ValidationReport(tuple(checks))


def _policy_check(path: str | Path) -> FileCheck | None:
    """A migration policy file checked as one (None: the file is a scenario, or unreadable)."""
    from costmodel.adapters.policy_files import load_policy
    from costmodel.adapters.user_files import read_text
    from costmodel.core.policy import PolicyError, looks_like_policy
    from costmodel.errors import CostModelError

    try:
        text = read_text(path, kind="file")
    except CostModelError:
        return None  # the scenario reader names the problem
    if not looks_like_policy(text, str(path)):
        return None
    try:
        load_policy(path)
    except PolicyError as error:
        return FileCheck(str(path), False, 0, tuple(error.problems))
    return FileCheck(str(path), True, 0, (), kind="policy")
