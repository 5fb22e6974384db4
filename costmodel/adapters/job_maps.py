"""Job map files: job names mapped to ``custom_id`` glob patterns, read as a
:class:`~costmodel.core.jobs.JobRule`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from costmodel.adapters.user_files import line_of, read_yaml, shown_key
from costmodel.errors import CostModelError, located

if TYPE_CHECKING:
    pass

from costmodel.core.jobs import JobRule

__all__ = ["load_job_map"]


def load_job_map(path: str | Path, *, separator: str = "-") -> JobRule:
    """Read a job mapping file: job names to ``custom_id`` glob patterns.

    ::

        contract-review: ["contract-*", "cr-*"]
        claims: ["claim-*"]
    """
    # The shared reader: regular files only, 1 MB, aliases and nesting bounded, located errors.
    raw = read_yaml(path, kind="job mapping file")
    if not isinstance(raw, Mapping) or not raw:
        raise CostModelError(
            located(
                "not a job mapping; expected job names mapped to lists of custom_id patterns",
                file=path,
                line=line_of(raw) if isinstance(raw, Mapping) else None,
            )
        )
    patterns: list[tuple[str, str]] = []
    for job, globs in raw.items():
        globs = [globs] if isinstance(globs, str) else globs
        if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
            # The job is named only if it reads as a name: the file may be anything.
            raise CostModelError(
                located(
                    "expected a list of custom_id patterns",
                    file=path,
                    line=line_of(raw, job),
                    field=shown_key(job, quoted=False),
                )
            )
        patterns.extend((glob, str(job)) for glob in globs)
    return JobRule(separator=separator, patterns=tuple(patterns))
