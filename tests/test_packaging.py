"""Installable on its own: declared dependencies, extras, bundled scenarios, the built wheel.

The wheel test builds costmodel, installs it into a fresh virtual environment in a temporary
folder (outside the checkout, with the checkout off the path), first without extras and then
with ``[all]``, and runs the installed ``costmodel`` from another temporary folder.
"""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from shared_demo import copy_demo_store

from costmodel.adapters.bundled import bundled_scenarios, resolve_scenario
from costmodel.errors import CostModelError, ScenarioError
from costmodel.optional import EXTRAS, MissingExtraError, require, require_extra
from costmodel.shells.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
BUNDLED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
# Import names whose distribution is called something else.
DISTRIBUTION = {"yaml": "pyyaml"}
HEAVY = ("streamlit", "plotly", "anthropic", "duckdb", "pyarrow", "tqdm")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level packages imported by costmodel and app.py, each with the files importing it."""
    found: dict[str, set[str]] = {}
    files = [*sorted((ROOT / "costmodel").rglob("*.py")), ROOT / "app.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (  # require("pkg", extra=...): the optional imports
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "require"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [str(node.args[0].value)]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "costmodel":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


# -- declared dependencies --------------------------------------------------------------------
def test_every_imported_package_is_declared() -> None:
    declared = {_name(r) for r in PYPROJECT["dependencies"]}
    for extra, requirements in PYPROJECT["optional-dependencies"].items():
        if extra != "test":
            declared |= {_name(r) for r in requirements}
    undeclared = {
        top: sorted(files)
        for top, files in _third_party_imports().items()
        if DISTRIBUTION.get(top, top).lower() not in declared
    }
    assert undeclared == {}


def test_every_core_dependency_is_imported_by_costmodel() -> None:
    imported = {DISTRIBUTION.get(top, top).lower() for top in _third_party_imports()}
    assert sorted(_name(r) for r in PYPROJECT["dependencies"] if _name(r) not in imported) == []


def test_the_core_is_light_and_the_extras_add_the_rest() -> None:
    core = {_name(r) for r in PYPROJECT["dependencies"]}
    assert core.isdisjoint(HEAVY)
    extras = {
        extra: {_name(r) for r in requirements}
        for extra, requirements in PYPROJECT["optional-dependencies"].items()
    }
    for extra, modules in EXTRAS.items():  # the packages require_extra checks are the extra's
        assert {DISTRIBUTION.get(m, m) for m in modules} == extras[extra], extra
    assert extras["all"] == (
        extras["api"]
        | extras["dashboard"]
        | extras["store"]
        | extras["report"]
        | extras["dask"]
        | extras["spark"]
    )


def test_the_readme_scripts_install_every_extra() -> None:
    assert "-e '.[all,test]'" in (ROOT / "scripts" / "test.sh").read_text()
    assert "-e '.[all]'" in (ROOT / "scripts" / "dashboard.sh").read_text()


def test_importing_the_cli_loads_none_of_the_extras() -> None:
    code = (
        "import sys, costmodel.shells.cli, costmodel.adapters.bundled, costmodel.optional\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_require_names_the_extra_in_one_line() -> None:
    with pytest.raises(MissingExtraError) as caught:
        require("costmodel_no_such_package.sub", extra="dashboard")
    message = str(caught.value)
    assert isinstance(caught.value, CostModelError) and "\n" not in message
    assert "pip install 'costmodel[dashboard]'" in message
    assert "costmodel_no_such_package" in message
    assert require("yaml", extra="store").safe_load("a: 1") == {"a": 1}


def test_require_does_not_hide_a_broken_install(tmp_path: Path) -> None:
    # A package that is installed but fails to import one of its own dependencies is not a
    # missing extra: that error must surface as it is.
    (tmp_path / "brokenpkg").mkdir()
    (tmp_path / "brokenpkg" / "__init__.py").write_text("import costmodel_missing_inner\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ModuleNotFoundError, match="costmodel_missing_inner"):
            require("brokenpkg", extra="dashboard")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("brokenpkg", None)


def test_require_extra_checks_without_importing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EXTRAS, "api", ("yaml", "costmodel_no_such_package"))
    with pytest.raises(MissingExtraError, match=r"pip install 'costmodel\[api\]'"):
        require_extra("api")


# -- bundled scenarios ----------------------------------------------------------------------
def test_the_bundled_scenarios_are_the_files_in_scenarios() -> None:
    assert [s.name for s in bundled_scenarios()] == BUNDLED
    assert len(BUNDLED) >= 6
    for scenario in bundled_scenarios():
        assert scenario.path.read_bytes() == (ROOT / "scenarios" / scenario.path.name).read_bytes()
        assert scenario.title


def test_a_name_resolves_to_the_bundled_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bundled = {s.name: s.path for s in bundled_scenarios()}
    assert resolve_scenario("claims-triage") == bundled["claims-triage"]
    assert resolve_scenario("claims-triage.yaml") == bundled["claims-triage"]
    assert resolve_scenario(Path("reference")) == bundled["reference"]


def test_a_file_that_exists_wins_over_a_bundled_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "claims-triage").write_text("name: mine\n")
    (tmp_path / "reference.yaml").write_text("name: mine too\n")
    assert resolve_scenario("claims-triage") == Path("claims-triage")
    assert resolve_scenario("reference.yaml") == Path("reference.yaml")


def test_an_unknown_name_is_one_line_listing_the_bundled_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for unknown in ("claims-triag", "nothing.yaml", "claims-triage.json"):
        with pytest.raises(ScenarioError) as caught:
            resolve_scenario(unknown)
        message = str(caught.value)
        assert "\n" not in message and message.startswith(f"{unknown}: no such file")
        assert all(name in message for name in BUNDLED)
    # A path with a folder in it is a path: the loader reports it as a missing file.
    assert resolve_scenario("nowhere/claims-triage") == Path("nowhere/claims-triage")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_costmodel_scenarios_lists_name_title_and_file() -> None:
    code, out, _ = invoke("scenarios")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Title", "File"]
    assert [line.split()[0] for line in lines[1:]] == BUNDLED
    claims = next(line for line in lines if line.startswith("claims-triage "))
    assert "Claims triage (classification)" in claims and claims.endswith("claims-triage.yaml")
    code, out, _ = invoke("scenarios", "--format", "json")
    rows = json.loads(out)
    assert [row["name"] for row in rows] == BUNDLED
    assert all(Path(row["file"]).is_file() for row in rows)


def test_run_compare_diff_and_validate_take_a_bundled_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    by_name = invoke("run", "claims-triage", "--on", "2026-12-01", "--format", "json")
    by_path = invoke(
        "run", str(ROOT / "scenarios" / "claims-triage.yaml"), "--on", "2026-12-01", "--format", "json"
    )  # fmt: skip
    assert by_name[0] == 0 and json.loads(by_name[1]) == json.loads(by_path[1])
    code, out, _ = invoke("run", "claims-triage", "--on", "2026-12-01")
    assert code == 0 and "$412.50" in out and "$206.25" in out
    code, out, _ = invoke(
        "compare", "claims-triage", "document-summarisation", "--on", "2026-12-01"
    )
    assert code == 0 and "Claims triage" in out and "Document summarisation" in out
    code, out, _ = invoke("diff", "claims-triage", "claims-case-study", "--on", "2026-12-01")
    assert code == 0
    code, out, err = invoke("validate", "claims-triage", "nothing-here")
    assert code == 1 and "claims-triage.yaml: ok" in out and "nothing-here: no such file" in err


def test_an_unknown_scenario_name_is_one_line_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke("run", "claims-triag")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no bundled scenario of that name" in err
    assert "claims-triage" in err


# -- the built wheel, installed outside the checkout --------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(server: subprocess.Popen[str], port: int, wait: float = 90) -> str | None:
    """The dashboard's health answer, polled until it comes or the server exits (bounded)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and server.poll() is None:
        try:
            url = f"http://127.0.0.1:{port}/_stcore/health"
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            time.sleep(0.5)
    return None


