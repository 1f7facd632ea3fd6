#!/usr/bin/env bash
# Installs the MCP example's Python dependencies (the Python MCP SDK, `mcp`, with its Starlette/uvicorn server and
# httpx client) into a virtual environment inside the example, examples/mcp/.venv, which git ignores. Squall's own
# build never uses it. Run from anywhere: bash examples/mcp/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import importlib.metadata as m; print("mcp example ready: mcp", m.version("mcp"), "starlette", m.version("starlette"), "uvicorn", m.version("uvicorn"), "httpx2", m.version("httpx2"))'
