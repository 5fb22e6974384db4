"""The demo store shared by the test run (built once by the ``demo_store`` fixture in conftest.py)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

# The day the shared demo store is built for: its month of batches ends the day before.
DEMO_TODAY = date(2026, 11, 24)


def copy_demo_store(built: Path, target: Path) -> Path:
    """A private copy of the built demo store (and its version marker) at ``target``, so what
    a test writes beside it (the org demo store, say) stays in that test's folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, target)
    marker = built.with_suffix(built.suffix + ".version")
    shutil.copyfile(marker, target.with_suffix(target.suffix + ".version"))
    return target
