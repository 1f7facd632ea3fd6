#!/usr/bin/env python3
"""A python-socketio client of the Socket.IO job-progress app, run by Squall as an external client.

It is plain Socket.IO (engine.io long-polling first, then the WebSocket upgrade) wrapped only to report Squall's
client event contract on standard output, one NDJSON line per event. The mapping (also in Squall's README):

    connect_attempt / reconnect_attempt   each Socket.IO connect, and the backoff before a reconnect
    connected                             the Socket.IO connection is up (`transport`: polling or websocket)
    connect_failed                        a connect that failed or timed out
    fallback                              still on long-polling `--upgrade-wait` seconds after connecting: the
                                          WebSocket upgrade did not happen (engine.io never says so itself)
    recovered                             the transport became websocket after a fallback
    closed                                the connection dropped (`reason` from python-socketio)
    delivered                             a `progress` event (`via` the transport it came on) or, with
                                          --state-sync, a message fetched from the job-state endpoint (`polling`)
    duplicate_dropped, finished           as the contract says

Reconnection follows Socket.IO's defaults (1 s doubling to 5 s, ±50 % jitter, unlimited tries), seeded by
SQUALL_SEED. `--state-sync` makes the variant teams should ship: after every reconnect it asks the job-state
endpoint for what was emitted while it was away, since Socket.IO keeps no backlog.

    SQUALL_SERVER_URL, SQUALL_JOB_ID, SQUALL_TOKEN, SQUALL_CLIENT_ID, SQUALL_SEED, SQUALL_TIME_SCALE
"""

import asyncio
import json
import os
import random
import sys
import time

import aiohttp
import socketio

STATE_SYNC = "--state-sync" in sys.argv[1:]
SCALE = float(os.environ.get("SQUALL_TIME_SCALE", "1"))
URL = os.environ["SQUALL_SERVER_URL"].rstrip("/")
JOB, TOKEN = os.environ["SQUALL_JOB_ID"], os.environ["SQUALL_TOKEN"]
CLIENT = os.environ.get("SQUALL_CLIENT_ID", "socketio")
RANDOM = random.Random(int(os.environ.get("SQUALL_SEED", "1")))
UPGRADE_WAIT = 3.0 * SCALE
CONNECT_TIMEOUT = 10.0 * SCALE

seen = set()
last_seq = 0
done = asyncio.Event()


def emit(event, **fields):
    print(json.dumps({"time": time.time() * 1000, "client": CLIENT, "event": event, "jobId": JOB, **fields}), flush=True)


def deliver(message, via):
    global last_seq
    seq = message["seq"]
    if seq in seen:
        emit("duplicate_dropped", seq=seq)
        return
    seen.add(seq)
    last_seq = max(last_seq, seq)
    emit(
        "delivered",
        seq=seq,
        via=via,
        latencyMs=time.time() * 1000 - message["timestamp"],
        type=message["type"],
    )
    if message["type"] in ("complete", "error"):
        emit("finished", outcome="completed" if message["type"] == "complete" else "failed")
        done.set()


async def state_sync(since):
    """Delivers what the job published while this client was away: everything after `since`, the last message it
    had before it reconnected (not `last_seq` now: a live message may already have arrived on the new socket, and
    asking after it would skip the gap)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{URL}/api/job-state/{JOB}",
            params={"since": str(since)},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=aiohttp.ClientTimeout(total=CONNECT_TIMEOUT),
        ) as response:
            body = await response.json()
            emit("state_sync", attempt=1, status=response.status, messages=len(body.get("messages", [])))
            for message in body.get("messages", []):
                deliver(message, "polling")


async def quietly_disconnect(sio):
    """Drops a client, including one whose connect was cancelled half way (python-engineio then has no read loop to
    await and raises; nothing is left to close)."""
    try:
        await sio.disconnect()
    except Exception:
        pass


async def follow():
    attempt = 0
    delay = 1.0
    while not done.is_set():
        sio = socketio.AsyncClient(reconnection=False)
        dropped = asyncio.Event()
        reason = {"text": "connection lost"}

        @sio.on("progress")
        async def on_progress(message):
            deliver(message, "websocket" if sio.transport() == "websocket" else "polling")

        @sio.event
        async def disconnect(why=None):
            reason["text"] = str(why or "connection lost")
            dropped.set()

        emit("connect_attempt", attempt=attempt, probe=False)
        resume_from = last_seq
        try:
            await asyncio.wait_for(
                sio.connect(URL, auth={"jobId": JOB, "token": TOKEN}, wait_timeout=CONNECT_TIMEOUT),
                CONNECT_TIMEOUT,
            )
        except (asyncio.TimeoutError, socketio.exceptions.ConnectionError) as problem:
            emit("connect_failed", reason=str(problem) or "connect timed out")
            await quietly_disconnect(sio)
        else:
            emit("connected", attempt=attempt, probe=False, transport=sio.transport())
            if attempt > 0 and STATE_SYNC:
                try:
                    await state_sync(resume_from)
                except (aiohttp.ClientError, asyncio.TimeoutError) as problem:
                    emit("state_sync", attempt=1, status=None, messages=0, error=str(problem))
            delay = 1.0
            fell_back = False
            waited = 0.0
            while not done.is_set() and not dropped.is_set():
                await asyncio.sleep(0.1)
                waited += 0.1
                transport = sio.transport()
                if not fell_back and transport == "polling" and waited >= UPGRADE_WAIT:
                    fell_back = True
                    emit("fallback", reason="the WebSocket upgrade did not happen: staying on long-polling")
                elif fell_back and transport == "websocket":
                    fell_back = False
                    emit("recovered")
            if done.is_set():
                await quietly_disconnect(sio)
                return
            emit("closed", code=None, reason=reason["text"])
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
