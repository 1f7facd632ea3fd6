#!/usr/bin/env bash
# Installs the Python parts the tests use, each into its example's own virtual environment (which git ignores):
# the Socket.IO example (python-socketio, aiohttp), the MCP example (the Python MCP SDK) and Toxiproxy's Python
# client. Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/socketio/setup.sh"
bash "$here/mcp/setup.sh"
bash "$here/toxiproxy-python/setup.sh"
