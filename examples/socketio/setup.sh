#!/usr/bin/env bash
# Installs the Socket.IO example's Python dependencies (python-socketio with its aiohttp server) into a virtual
# environment inside the example, examples/socketio/.venv, which git ignores. Squall's own build never uses it.
# Run from anywhere: bash examples/socketio/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import socketio, aiohttp; print("socket.io example ready: python-socketio", socketio.__version__ if hasattr(socketio, "__version__") else "", "aiohttp", aiohttp.__version__)'
