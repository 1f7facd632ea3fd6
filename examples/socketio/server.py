#!/usr/bin/env python3
"""A small job-progress app on Socket.IO (python-socketio on aiohttp), for Squall to gate end to end.

The realtime channel is Socket.IO itself — engine.io long-polling first, then the WebSocket upgrade — not Squall's
`/ws/progress`. The app adds only what Squall needs to judge it, in Squall's server contract:

    POST /api/jobs                        {"totalItems": N, "itemInterval": "250ms"} -> 201 {"jobId", "token"}
    GET  /api/job-state/{jobId}?since=N   (Authorization: Bearer <token>) -> the job's messages after N
    GET  /healthz                         -> 200

A client joins its job's room by connecting with `auth={"jobId": …, "token": …}`; every message is emitted to the
room as a `progress` event, live only: Socket.IO keeps no backlog, so a client that is away misses what was emitted
meanwhile (the state-syncing client asks the job-state endpoint for it).

    python server.py --port 8080 [--ping-interval 5 --ping-timeout 5]
"""

import argparse
import asyncio
import json
import re
import secrets
import time

import socketio
from aiohttp import web

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--ping-interval", type=float, default=25.0, help="engine.io ping interval, seconds")
parser.add_argument("--ping-timeout", type=float, default=20.0, help="engine.io ping timeout, seconds")
options = parser.parse_args()

sio = socketio.AsyncServer(
    async_mode="aiohttp",
    cors_allowed_origins="*",
    ping_interval=options.ping_interval,
    ping_timeout=options.ping_timeout,
)
app = web.Application()
sio.attach(app)

jobs = {}  # jobId -> {"token", "total", "interval", "fail", "messages", "status"}


def error(status, code, message):
    return web.json_response({"error": code, "message": message}, status=status)


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
        await sio.emit("progress", message, room=job_id)
        if kind != "progress":
            job["status"] = "completed" if kind == "complete" else "failed"
            return


async def create_job(request):
    try:
        body = await request.json() if request.can_read_body else {}
        total = int(body.get("totalItems", 20))
        interval = interval_seconds(body.get("itemInterval", "250ms"))
        fail = body.get("failAfterItems")
        if not 1 <= total <= 1_000_000:
            raise ValueError("totalItems must be 1 to 1000000")
    except (ValueError, TypeError, json.JSONDecodeError) as problem:
        return error(400, "bad_request", str(problem))
    job_id = "job-" + secrets.token_hex(8)
    jobs[job_id] = {
        "token": secrets.token_hex(16),
        "total": total,
        "interval": interval,
        "fail": fail,
        "messages": [],
        "status": "running",
    }
    asyncio.get_running_loop().create_task(run_job(job_id))
    return web.json_response({"jobId": job_id, "token": jobs[job_id]["token"]}, status=201)


async def job_state(request):
    job = jobs.get(request.match_info["job_id"])
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if job is None or token != job["token"]:
        return error(401, "unauthorized", "a bearer token for this job is required")
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        return error(400, "bad_request", "since must be an integer")
    messages = [m for m in job["messages"] if m["seq"] > since]
    last = job["messages"][-1] if job["messages"] else None
    return web.json_response(
        {
            "jobId": request.match_info["job_id"],
            "status": job["status"],
            "processedItems": last["data"]["processedItems"] if last else 0,
            "totalItems": job["total"],
            "lastSeq": last["seq"] if last else 0,
            "messages": messages,
        }
    )


async def healthz(request):
    return web.json_response({"status": "ok"})


@sio.event
async def connect(sid, environ, auth):
    auth = auth or {}
    job = jobs.get(auth.get("jobId"))
    if job is None or auth.get("token") != job["token"]:
        raise socketio.exceptions.ConnectionRefusedError("unauthorized")
    await sio.enter_room(sid, auth["jobId"])


app.router.add_post("/api/jobs", create_job)
app.router.add_get("/api/job-state/{job_id}", job_state)
app.router.add_get("/healthz", healthz)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=options.port, print=None, handle_signals=True)
