#!/usr/bin/env bash
# Set up and open the dashboard on the bundled scenarios and a generated demo store:
# a virtual environment in .venv, costmodel installed into it, the demo batch usage built
# once (a few seconds), then Streamlit on http://127.0.0.1:8501 (localhost only).
# No API key is needed. Extra arguments go to `streamlit run` (e.g. --server.port 8600).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[all]'

.venv/bin/python -c "from costmodel.adapters.demo import ensure_demo_store; print('demo usage store:', ensure_demo_store())"
exec .venv/bin/streamlit run app.py \
  --server.address 127.0.0.1 --server.port 8501 --server.headless true \
  --browser.gatherUsageStats false "$@"
