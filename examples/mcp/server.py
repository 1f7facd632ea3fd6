#!/usr/bin/env python3
"""A job-progress MCP server (the Python MCP SDK's MCPServer over Streamable HTTP), for Squall to gate end to end.

The realtime channel is MCP itself: a client calls the tool `follow_job`, and the server streams the job's progress
as MCP progress notifications on the tool call's Server-Sent Events stream, then answers the call when the job ends.
The server keeps every event in an event store, so a client whose stream breaks can reconnect with `Last-Event-ID`
and be sent what it missed (MCP's resumability). The app adds only what Squall needs to judge it, in Squall's
server contract:

    POST /api/jobs                        {"totalItems": N, "itemInterval": "250ms"} -> 201 {"jobId", "token"}
    GET  /api/job-state/{jobId}?since=N   (Authorization: Bearer <token>) -> the job's messages after N
    GET  /healthz                         -> 200
    POST/GET /mcp                         MCP Streamable HTTP (tool `follow_job`)

Each progress notification's `message` is the job's message as JSON (`seq`, `type`, `data`), so the client can
report which message it delivered.

    python server.py --port 8080 [--retry-ms 1000]
"""

import argparse
import asyncio
import json
import re
import secrets
import time
from collections import OrderedDict

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from starlette.requests import Request
from starlette.responses import JSONResponse

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--retry-ms", type=int, default=1000, help="the `retry:` the server sends on its event streams")
parser.add_argument(
    "--event-store",
    choices=["per-session", "shared"],
    default="per-session",
    help="one event-store scope per session, or one for all (the SDK's shared store: see MemoryEventStore)",
)
options = parser.parse_args()

jobs = {}  # jobId -> {"token", "total", "interval", "fail", "messages", "status", "changed": asyncio.Event}


class MemoryEventStore:
    """Every event of every stream, in order, in memory (bounded): what MCP's resumability replays from.

    Streams are named by the SDK's stream ids, which are request ids: every session has a stream `0`, `1`, `2`…
    Given one scope for all sessions (`--event-store shared`: the one store `streamable_http_app(event_store=…)`
    takes), a resumed stream is sent every later event of every session's stream of that id — other clients' job
    messages (the defect PrefectHQ/fastmcp#4402 fixed there, modelcontextprotocol/typescript-sdk#1004 in the
    TypeScript SDK). By default each session gets a scope of its own (`SessionScopedEventStore`)."""

    def __init__(self, limit=200_000):
        self.limit = limit
        self.events = OrderedDict()  # event id -> (scoped stream id, message)
        self.counter = 0

    def store(self, stream, message):
        self.counter += 1
        event_id = str(self.counter)
        self.events[event_id] = (stream, message)
        while len(self.events) > self.limit:
            self.events.popitem(last=False)
        return event_id

    async def replay(self, last_event_id, send_callback, scope):
        """Sends the events after `last_event_id` of its stream, when that stream is in `scope`; returns the
        stream (None when the event is unknown or not the scope's)."""
        entry = self.events.get(last_event_id)
        if entry is None or not entry[0].startswith(scope):
            return None
        stream, found = entry[0], False
        for event_id, (other, message) in list(self.events.items()):
            if found and other == stream and message is not None:
                await send_callback(EventMessage(message, event_id))
            found = found or event_id == last_event_id
        return stream


class SessionScopedEventStore(EventStore):
    """One session's view of the memory store: its stream ids prefixed with its scope."""

    def __init__(self, backend, scope):
        self.backend, self.scope = backend, scope

    async def store_event(self, stream_id, message):
        return self.backend.store(f"{self.scope}{stream_id}", message)

    async def replay_events_after(self, last_event_id, send_callback: EventCallback):
        stream = await self.backend.replay(last_event_id, send_callback, self.scope)
        return stream.removeprefix(self.scope) if stream is not None else None


def scope_event_store_per_session(manager, backend):
    """Gives every session the session manager creates a scope of its own in `backend`: the manager reads its
    `event_store` once per new session's transport, so reading it hands out a new scope each time."""

    class PerSessionStores(type(manager)):
        @property
        def event_store(self):
            self._scopes = getattr(self, "_scopes", 0) + 1
            return SessionScopedEventStore(backend, f"s{self._scopes}/")

        @event_store.setter
        def event_store(self, value):
            pass

    manager.__class__ = PerSessionStores


