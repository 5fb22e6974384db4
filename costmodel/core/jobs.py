"""Jobs: how a request's ``custom_id`` names the job it belongs to.

By default the part before the last separator (``contract-review-0042`` belongs to job
``contract-review``); a job map (read by :mod:`costmodel.adapters.job_maps`) puts glob patterns
first. Pure: the rule is data; the store evaluates the expression it gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


__all__ = ["JobRule"]


@dataclass(frozen=True)
class JobRule:
    """How a request's ``custom_id`` names its job: a mapping's globs first, then the separator."""

    separator: str = "-"
    patterns: tuple[tuple[str, str], ...] = ()  # (glob on custom_id, job name), first match wins

    def sql(self, column: str = "custom_id") -> tuple[str, list[Any]]:
        """A SQL expression for the job, with its parameters (the store evaluates it)."""
        params: list[Any] = []
        cases = []
        for glob, job in self.patterns:
            cases.append(f"WHEN {column} LIKE ? ESCAPE '\\' THEN ?")
            params.extend([_glob_to_like(glob), job])
        if self.separator:
            # Everything before the last separator; an id without one is its own job.
            fallback = (
                f"CASE WHEN strpos({column}, ?) > 0 "
                f"THEN left({column}, length({column}) - strpos(reverse({column}), reverse(?)) "
                f"- length(?) + 1) ELSE {column} END"
            )
            params.extend([self.separator, self.separator, self.separator])
        else:
            fallback = column
        if not cases:
            return fallback, params
        return f"CASE {' '.join(cases)} ELSE {fallback} END", params


def _glob_to_like(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")
