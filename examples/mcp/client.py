#!/usr/bin/env python3
"""An MCP client of the job-progress MCP server (the Python MCP SDK's Streamable HTTP client), run by Squall as an
external client.

It is the SDK's own client: it opens a session, calls the tool `follow_job` and receives the job's messages as
progress notifications on the call's Server-Sent Events stream. When that stream breaks before the call is answered,
the SDK itself reconnects with `Last-Event-ID` (a GET on the MCP endpoint) and the server's event store replays what
it missed; this wrapper only watches the SDK's HTTP requests to report Squall's client event contract on standard
output, one NDJSON line per event:

    connect_attempt / connected           the session's first request, and the tool call's stream open (`via`: sse)
    closed, reconnect_attempt, connected  the SDK resuming a broken stream with Last-Event-ID (seen as its GET)
    connect_failed                        a session that could not be opened, or a call that failed
    delivered                             a progress notification carrying a job message (`via`: sse)
    duplicate_dropped, finished           as the contract says

When a call fails (the SDK gave up resuming, or the call timed out), the wrapper opens a new session and calls the
tool again from the last message it delivered (1 s doubling to 5 s, ±50 % jitter, seeded by SQUALL_SEED). A call
that never answers and never fails waits for `--call-timeout` (scenario seconds, default 60), which is how a hung
stream shows.

    SQUALL_SERVER_URL, SQUALL_JOB_ID, SQUALL_TOKEN, SQUALL_CLIENT_ID, SQUALL_SEED, SQUALL_TIME_SCALE
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

parser = argparse.ArgumentParser()
parser.add_argument("--call-timeout", type=float, default=60.0, help="scenario seconds a tool call may take")
options = parser.parse_args()

SCALE = float(os.environ.get("SQUALL_TIME_SCALE", "1"))
URL = os.environ["SQUALL_SERVER_URL"].rstrip("/")
JOB, TOKEN = os.environ["SQUALL_JOB_ID"], os.environ["SQUALL_TOKEN"]
CLIENT = os.environ.get("SQUALL_CLIENT_ID", "mcp")
RANDOM = random.Random(int(os.environ.get("SQUALL_SEED", "1")))
CALL_TIMEOUT = options.call_timeout * SCALE

seen = set()
last_seq = 0
done = asyncio.Event()
resumes = 0


def emit(event, **fields):
    print(json.dumps({"time": time.time() * 1000, "client": CLIENT, "event": event, "jobId": JOB, **fields}), flush=True)


def deliver(message):
    """Reports a job message, under the job it names: a message of another job (a resumed stream replaying
    another session's events) is delivered as such, and Squall counts it unexpected."""
    global last_seq
    seq, job = message["seq"], message.get("jobId", JOB)
    if (job, seq) in seen:
        emit("duplicate_dropped", seq=seq)
        return
    seen.add((job, seq))
    latency = time.time() * 1000 - message["timestamp"]
    if job != JOB:
        print(json.dumps({"time": time.time() * 1000, "client": CLIENT, "event": "delivered", "jobId": job,
                          "seq": seq, "via": "sse", "latencyMs": latency, "type": message["type"]}), flush=True)
        return
    last_seq = max(last_seq, seq)
    emit("delivered", seq=seq, via="sse", latencyMs=latency, type=message["type"])
    if message["type"] in ("complete", "error"):
        emit("finished", outcome="completed" if message["type"] == "complete" else "failed")
        done.set()


async def on_progress(progress, total, message):
    if message:
        deliver(json.loads(message))


async def on_request(request):
    """The SDK resumes a broken stream with a GET carrying Last-Event-ID: the stream was lost, a reconnect starts."""
    global resumes
    if request.method == "GET" and "last-event-id" in request.headers:
        resumes += 1
        emit("closed", code=None, reason="connection lost: the tool call's event stream broke")
        emit("reconnect_attempt", attempt=resumes, delayMs=0)
        emit("connect_attempt", attempt=resumes, probe=False)
        request.extensions["squall_resume"] = resumes


async def on_response(response):
    resume = response.request.extensions.get("squall_resume")
    if resume is None:
        return
    if response.status_code == 200 and response.headers.get("content-type", "").startswith("text/event-stream"):
        emit("connected", attempt=resume, probe=False, via="sse")
    else:
        emit("connect_failed", reason=f"resumption answered {response.status_code}")


async def call_once(attempt):
    timeout = httpx2.Timeout(10.0 * max(SCALE, 0.1), read=CALL_TIMEOUT)
    hooks = {"request": [on_request], "response": [on_response]}
    async with httpx2.AsyncClient(timeout=timeout, event_hooks=hooks) as http:
        async with streamable_http_client(f"{URL}/mcp", http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                emit("connected", attempt=attempt, probe=False, via="sse")
                result = await session.call_tool(
                    "follow_job",
                    {"job_id": JOB, "token": TOKEN, "since": last_seq},
                    read_timeout_seconds=CALL_TIMEOUT,
                    progress_callback=on_progress,
                )
                if result.isError and not done.is_set():
                    text = " ".join(getattr(part, "text", "") for part in result.content)
                    raise RuntimeError(f"the tool call failed: {text}")


def describe(problem):
    """A failure in words: the innermost exceptions of the exception groups the SDK's task groups raise."""
    if isinstance(problem, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in problem.exceptions)
    return f"{type(problem).__name__}: {problem}".strip().rstrip(":")


async def follow():
    attempt = 0
    delay = 1.0
    while not done.is_set():
        emit("connect_attempt", attempt=attempt, probe=False)
        try:
            await asyncio.wait_for(call_once(attempt), CALL_TIMEOUT + 10 * SCALE)
        except BaseException as problem:  # the SDK raises exception groups from its task group
            if isinstance(problem, (KeyboardInterrupt, SystemExit)):
                raise
            if done.is_set():
                return
            reason = describe(problem)[:300]
            emit("closed", code=None, reason=f"connection lost: {reason}")
        if done.is_set():
            return
        attempt += 1
        wait = min(5.0, delay) * (1 + RANDOM.uniform(-0.5, 0.5)) * SCALE
        delay *= 2
        emit("reconnect_attempt", attempt=attempt, delayMs=wait * 1000)
        await asyncio.sleep(wait)


if __name__ == "__main__":
    try:
        asyncio.run(follow())
    except KeyboardInterrupt:
        pass
    sys.exit(0)