server = MCPServer("squall-jobs")


def interval_seconds(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text or "250ms")
    if not match:
        raise ValueError("itemInterval must look like 250ms or 2s")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


async def run_job(job_id):
    job = jobs[job_id]
    start = time.monotonic()
    for item in range(1, job["total"] + 1):
        await asyncio.sleep(max(0, start + item * job["interval"] - time.monotonic()))
        if job["fail"] and item >= job["fail"]:
            kind, status = "error", f"Failed at item {item}"
        elif item >= job["total"]:
            kind, status = "complete", f"Completed {job['total']} items"
        else:
            kind, status = "progress", f"Processing item {item}"
        message = {
            "type": kind,
            "jobId": job_id,
            "seq": len(job["messages"]) + 1,
            "timestamp": int(time.time() * 1000),
            "data": {
                "progress": item / job["total"],
                "processedItems": item,
                "totalItems": job["total"],
                "currentStatus": status,
            },
        }
        job["messages"].append(message)
        changed, job["changed"] = job["changed"], asyncio.Event()
        changed.set()
        if kind != "progress":
            job["status"] = "completed" if kind == "complete" else "failed"
            return


@server.tool()
async def follow_job(job_id: str, token: str, since: int, ctx: Context) -> str:
    """Streams a job's messages after `since` as progress notifications, and answers when the job ends."""
    job = jobs.get(job_id)
    if job is None or token != job["token"]:
        raise ValueError("unknown job or wrong token")
    sent = max(0, since)
    while True:
        # Re-read after every send: messages published while one was being sent go out next.
        while sent < len(job["messages"]):
            message = job["messages"][sent]
            await ctx.report_progress(message["seq"], job["total"], json.dumps(message))
            sent += 1
        if job["status"] != "running":
            return job["status"]
        # Nothing awaited between the check above and this wait, so no publication can slip between them.
        await job["changed"].wait()


@server.custom_route("/api/jobs", methods=["POST"])
async def create_job(request: Request):
    try:
        body = await request.json() if await request.body() else {}
        total = int(body.get("totalItems", 20))
        interval = interval_seconds(body.get("itemInterval", "250ms"))
        fail = body.get("failAfterItems")
        if not 1 <= total <= 1_000_000:
            raise ValueError("totalItems must be 1 to 1000000")
    except (ValueError, TypeError, json.JSONDecodeError) as problem:
        return JSONResponse({"error": "bad_request", "message": str(problem)}, status_code=400)
    job_id = "job-" + secrets.token_hex(8)
    jobs[job_id] = {
        "token": secrets.token_hex(16),
        "total": total,
        "interval": interval,
        "fail": fail,
        "messages": [],
        "status": "running",
        "changed": asyncio.Event(),
    }
    asyncio.get_running_loop().create_task(run_job(job_id))
    return JSONResponse({"jobId": job_id, "token": jobs[job_id]["token"]}, status_code=201)


@server.custom_route("/api/job-state/{job_id}", methods=["GET"])
async def job_state(request: Request):
    job = jobs.get(request.path_params["job_id"])
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if job is None or token != job["token"]:
        return JSONResponse({"error": "unauthorized", "message": "a bearer token for this job is required"}, 401)
    try:
        since = int(request.query_params.get("since", "0"))
    except ValueError:
        return JSONResponse({"error": "bad_request", "message": "since must be an integer"}, status_code=400)
    messages = [m for m in job["messages"] if m["seq"] > since]
    last = job["messages"][-1] if job["messages"] else None
    return JSONResponse(
        {
            "jobId": request.path_params["job_id"],
            "status": job["status"],
            "processedItems": last["data"]["processedItems"] if last else 0,
            "totalItems": job["total"],
            "lastSeq": last["seq"] if last else 0,
            "messages": messages,
        }
    )


@server.custom_route("/healthz", methods=["GET"])
async def healthz(request: Request):
    return JSONResponse({"status": "ok"})


if __name__ == "__main__":
    backend = MemoryEventStore()
    app = server.streamable_http_app(
        event_store=SessionScopedEventStore(backend, ""), retry_interval=options.retry_ms
    )
    if options.event_store == "per-session":
        scope_event_store_per_session(server.session_manager, backend)
    uvicorn.run(app, host="127.0.0.1", port=options.port, log_level="warning")
