"""Drives a Toxiproxy-compatible control API with Toxiproxy's own Python client (toxiproxy-python 0.1.1).

Usage: drive.py PORT UPSTREAM_PORT [TOKEN]

The client has no token option, so with TOKEN its HTTP calls go through a requests.Session that sends
`Authorization: Bearer TOKEN` on every request (a custom header, as Toxiproxy 2.13's documentation suggests for
clients without auth support). Prints one JSON line: what each step returned, or the error it raised.
"""
import json
import sys

import requests
import toxiproxy.api
from toxiproxy import Toxiproxy

port, upstream = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else None
if token:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + token
    toxiproxy.api.requests = session

server = Toxiproxy()
server.update_api_consumer("127.0.0.1", int(port))
steps = {}


def step(name, action):
    try:
        steps[name] = action()
    except Exception as error:  # the client raises on any non-2xx answer
        steps[name] = "error: %s %s" % (type(error).__name__, error)


step("running", lambda: server.running())
step("create", lambda: server.create(upstream="127.0.0.1:%s" % upstream, name="py", listen="127.0.0.1:0").name)
step("add_toxic", lambda: server.get_proxy("py").add_toxic(type="latency", attributes={"latency": 50}) or "ok")
step("toxics", lambda: sorted(server.get_proxy("py").toxics().keys()))
step("disable", lambda: server.get_proxy("py").disable() or server.get_proxy("py").enabled)
step("enable", lambda: server.get_proxy("py").enable() or server.get_proxy("py").enabled)
step("reset", lambda: server.reset() or "ok")
step("destroy", lambda: server.get_proxy("py").destroy() or "ok")
print(json.dumps(steps, sort_keys=True))
