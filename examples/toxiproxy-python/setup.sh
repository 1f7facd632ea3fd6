#!/usr/bin/env bash
# Installs Toxiproxy's Python client (toxiproxy-python, pinned) into examples/toxiproxy-python/.venv, which git
# ignores. The control-API tests drive `squall proxy` with it, with and without a bearer token.
# Run from anywhere: bash examples/toxiproxy-python/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import toxiproxy, requests; print("toxiproxy-python example ready: requests", requests.__version__)'
