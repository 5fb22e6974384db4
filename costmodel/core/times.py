"""Reading times and days: the one parser every reader of a timestamp or a date uses.

Each caller turns the ``ValueError`` into its own located, typed error (the file and line, the
API field, the store column), so the message names where the bad value came from; the parsing
rules are the same everywhere: ISO 8601 / RFC 3339, ``Z`` (or ``z``) for UTC, and a time without
an offset taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = ["as_day", "as_utc", "naive_utc", "parse_moment"]


def as_utc(moment: datetime | date) -> datetime:
    """An aware UTC datetime: an offset converted, a naive time taken as UTC, a day its midnight.

    >>> as_utc(date(2026, 12, 1)).isoformat()
    '2026-12-01T00:00:00+00:00'
    """
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def naive_utc(moment: datetime | date) -> datetime:
    """:func:`as_utc` without its tzinfo: the usage store's TIMESTAMP convention."""
    return as_utc(moment).replace(tzinfo=None)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime; ``ValueError`` if it is not one.

    >>> parse_moment("2026-11-03T14:05:00+01:00").isoformat()
    '2026-11-03T13:05:00+00:00'
    >>> parse_moment("2026-11-03T14:05:00z").isoformat()
    '2026-11-03T14:05:00+00:00'
    """
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))


def as_day(value: date | datetime | str) -> date:
    """The calendar day of a date, a datetime (its own day) or a ``YYYY-MM-DD`` text;
    ``ValueError`` for any other text.

    >>> as_day("2026-12-01"), as_day(datetime(2026, 12, 1, 23, 59))
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 1))
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)
