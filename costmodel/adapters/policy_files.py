"""Policy files: the bundled migration policy and users' policy files, read and validated.

The rules themselves, and the validation of a composed policy tree, are
:mod:`costmodel.core.policy`, which reads nothing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from costmodel.adapters.user_files import read_text
from costmodel.adapters.yaml_reader import _compose, _Reader
from costmodel.core.policy import Policy, PolicyError, policy_from_nodes
from costmodel.errors import ScenarioError, located

__all__ = ["default_policy", "load_policy", "parse_policy"]


def parse_policy(text: str, source: str = "<string>") -> Policy:
    """Parse and validate policy YAML, reporting every problem at once (:class:`PolicyError`)."""
    if not text.strip():
        raise PolicyError(
            located(
                "empty file; expected a policy mapping (see default-policy.yaml)",
                file=source,
                line=1,
            )
        )
    try:
        root, loader = _compose(text, source)
    except ScenarioError as exc:
        raise PolicyError(exc.problems) from None
    reader = _Reader(source, loader)
    try:
        policy = policy_from_nodes(reader, root)
    finally:
        loader.dispose()
    if reader.problems or policy is None:
        raise PolicyError(reader.problems or [located("invalid policy", file=source)])
    return policy


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file (through the one reader every user file goes through:
    regular files only, size-limited, UTF-8)."""
    text = read_text(path, kind="policy file", error=PolicyError)
    return parse_policy(text, str(path))


def default_policy() -> Policy:
    """The bundled policy: the source article's decision tree."""
    text = resources.files("costmodel").joinpath("data/default-policy.yaml").read_text("utf-8")
    return parse_policy(text, "costmodel/data/default-policy.yaml")
