"""The demo organisation report: a generated month in the Usage and Cost Analytics API's
format, so ``costmodel org summary``, ``reconcile``, ``assess`` and the dashboard's
Organisation and Assessment pages work from a fresh clone with no admin key.

It is :func:`costmodel.adapters.synthetic_org.generate_org_report` read through the same queries and row
parsers a pull uses (:func:`~costmodel.adapters.synthetic_org.demo_org_report`) and written through the
same store path (:func:`costmodel.adapters.org_store.write_org_report`), with source ``demo``: every
command and page that shows it says it is demo data. It lives in a store of its own beside the
batch demo store, so it never mixes with a user's pulled report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

__all__ = [
    "ORG_DEMO_DAYS",
    "ORG_DEMO_LABEL",
    "default_org_demo_path",
    "ensure_org_demo_store",
    "unmark_org_demo",
    "write_org_demo",
]

ORG_DEMO_LABEL: Final = "Demo data: a generated organisation report, not your usage"
ORG_DEMO_DAYS: Final = 30
ORG_DEMO_SEED: Final = 7
ORG_DEMO_VERSION: Final = "1"


def default_org_demo_path() -> Path:
    """Beside the batch demo store (``$COSTMODEL_DEMO_STORE``): ``<name>-org.duckdb``."""
    from costmodel.adapters.demo import default_demo_path

    batch = default_demo_path()
    return batch.with_name(f"{batch.stem}-org{batch.suffix or '.duckdb'}")


def write_org_demo(store: object, *, until: date, days: int = ORG_DEMO_DAYS) -> object:
    """Write ``days`` days of the demo report ending ``until`` (inclusive) into ``store``."""
    from costmodel.adapters.org_store import sources, write_org_report
    from costmodel.adapters.synthetic_org import demo_org_report, generate_org_report
    from costmodel.errors import StoreError

    since = until - timedelta(days=days - 1)
    if sources(store, since, until) - {"demo"}:
        # Demo rows would replace the user's pulled report for those days: never without asking.
        raise StoreError(
            f"{getattr(store, 'path', 'the store')} holds a pulled organisation report for "
            f"{since.isoformat()} to {until.isoformat()}; the demo would replace it. Give "
            "another --store"
        )
    facts = generate_org_report(since=since, days=days, seed=ORG_DEMO_SEED)
    report = demo_org_report(
        facts,
        since=since,
        until=until,
        refreshed_at=datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1),
    )
    return write_org_report(store, report, source="demo")


def _marker(target: Path) -> Path:
    return target.with_suffix(target.suffix + ".version")


def unmark_org_demo(path: Path) -> None:
    """Forget that ``path`` is built, so :func:`ensure_org_demo_store` builds it again."""
    _marker(path).unlink(missing_ok=True)


def ensure_org_demo_store(path: Path | str | None = None, *, today: date | None = None) -> Path:
    """Build the demo organisation store at ``path`` (default :func:`default_org_demo_path`)
    unless one of this version is there: the :data:`ORG_DEMO_DAYS` days before ``today``."""
    from costmodel.adapters.store import open_store

    target = Path(path) if path is not None else default_org_demo_path()
    marker = _marker(target)
    if target.exists() and marker.exists() and marker.read_text().strip() == ORG_DEMO_VERSION:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_suffix(".building")
    for stale in (building, building.with_suffix(".building.wal"), marker):
        stale.unlink(missing_ok=True)
    end = (today or datetime.now(UTC).date()) - timedelta(days=1)
    with open_store(building) as store:
        write_org_demo(store, until=end)
    target.with_suffix(target.suffix + ".wal").unlink(missing_ok=True)
    building.replace(target)
    marker.write_text(ORG_DEMO_VERSION)
    return target
