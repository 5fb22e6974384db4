"""The demo stores the finance-report tests read, built once per test session at a pinned day.

Batch results: :func:`costmodel.adapters.demo.ensure_demo_store` (30 days before TODAY: November 2026);
the organisation report: :func:`costmodel.adapters.org_demo.ensure_org_demo_store` beside it, named as
``--demo`` finds it (``<demo store>-org.duckdb``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Final

TODAY: Final = date(2026, 12, 1)
MONTH: Final = "2026-11"


def demo_stores(base: Path) -> tuple[Path, Path]:
    from costmodel.adapters.demo import ensure_demo_store
    from costmodel.adapters.org_demo import ensure_org_demo_store

    folder = base / "finance-report-demo"
    folder.mkdir(exist_ok=True)
    batches = ensure_demo_store(folder / "demo.duckdb", today=TODAY)
    org = ensure_org_demo_store(folder / "demo-org.duckdb", today=TODAY)
    return batches, org