def _stop(server: subprocess.Popen[str]) -> str:
    server.terminate()
    try:
        output, _ = server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        output, _ = server.communicate()
    return output


class Installed:
    """A fresh virtual environment holding the built wheel, run from a folder of its own."""

    def __init__(self, base: Path, wheel: Path) -> None:
        self.wheel = wheel
        self.venv = base / "venv"
        self.cwd = base / "elsewhere"
        self.cwd.mkdir()
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "COSTMODEL_", "VIRTUAL_ENV", "ANTHROPIC_"))
        }
        self.env["COSTMODEL_DEMO_STORE"] = str(base / "demo.duckdb")
        self.env["COSTMODEL_STORE"] = str(base / "usage.duckdb")
        self.env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"

    def pip_install(self, extras: str = "") -> None:
        target = f"{self.wheel}[{extras}]" if extras else str(self.wheel)
        self.run(
            str(self.venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            target,
            timeout=600,
        )

    def run(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=self.cwd, env=self.env, capture_output=True, text=True,
            timeout=timeout, check=check,
        )  # fmt: skip

    def costmodel(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.venv / "bin" / "costmodel"), *args, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=300, cwd=base,
    )  # fmt: skip
    (wheel,) = dist.glob("costmodel-*.whl")
    env = Installed(base, wheel)
    copy_demo_store(demo_store, Path(env.env["COSTMODEL_DEMO_STORE"]))  # built once per run
    env.pip_install()
    yield env


