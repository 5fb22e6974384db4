"""``costmodel dashboard``: the packaged Streamlit app, on localhost only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from costmodel.shells.cli.options import (
    _needs,
    friendly_errors,
)

__all__ = ["DASHBOARD_FLAGS", "dashboard"]


# The same settings as .streamlit/config.toml, which Streamlit reads only from the folder it is
# started in: the packaged app runs from anywhere, so they are passed on its command line.
DASHBOARD_FLAGS: tuple[str, ...] = (
    "--server.address=127.0.0.1",
    "--server.headless=true",
    "--server.maxUploadSize=1",
    "--browser.gatherUsageStats=false",
    "--browser.serverAddress=localhost",
    "--theme.base=light",
    "--theme.primaryColor=#0f9d77",
    "--client.toolbarMode=minimal",
    "--client.showErrorDetails=none",
)


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.argument("streamlit_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- STREAMLIT_ARGS]")
@friendly_errors
def dashboard(port: int, streamlit_args: tuple[str, ...]) -> None:
    """Open the dashboard on http://127.0.0.1:PORT (localhost only; no API key needed).

    Builds the demo usage store once, as scripts/dashboard.sh does, then runs the app that
    ships in the package. Arguments after -- go to `streamlit run` (they cannot change the
    address, the port or the upload limit).
    """
    _needs("dashboard")
    from importlib import resources

    from costmodel.adapters.demo import ensure_demo_store

    click.echo(f"demo usage store: {ensure_demo_store()}", err=True)
    app = Path(str(resources.files("costmodel.shells") / "dashboard_app.py"))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        *streamlit_args,
        # Last, so they win over the same options among the user's: localhost only, always.
        *DASHBOARD_FLAGS,
        f"--server.port={port}",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)  # Streamlit owns the process from here, signals and all
