#!/usr/bin/env bash
# Set up everything the test suite needs, then run all of it:
# a virtual environment in .venv, costmodel with its test extras, Debian's Chromium for the
# browser test of the dashboard and Debian's OpenJDK for the Spark tests. Extra arguments go to
# pytest (e.g. -k pricing).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[all,test]'

if ! command -v chromium >/dev/null 2>&1; then
  echo "test set-up: installing Debian's chromium for the browser test" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if ! command -v java >/dev/null 2>&1; then
  echo "test set-up: installing Debian's OpenJDK 17 for the Spark tests" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 --durations=15 "$@"
