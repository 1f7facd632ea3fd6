"""Writes the fidelity corpus: every fault type and mode, once with a client preset that survives it and once
with a gate the app fails, each run by `squall sim --compare Tests/Fidelity` in both engines.

Run it from anywhere: `python3 Tests/Fidelity/generate.py` rewrites the JSON files beside it."""
import json, os
out = os.path.dirname(os.path.abspath(__file__))
for f in os.listdir(out):
    if f.endswith(".json"): os.remove(os.path.join(out, f))

def scenario(name, desc, timeline, strategy, gates, clients=6, duration="40s", items=40, interval="500ms", extra=None,
             start=None):
    doc = {
        "name": name,
        "description": desc,
        "seed": 11,
        "timeScale": 0.2,
        "duration": duration,
        "server": {"job": {"totalItems": items, "itemInterval": interval}},
        "clients": [dict({"count": clients, "strategy": strategy}, **({"startAt": start} if start else {}))],
        "timeline": timeline,
        "gates": gates,
    }
    if extra: doc.update(extra)
    with open(os.path.join(out, name + ".json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")

def fault(type_, stream="downstream", attrs=None, at="5s", for_="6s", name=None):
    f = {"type": type_, "stream": stream}
    if attrs: f["attributes"] = attrs
    if name: f["name"] = name
    step = {"at": at, "fault": f}
    if for_: step["for"] = for_
    return step

SURVIVE = {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"], "lost_messages": ["count==0"]}
NO_DUP = {"duplicate_messages": ["count==0"]}

cases = [
    # (type, stream, attrs, survive preset, fail preset, fail gates, note)
    ("latency", "downstream", {"latency": 300, "jitter": 50}, "resilient", "resilient",
     {"update_latency_ms": ["max<200"]}, "300 ms ± 50 of latency: updates meanwhile are later than 200 ms"),
    ("bandwidth", "downstream", {"rate": 1}, "resilient", "resilient",
     {"update_latency_ms": ["max<20"]}, "1 KB/s: updates queue behind each other"),
    ("slicer", "downstream", {"average_size": 20, "size_variation": 5, "delay": 20000}, "resilient", "resilient",
     {"update_latency_ms": ["max<50"]}, "20-byte pieces 20 ms apart"),
    ("slow_close", "downstream", {"delay": 2000}, "resilient", "resilient",
     {"polling_requests": ["count>0"]}, "the close is held back; nothing falls back"),
    ("limit_data", "downstream", {"bytes": 2000}, "resilient", "broken-no-dedup",
     NO_DUP, "each connection carries 2 000 bytes, then closes: reconnects replay"),
    ("timeout", "downstream", {"timeout": 3000}, "resilient", "broken-no-dedup",
     NO_DUP, "data dropped, the connection closed 3 s after its last byte"),
    ("blackhole", "downstream", None, "resilient", "broken-no-heartbeat",
     {"completion_rate": ["rate==1"]}, "a silent socket: only a heartbeat notices"),
    ("reset_peer", "downstream", {"timeout": 500}, "resilient", "broken-no-dedup",
     NO_DUP, "a reset 0.5 s after the first data"),
    ("packet_loss", "downstream", {"loss_rate": 0.3}, "resilient", "resilient",
     {"update_latency_ms": ["max<50"]}, "30 % of chunks vanish; a gap is filled by a state sync, late"),
    ("tcp_loss", "downstream", {"loss_rate": 0.1, "segment_size": 200}, "resilient", "resilient",
     {"update_latency_ms": ["max<100"]}, "10 % of segments retransmitted 200 ms later"),
    ("limit_time", "downstream", {"lifetime": 2000}, "resilient", "broken-no-dedup",
     NO_DUP, "every connection closed 2 s after it opened"),
    ("idle_timeout", "downstream", {"timeout": 1500}, "resilient", "broken-no-dedup",
     NO_DUP, "a connection idle for 1.5 s is closed"),
    ("refuse", "downstream", None, "resilient", "booktrack-scanner",
     {"fallback_rate": ["rate==0"]}, "new connections reset at once"),
    ("slow_open", "downstream", {"delay": 1500}, "resilient", "resilient",
     {"time_to_first_update_ms": ["max<1000"]}, "1.5 s before the proxy connects upstream"),
    ("connect_blackhole", "downstream", None, "resilient", "booktrack-scanner",
     {"fallback_rate": ["rate==0"]}, "new connections never answered"),
    ("down", "downstream", None, "resilient", "booktrack-scanner",
     {"fallback_rate": ["rate==0"]}, "the proxy stops listening"),
    ("drop_pings", "downstream", None, "resilient", "broken-no-dedup",
     NO_DUP, "pings and pongs swallowed for 40 s: the 30 s heartbeat times out"),
    ("close_after_frames", "downstream", {"frames": 5, "code": 1001}, "resilient", "broken-no-dedup",
     NO_DUP, "the WebSocket ends after 5 frames"),
    ("delay_frames", "downstream", {"delay": 400}, "resilient", "resilient",
     {"update_latency_ms": ["max<300"]}, "each frame held 400 ms"),
    ("fail_requests", "upstream", {"status": 503, "path": "/ws"}, "resilient", "resilient",
     {"websocket_success_rate": ["rate==1"]}, "upgrade requests answered 503 for 10 s"),
    ("delay_requests", "upstream", {"delay": 800, "path": "/ws"}, "resilient", "resilient",
     {"time_to_first_update_ms": ["max<500"]}, "upgrade requests held 800 ms"),
]
count = 0
for (t, stream, attrs, ok, bad, fail_gates, note) in cases:
    name = t.replace("_", "-")
    # connection faults must be in force when clients connect: they act from the start
    at, for_ = ("5s", "6s")
    # (clients start half a second later, so on real sockets the fault is surely in force when they connect)
    start = None
    if t in ("refuse", "connect_blackhole", "down", "slow_open", "delay_requests", "fail_requests"):
        at, for_ = "0s", "10s"
        # (connect_blackhole's first connects hang until their timeout either way; moving its clients moves its
        # latency median onto the edge between its two clusters of samples)
        start = None if t == "connect_blackhole" else "500ms"
    items, interval, duration = 40, "500ms", "40s"
    if t == "drop_pings":
        for_, items, duration = "40s", 100, "70s"
    if t == "idle_timeout":
        items, interval = 12, "2s"
    gates_ok = dict(SURVIVE)
    if t == "blackhole":
        gates_ok = {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"]}
    scenario(f"{name}-survives", f"{t}: {note}; the {ok} preset gets through it.",
             [fault(t, stream, attrs, at, for_)], ok, gates_ok, items=items, interval=interval, duration=duration,
             start=start)
    # A silent socket lasting past the job: only a heartbeat notices it.
    fail_for = None if t == "blackhole" else for_
    fail_duration = "60s" if t == "blackhole" else duration
    scenario(f"{name}-fails", f"{t}: {note}; a gate the app fails in both modes ({bad}).",
             [fault(t, stream, attrs, at, fail_for)], bad, fail_gates, items=items, interval=interval,
             duration=fail_duration, start=start)
    count += 2

for mode in ["reject", "strip", "reset", "hang", "blackhole_after_101", "buffer_after_101"]:
    name = "block-upgrade-" + mode.replace("_", "-")
    # A burst period that is no multiple of the 500 ms publications: the latencies spread instead of sitting on two
    # values a few milliseconds of harness delay could swap.
    attrs = {"mode": mode, "interval": 1300} if mode == "buffer_after_101" else {"mode": mode}
    tl = [fault("block_upgrade", "upstream", attrs, "0s", "10s")]
    survive = {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"]}
    scenario(name + "-survives", f"block_upgrade {mode} for the first 10 s; the resilient preset falls back and returns.", tl, "resilient", survive, start="500ms")
    fails = {"update_latency_ms": ["max<500"]} if mode == "buffer_after_101" else {"fallback_rate": ["rate==0"]}
    scenario(name + "-fails", f"block_upgrade {mode}: a gate the lume-chat preset fails.", tl, "lume-chat", fails, start="500ms")
    count += 2

# fail_requests in hang mode: the upgrade requests are swallowed, as a proxy black-holing requests does.
tl = [fault("fail_requests", "upstream", {"mode": "hang", "path": "/ws"}, "0s", "10s")]
scenario("fail-requests-hang-survives", "fail_requests hang on the upgrade for the first 10 s; the resilient preset's connect timeout notices, it falls back and returns.", tl, "resilient", {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"]}, start="500ms")
scenario("fail-requests-hang-fails", "fail_requests hang on the upgrade: a gate the lume-chat preset fails.", tl, "lume-chat", {"fallback_rate": ["rate==0"]}, start="500ms")
count += 2

# strip_header: a CDN drops Last-Event-ID; after a restart the event streams resume from the start. A client that
# de-duplicates gets through; one that does not delivers the replay twice.
tl = [fault("strip_header", "upstream", {"header": "Last-Event-ID"}, "0s", None), {"at": "6s", "action": "server_restart"}]
sse_only = lambda **o: {"clients": [{"count": 6, "strategy": "resilient-sse", "overrides": dict({"transports": ["sse", "polling"]}, **o)}]}
scenario("strip-header-survives", "strip_header Last-Event-ID and a server restart: resilient-sse resumes from the start and drops what it had.", tl, "resilient-sse", {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"], "lost_messages": ["count==0"]}, extra=sse_only())
scenario("strip-header-fails", "strip_header Last-Event-ID and a server restart: without de-duplication the replay is delivered twice.", tl, "resilient-sse", NO_DUP, extra=sse_only(deduplicate=False, stateSync=False))
count += 2

# The event-stream rung: the upgrade rejected, the ladder steps down to an event stream (no polling); a restart
# that a client without Last-Event-ID answers with a replay.
tl = [fault("block_upgrade", "upstream", {"mode": "reject"}, "0s", None)]
scenario("sse-ladder-survives", "block_upgrade reject for the whole run; resilient-sse steps down to an event stream and never polls.", tl, "resilient-sse", {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"], "lost_messages": ["count==0"], "fallback_rate": ["rate==0"]}, start="500ms")
tl = [{"at": "6s", "action": "server_restart"}]
scenario("sse-ladder-fails", "the server restarts under event streams: broken-sse-no-last-event-id asks for everything again and delivers the replay twice.", tl, "broken-sse-no-last-event-id", NO_DUP, extra={"clients": [{"count": 6, "strategy": "broken-sse-no-last-event-id", "overrides": {"transports": ["sse", "polling"]}}]})
count += 2

# The event-stream faults, on clients whose ladder is event stream then polling.
sse = lambda preset="resilient-sse", **o: {"clients": [{"count": 6, "strategy": preset, "overrides": dict({"transports": ["sse", "polling"]}, **o)}]}
# buffer_stream: nginx's 4 KiB buffer. resilient-sse's heartbeat notices the silence and the client polls until the
# fault is lifted; a client that never leaves a buffered stream gets its events in bursts.
tl = [fault("buffer_stream", "downstream", {"bytes": 16384}, "0s", None)]
scenario("buffer-stream-survives", "buffer_stream 16 KiB for the whole run; resilient-sse (heartbeat 3 s, 2 tries) finds every stream silent, runs out of tries and polls.", tl, "resilient-sse", dict(SURVIVE, fallback_rate=["rate==1"]), extra=sse(heartbeatTimeout="3s", reconnectAttempts=2))
scenario("buffer-stream-fails", "buffer_stream 4 KiB for the whole run: broken-sse-never-falls-back stays on the buffered stream and its updates come in bursts.", tl, "broken-sse-never-falls-back", {"update_latency_ms": ["max<1000"]}, extra=sse("broken-sse-never-falls-back"))
# cut_stream: every connection cut in the middle of its sixth event. Last-Event-ID resumes where it stopped; a client
# without it asks for everything again.
tl = [fault("cut_stream", "downstream", {"events": 5, "at": "mid_event"}, "5250ms", "6s")]
scenario("cut-stream-survives", "cut_stream mid-event after 5 events, for 6 s; resilient-sse resumes with Last-Event-ID.", tl, "resilient-sse", SURVIVE, extra=sse())
scenario("cut-stream-fails", "cut_stream mid-event after 5 events: broken-sse-no-last-event-id is replayed everything and delivers it twice.", tl, "broken-sse-no-last-event-id", NO_DUP, extra=sse("broken-sse-no-last-event-id"))
# drop_events: every third event vanishes for 6 s. The sequence gap sends resilient-sse to the job's state; without
# state sync the dropped updates stay lost.
# (off the 500 ms publication grid: a publication at the very instant the fault is lifted is dropped or not by a few
# milliseconds of harness delay)
tl = [fault("drop_events", "downstream", {"every": 3}, "5250ms", "6s")]
scenario("drop-events-survives", "drop_events every 3rd event for 6 s; resilient-sse sees the gap and syncs the job's state.", tl, "resilient-sse", SURVIVE, extra=sse())
scenario("drop-events-fails", "drop_events every 3rd event for 6 s: without state sync the dropped updates are lost.", tl, "resilient-sse", {"lost_messages": ["count==0"]}, extra=sse(stateSync=False))
count += 6

for mode in ["reset", "fin", "blackhole"]:
    name = "handoff-" + mode
    tl = [{"at": "6s", "handoff": {"mode": mode, "blackout": "2s"}}]
    scenario(name + "-survives", f"a {mode} handoff with a 2 s blackout; resilient clients resume.", tl, "resilient",
             {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"]})
    scenario(name + "-fails", f"a {mode} handoff: broken-no-resume replays what it had.", tl, "broken-no-resume", NO_DUP)
    count += 2

tl = [{"at": "6s", "action": "server_restart"}]
scenario("server-restart-survives", "the reference server restarts; resilient clients resume.", tl, "resilient",
         {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"]}, extra={"server": {"job": {"totalItems": 40, "itemInterval": "500ms"}, "restartDowntime": "1s"}} if False else None)
scenario("server-restart-fails", "the reference server restarts: broken-no-resume replays what it had.", tl, "broken-no-resume", NO_DUP)
tl = [{"at": "6s", "for": "5s", "action": "suspend", "target": {"clients": 0.5}}]
scenario("suspend-survives", "half the clients suspended for 5 s; they catch up.", tl, "resilient",
         {"completion_rate": ["rate==1"], "duplicate_messages": ["count==0"]})
scenario("suspend-fails", "half the clients suspended for 5 s: no update can be on time.", tl, "resilient",
         {"update_latency_ms": ["max<1000"]})
tl = [{"at": "5s", "for": "10s", "profile": "nlc-3g"}]
scenario("profile-3g-survives", "the nlc-3g profile for 10 s.", tl, "resilient", SURVIVE)
scenario("profile-3g-fails", "the nlc-3g profile for 10 s: updates are later than 100 ms.", tl, "resilient",
         {"update_latency_ms": ["max<100"]})
count += 6
