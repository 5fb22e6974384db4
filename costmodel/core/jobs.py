"""Jobs: how a request's ``custom_id`` names the job it belongs to.

By default the part before the last separator (``contract-review-0042`` belongs to job
``contract-review``); a job map (read by :mod:`costmodel.adapters.job_maps`) puts glob patterns
first. Pure: the rule is data; the store turns it into SQL (:func:`costmodel.adapters.store.job_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JobRule"]


@dataclass(frozen=True)
class JobRule:
    """How a request's ``custom_id`` names its job: a mapping's globs first, then the separator.

    ``patterns`` are (glob on custom_id, job name) pairs, first match wins (``*`` any run of
    characters, ``?`` one); an id no pattern matches belongs to the job before its last
    ``separator`` (``contract-review-0042`` -> ``contract-review``), or is its own job when it
    has none (or the separator is empty).
    """

    separator: str = "-"
    patterns: tuple[tuple[str, str], ...] = ()

    def job_of(self, custom_id: str) -> str:
        """The job of one custom id, by the same rule the store applies in SQL.

        >>> JobRule().job_of("contract-review-0042")
        'contract-review'
        >>> JobRule(patterns=(("cr-*", "contract-review"),)).job_of("cr-7")
        'contract-review'
        """
        from fnmatch import fnmatchcase

        for glob, job in self.patterns:
            # fnmatch also reads [...] as a class; the store's rule knows only * and ?
            if fnmatchcase(custom_id, glob.replace("[", "[[]")):
                return job
        if self.separator and self.separator in custom_id:
            return custom_id[: custom_id.rindex(self.separator)]
        return custom_id
