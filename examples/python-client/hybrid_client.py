#!/usr/bin/env python3
"""A hybrid job-progress client in Python (standard library only), run by Squall as an external client.

It follows the contract in Squall's README: it reads its parameters from SQUALL_* environment variables, opens the
job's WebSocket (sending `ready` with the last seq it has), reconnects with exponential backoff, falls back to
polling the job-state endpoint after too many failed attempts, and prints one NDJSON event per line on stdout.

    SQUALL_SERVER_URL   http://127.0.0.1:PORT[/prefix] (the fault proxy in front of the server)
    SQUALL_JOB_ID       the job to follow
    SQUALL_TOKEN        its bearer token
    SQUALL_CLIENT_ID    the id to report (Squall sets it on every event anyway)
    SQUALL_SEED         seeds the backoff jitter
    SQUALL_TIME_SCALE   multiply every timing by this (scenarios run at a fraction of real time)

`--broken` makes a client teams should catch: it forgets what it has seen, so every reconnect replays the job from
the start (`lastSeq` 0) and every replayed message is delivered again — a `duplicate_messages` gate fails.
"""

import base64
import json
import os
import random
import signal
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BROKEN = "--broken" in sys.argv[1:]
SCALE = float(os.environ.get("SQUALL_TIME_SCALE", "1"))
URL = urllib.parse.urlsplit(os.environ["SQUALL_SERVER_URL"])
HOST, PORT, PREFIX = URL.hostname, URL.port or 80, URL.path.rstrip("/")
JOB, TOKEN = os.environ["SQUALL_JOB_ID"], os.environ["SQUALL_TOKEN"]
CLIENT = os.environ.get("SQUALL_CLIENT_ID", "python")
RANDOM = random.Random(int(os.environ.get("SQUALL_SEED", "1")))

RECONNECT_ATTEMPTS = 5
INITIAL_BACKOFF, MAXIMUM_BACKOFF = 1.0 * SCALE, 30.0 * SCALE
POLL_INTERVAL = 2.0 * SCALE
HEARTBEAT_TIMEOUT = 35.0 * SCALE  # the server pings every 10 s; silence this long means the socket is dead
CONNECT_TIMEOUT = 10.0 * SCALE

seen = set()
last_seq = 0


def emit(event, **fields):
    print(json.dumps({"time": time.time() * 1000, "client": CLIENT, "event": event, "jobId": JOB, **fields}), flush=True)


def deliver(message, via):
    """Hands a message to the app once (unless broken); returns True when it ends the job."""
    global last_seq
    seq = message["seq"]
    if seq in seen and not BROKEN:
        emit("duplicate_dropped", seq=seq)
    else:
        seen.add(seq)
        emit("delivered", seq=seq, via=via, type=message["type"],
             latencyMs=max(0.0, time.time() * 1000 - message.get("timestamp", 0)))
    last_seq = max(last_seq, seq)
    if message["type"] in ("complete", "error"):
        emit("finished", outcome="completed" if message["type"] == "complete" else "failed")
        return True
    return False


class WebSocketClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise WebSocketClosed(None, "connection closed without a close frame")
        data += chunk
    return data


def send_frame(sock, opcode, payload=b""):
    mask = os.urandom(4)
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    else:
        header += bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def read_message(sock):
    """The next text message; answers pings; raises WebSocketClosed on a close frame or EOF."""
    parts = b""
    while True:
        first, second = read_exactly(sock, 2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            length = int.from_bytes(read_exactly(sock, 2), "big")
        elif length == 127:
            length = int.from_bytes(read_exactly(sock, 8), "big")
        mask = read_exactly(sock, 4) if second & 0x80 else None
        payload = read_exactly(sock, length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if opcode == 0x9:
            send_frame(sock, 0xA, payload)
        elif opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            raise WebSocketClosed(code, payload[2:].decode("utf-8", "replace") or "close frame")
        elif opcode in (0x1, 0x0):
            parts += payload
            if first & 0x80:
                return parts.decode("utf-8")


def open_websocket():
    sock = socket.create_connection((HOST, PORT), timeout=CONNECT_TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {PREFIX}/ws/progress?jobId={urllib.parse.quote(JOB)} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            raise OSError("connection closed during the upgrade")
        head += chunk
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 101 " not in status + " ":
        sock.close()
        raise OSError(f"upgrade refused: {status}")
    sock.settimeout(HEARTBEAT_TIMEOUT)
    return sock


def follow_websocket(attempt):
    """One WebSocket session: "done" when the job ended, "lost" when an open socket ended, "failed" when none opened."""
    emit("connect_attempt", attempt=attempt, probe=False)
    try:
        sock = open_websocket()
    except OSError as error:
        emit("connect_failed", reason=str(error))
        return "failed"
    emit("connected", attempt=attempt, probe=False)
    try:
        send_frame(sock, 0x1, json.dumps({"type": "ready", "lastSeq": 0 if BROKEN else last_seq}).encode())
        while True:
            message = json.loads(read_message(sock))
            if message.get("type") == "ready_ack":
                continue
            if deliver(message, "websocket"):
                sock.close()
                return "done"
    except WebSocketClosed as closed:
        emit("closed", code=closed.code, reason=str(closed))
    except (OSError, ValueError) as error:
        emit("closed", code=None, reason=f"socket error: {error}")
    sock.close()
    return "lost"


def poll_until_done():
    while True:
        request = urllib.request.Request(f"http://{HOST}:{PORT}{PREFIX}/api/job-state/{urllib.parse.quote(JOB)}?since={last_seq}",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT) as answer:
                state = json.loads(answer.read())
            emit("poll", status=200, messages=len(state["messages"]))
            for message in state["messages"]:
                if message["seq"] > last_seq and deliver(message, "polling"):
                    return
        except urllib.error.HTTPError as error:
            emit("poll", status=error.code, messages=0, error=str(error))
        except (OSError, ValueError) as error:
            emit("poll", status=None, messages=0, error=str(error))
        time.sleep(POLL_INTERVAL)


def main():
    def stop(_signal, _frame):
        emit("stopped", reason="SIGTERM")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    failures = 0
    while True:
        result = follow_websocket(failures)
        if result == "done":
            return
        failures = 1 if result == "lost" else failures + 1
        if failures > RECONNECT_ATTEMPTS:
            emit("fallback", reason=f"{RECONNECT_ATTEMPTS} reconnect attempts failed")
            poll_until_done()
            return
        delay = min(MAXIMUM_BACKOFF, INITIAL_BACKOFF * 2 ** (failures - 1)) * (0.5 + RANDOM.random() / 2)
        emit("reconnect_attempt", attempt=failures, delayMs=delay * 1000)
        time.sleep(delay)


if __name__ == "__main__":
    main()