def test_the_wheel_alone_runs_the_scenario_commands_outside_the_checkout(
    installed: Installed,
) -> None:
    where = installed.run(
        str(installed.venv / "bin" / "python"), "-c", "import costmodel; print(costmodel.__file__)"
    ).stdout.strip()
    assert where.startswith(str(installed.venv)) and not where.startswith(str(ROOT))
    listing = installed.costmodel("scenarios")
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[0] for line in listing.stdout.splitlines()[1:]] == BUNDLED
    ran = installed.costmodel("run", "claims-triage", "--on", "2026-12-01")
    assert ran.returncode == 0, ran.stderr
    assert "$412.50" in ran.stdout and "$206.25" in ran.stdout
    # Without the extras their packages are not there, and each command says what to install.
    heavy = installed.run(
        str(installed.venv / "bin" / "python"),
        "-c",
        f"import importlib.util as u; print([m for m in {HEAVY!r} if u.find_spec(m) is not None])",
    )
    assert heavy.stdout.strip() == "[]"
    for command, extra in (
        (("dashboard",), "dashboard"),
        (("usage", "summary"), "store"),
        (("usage", "pull"), "api"),
        (("run", "claims-triage", "--actual"), "store"),
    ):
        missing = installed.costmodel(*command)
        assert missing.returncode == 1, (command, missing.stdout, missing.stderr)
        assert missing.stderr.count("\n") == 1, missing.stderr
        assert f"pip install 'costmodel[{extra}]'" in missing.stderr, missing.stderr


def test_the_wheel_with_every_extra_serves_the_dashboard(installed: Installed) -> None:
    installed.pip_install("all")
    port = _free_port()
    server = subprocess.Popen(
        [str(installed.venv / "bin" / "costmodel"), "dashboard", "--port", str(port)],
        cwd=installed.cwd,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer = _health(server, port)
        assert answer == "ok", f"no health answer; exit {server.poll()}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
    finally:
        output = _stop(server)
    assert f"127.0.0.1:{port}" in output  # it listened on loopback only
    assert "demo usage store:" in output
    # The packaged app renders the bundled scenario from the package, not from a checkout.
    page = installed.run(
        str(installed.venv / "bin" / "python"),
        "-c",
        "from importlib import resources\n"
        "from streamlit.testing.v1 import AppTest\n"
        "app = str(resources.files('costmodel.shells') / 'dashboard_app.py')\n"
        "at = AppTest.from_file(app, default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print([m.value for m in at.metric][:2])",
        timeout=180,
    )
    assert page.stdout.strip() == "['$412.50', '$206.25']", page.stderr


def test_the_dashboard_command_passes_the_checkout_streamlit_config() -> None:
    # Streamlit reads .streamlit/config.toml only from the folder it starts in, so the packaged
    # dashboard passes the same settings on its command line; the two must not drift apart.
    from costmodel.shells.cli.dashboard import DASHBOARD_FLAGS

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    expected = {
        f"--{section}.{key}={str(value).lower() if isinstance(value, bool) else value}"
        for section, values in config.items()
        for key, value in values.items()
    }
    assert set(DASHBOARD_FLAGS) == expected
    assert "--server.address=127.0.0.1" in DASHBOARD_FLAGS


def test_the_dashboard_stays_on_localhost_whatever_streamlit_arguments_say(
    tmp_path: Path, demo_store: Path
) -> None:
    port, other = _free_port(), _free_port()
    demo = copy_demo_store(demo_store, tmp_path / "d.db")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COSTMODEL_DEMO_STORE": str(demo)}
    server = subprocess.Popen(
        [sys.executable, "-m", "costmodel", "dashboard", "--port", str(port), "--",
         "--server.address=0.0.0.0", f"--server.port={other}", "--server.maxUploadSize=500"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert _health(server, port) == "ok", f"no health answer; exit {server.poll()}"
    finally:
        output = _stop(server)
    assert f"127.0.0.1:{port}" in output and "0.0.0.0" not in output
