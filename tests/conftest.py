"""Fixtures shared across the test modules.

- ``fake_api``: a started loopback Message Batches API (tests/fake_batches_api.py).
- ``api_env``: the environment pointed at it (``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``),
  as a user's shell would be; yields the fake API.
- ``sdk_client``: a real ``anthropic.Anthropic`` built from that environment, with quick
  retries.
- ``store``: a fresh usage store in the test's temporary folder.
- ``results_file``: writes a generated results file (costmodel/adapters/synthetic.py) and returns its
  path with the totals a reader must find.
- ``demo_store``: the demo usage store, built once per test run (shared by the xdist workers)
  for the pinned day :data:`shared_demo.DEMO_TODAY`; :func:`shared_demo.copy_demo_store` puts a private copy where a
  test points ``COSTMODEL_DEMO_STORE``, so nothing a test writes beside it leaks into another.
- ``--update-goldens``: rewrite the golden files under tests/goldens/ instead of comparing.
"""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside the tests

from fake_batches_api import TEST_API_KEY, FakeBatchesAPI
from shared_demo import DEMO_TODAY

from costmodel.adapters.synthetic import Expected, write_results


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/goldens/ from the current output instead of comparing with it",
    )


@pytest.fixture(scope="session")
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, built once per run: under xdist every worker shares the first build
    (a file lock in the run's common temporary folder), so it is built once, not per module."""
    from costmodel.adapters.demo import ensure_demo_store

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    folder = shared / "shared-demo-store"
    folder.mkdir(exist_ok=True)
    with (folder / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return ensure_demo_store(folder / "demo-usage.duckdb", today=DEMO_TODAY)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def fake_api() -> Iterator[FakeBatchesAPI]:
    with FakeBatchesAPI() as api:
        yield api


@pytest.fixture
def api_env(monkeypatch: pytest.MonkeyPatch, fake_api: FakeBatchesAPI) -> FakeBatchesAPI:
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    return fake_api


@pytest.fixture
def sdk_client(api_env: FakeBatchesAPI) -> Any:
    import anthropic

    return anthropic.Anthropic(max_retries=3)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    from costmodel.adapters.store import open_store

    with open_store(tmp_path / "usage.duckdb") as opened:
        yield opened


@pytest.fixture
def results_file(tmp_path: Path) -> Callable[..., tuple[Path, Expected]]:
    def make(
        n: int = 200, name: str = "msgbatch_01TestBatch_results.jsonl", **options: Any
    ) -> tuple[Path, Expected]:
        path = tmp_path / name
        return path, write_results(path, n, **options)

    return make
