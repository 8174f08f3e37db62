#!/usr/bin/python3
"""End-to-end tests of the live API (docs/API.md, docs/PROTOCOL.md): the real `skadi`
binary on free ports, driven by real clients -- curl for HTTP, Debian's python3-websockets
for /ws/events, python3-zmq for the twin's ZeroMQ protocol.

    test_api.py SKADI_BIN CASE      CASE: live | gateway | demo | browser | robust | telemetry

live:    `skadi serve` (twin and gateway in one process): every route, the error
         catalogue, the token rule, a run steered through the API that re-runs from its
         command log to an h5diff-identical recording, SIGTERM, and `skadi replay` of the
         recording giving the live run's frames.
gateway: `skadi serve --engine-only` and `skadi gateway --connect` as two processes: the
         ZeroMQ protocol directly, the gateway surviving a restart of the twin, a 504 from
         a hung twin; then a slow WebSocket client that skips stale frames beside a fast
         one that gets them all.
demo:    the seed's two demo flows against `skadi serve`: add_ai_nodes_row_c started with
         POST /demo/scenario makes the IMS deviation rise, the MMS turn persistent and
         actions on row C follow; overcooled_row_e is followed by actions on row E.
robust:  a few hundred random requests (methods, paths, query strings, bodies of every JSON
         type and of bytes that are no JSON) and WebSocket messages: every answer is a
         JSON error or a success, never a 5xx, and the server stays up.
telemetry: POST /telemetry feeds a `skadi serve` run: the samples reach /commands of the
         recording (read with h5py) and the run's IMS/MMS (telemetry frames, the overview),
         a rejected batch leaves nothing, the re-run from the log is h5diff-identical.
browser: Debian's chromium, headless, loads the dashboard (GET /) from `skadi serve` over the
         DevTools protocol: the heatmap and KPI tiles update, and the mode button changes
         GET /mode.

Assertions are on shapes and consistency (frames against the REST reads, replay against
live, re-run against the recording), never on physics figures.
"""
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import websockets
import zmq

BIN = os.path.abspath(sys.argv[1])
CASE = sys.argv[2]
SRC = os.environ.get("SKADI_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TMP = tempfile.mkdtemp(prefix="skadi-api-")
TOKEN = "s3cret-token"
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


PROCS = []  # every process started, killed at the end whatever happened


class Proc:
    """A skadi process; its stderr goes to a file, read for the announced port."""

    def __init__(self, args, env=None, name="proc"):
        self.log = os.path.join(TMP, name + ".log")
        self.f = open(self.log, "w")
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen([BIN] + args, stdout=self.f, stderr=subprocess.STDOUT,
                                  env=e, cwd=TMP)
        PROCS.append(self.p)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def wait_for(self, pattern, timeout=10):
        t = time.time()
        while time.time() - t < timeout:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("no '%s' from %s: %s" % (pattern, self.p.args, self.text()))

    def term(self, limit=1.0):
        """SIGTERM; returns (exit code, seconds to exit)."""
        t = time.time()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        dt = time.time() - t
        self.f.close()
        return rc, dt


def curl(base, method, path, body=None, token=None, headers=(), raw_body_file=None,
         content_type="application/json"):
    """One request with curl: (status, parsed JSON or text, response headers)."""
    out = os.path.join(TMP, "body.out")
    hdr = os.path.join(TMP, "headers.out")
    cmd = ["curl", "-s", "-o", out, "-D", hdr, "-w", "%{http_code}", "-X", method,
           "--max-time", "10", base + path]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    for h in headers:
        cmd += ["-H", h]
    if raw_body_file:
        cmd += ["-H", "Content-Type: " + content_type, "--data-binary", "@" + raw_body_file]
    elif body is not None:
        data = body if isinstance(body, str) else json.dumps(body)
        cmd += ["-H", "Content-Type: " + content_type, "--data-binary", data]
    r = subprocess.run(cmd, capture_output=True, text=True)
    status = int(r.stdout or 0)
    with open(out, "rb") as f:
        raw = f.read().decode("utf-8", "replace")
    with open(hdr) as f:
        headers_text = f.read().lower()
    try:
        return status, json.loads(raw), headers_text
    except ValueError:
        return status, raw, headers_text


def expect_error(res, status, code, field, what):
    st, js, _ = res
    ok = (st == status and isinstance(js, dict) and isinstance(js.get("error"), dict)
          and js["error"].get("code") == code and isinstance(js["error"].get("message"), str)
          and js["error"].get("message") and "field" in js["error"]
          and (field is None or js["error"].get("field") == field))
    check(ok, "%s: expected %d %s field=%s, got %d %s" % (what, status, code, field, st, js))


def wait_health(base, timeout=10):
    t = time.time()
    while time.time() - t < timeout:
        st, js, _ = curl(base, "GET", "/health")
        if st == 200 and js.get("twin_up"):
            return js
        time.sleep(0.05)
    raise RuntimeError("the twin never came up behind " + base)


async def collect(url, until, timeout=30):
    """Frames from a WebSocket until until(frame) or the timeout."""
    frames = []
    async with websockets.connect(url, max_size=None) as ws:
        t = time.time()
        while time.time() - t < timeout:
            try:
                m = json.loads(await asyncio.wait_for(ws.recv(), timeout=1))
            except asyncio.TimeoutError:
                continue
            frames.append(m)
            if until(m):
                break
    return frames


SCENARIO = {
    "name": "api_test", "seed": 3, "duration_s": 600, "start_hour": 10,
    "timeline": [
        {"name": "add_ai_nodes_row_c", "effect": "add_ai_nodes", "start_s": 550,
         "stop_s": 590, "racks": ["R-C-06", "R-C-07"], "nodes_per_rack": 1,
         "rate_prompts_s_per_node": 3.0},
        {"name": "overcooled_row_e", "effect": "crah_override", "start_s": 580, "row": "E",
         "fan_speed_pct": 95, "supply_setpoint_c": 16.0}]}
SETS = ["--set", "control.ims_warmup_s=300", "--set", "control.horizon_s=30"]
ALL_TOPICS = "kpis,racks,actions,events,commands"

ROUTES = [("get", "/"), ("get", "/health"), ("get", "/metrics"), ("get", "/openapi.json"),
          ("get", "/ws/events"), ("get", "/state/overview"), ("get", "/heatmap"),
          ("get", "/timeline"), ("get", "/mode"), ("post", "/mode"), ("get", "/kill_switch"),
          ("post", "/kill_switch"), ("post", "/actions/apply"), ("get", "/actions/log"),
          ("post", "/optimizer/tick"), ("post", "/demo/scenario"), ("get", "/demo/scenarios"),
          ("post", "/telemetry"), ("post", "/report/judges"), ("post", "/settings"),
          ("post", "/pace"), ("get", "/status"), ("post", "/ims/train"), ("get", "/ims/models")]


def frames_of(frames, topic):
    return [f for f in frames if f.get("topic") == topic]


def case_live():
    scen = os.path.join(TMP, "api_test.json")
    with open(scen, "w") as f:
        json.dump(SCENARIO, f)
    live_h5 = os.path.join(TMP, "live.h5")
    srv = Proc(["serve", scen, "--paused", "--port", "0", "--speed", "max", "--out", live_h5,
                "--mode", "advisory", "--cors", "http://localhost:3000"] + SETS,
               env={"SKADI_API_TOKEN": TOKEN}, name="serve")
    port = int(srv.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1))
    base = "http://127.0.0.1:%d" % port
    wait_health(base)

    # --- the OpenAPI document names every route, and every path it names is served
    st, api, _ = curl(base, "GET", "/openapi.json")
    check(st == 200 and api.get("openapi", "").startswith("3."), "GET /openapi.json is OpenAPI 3")
    for m, p in ROUTES:
        check(m in api.get("paths", {}).get(p, {}), "openapi.json lacks %s %s" % (m.upper(), p))
    for p, ops in api.get("paths", {}).items():
        for m in ops:
            if m in ("get", "post"):
                check((m, p) in ROUTES, "openapi.json names %s %s, which is no route" % (m, p))

    # --- the error catalogue and the token rule, while paused (nothing can have moved)
    expect_error(curl(base, "POST", "/mode", {"mode": "closed_loop"}), 401, "unauthorized",
                 "Authorization", "POST /mode without a token")
    expect_error(curl(base, "POST", "/mode", {"mode": "closed_loop"}, token="wrong"), 401,
                 "unauthorized", "Authorization", "POST /mode with a wrong token")
    st, js, _ = curl(base, "GET", "/mode")
    check(st == 200 and js.get("mode") == "advisory", "GET /mode needs no token: %s %s" % (st, js))
    expect_error(curl(base, "GET", "/no/such/route"), 404, "not_found", None, "unknown route")
    res = curl(base, "GET", "/actions/apply")
    expect_error(res, 405, "method_not_allowed", None, "GET on a POST route")
    check("allow: post" in res[2], "405 carries Allow: POST")
    expect_error(curl(base, "DELETE", "/mode", token=TOKEN), 405, "method_not_allowed", None,
                 "DELETE /mode")
    expect_error(curl(base, "POST", "/mode", token=TOKEN), 411, "length_required",
                 "Content-Length", "POST without a body or Content-Length")
    big = os.path.join(TMP, "big.json")
    with open(big, "w") as f:
        f.write('{"samples": [' + ",".join(['{"rack_id": "R-A-01", "ts": 0}'] * 40000) + "]}")
    expect_error(curl(base, "POST", "/telemetry", token=TOKEN, raw_body_file=big), 413,
                 "payload_too_large", None, "a body over 1 MiB")
    expect_error(curl(base, "POST", "/mode", {"mode": "closed_loop"}, token=TOKEN,
                      content_type="text/plain"), 415, "unsupported_media_type", "Content-Type",
                 "a body that is not application/json")
    st, _, hdr = curl(base, "OPTIONS", "/mode", headers=("Origin: http://localhost:3000",
                                                         "Access-Control-Request-Method: POST"))
    check(st == 204 and "access-control-allow-origin: http://localhost:3000" in hdr
          and "access-control-allow-headers: content-type, authorization" in hdr,
          "--cors answers a preflight: %s %s" % (st, hdr))
    st, _, hdr = curl(base, "GET", "/mode")
    check("access-control-allow-origin: http://localhost:3000" in hdr, "--cors on a response")
    expect_error(curl(base, "POST", "/mode", "{bad json", token=TOKEN), 400, "invalid_json", None,
                 "malformed JSON")
    expect_error(curl(base, "POST", "/mode", "[1, 2]", token=TOKEN), 400, "invalid_json", None,
                 "a body that is not an object")
    expect_error(curl(base, "POST", "/mode", {"mode": 5}, token=TOKEN), 400, "invalid_field",
                 "mode", "mode of the wrong type")
    expect_error(curl(base, "POST", "/mode", {"mode": "turbo"}, token=TOKEN), 400,
                 "invalid_field", "mode", "an unknown mode")
    expect_error(curl(base, "POST", "/mode", {"mode": "advisory", "colour": "red"}, token=TOKEN),
                 400, "unknown_field", "colour", "an unknown field")
    expect_error(curl(base, "POST", "/demo/scenario", {}, token=TOKEN), 400, "missing_field",
                 "scenario", "a demo without its scenario")
    expect_error(curl(base, "POST", "/demo/scenario", {"scenario": "nope"}, token=TOKEN), 404,
                 "not_found", "scenario", "an unknown demo scenario")
    expect_error(curl(base, "POST", "/demo/scenario", {"scenario": "overcooled_row_e",
                                                       "action": "pause"}, token=TOKEN),
                 400, "invalid_field", "action", "a demo action that is not start/stop")
    expect_error(curl(base, "POST", "/actions/apply", {"action": "crah_fan_speed",
                                                       "params": {"delta": -5},
                                                       "target": "system"}, token=TOKEN),
                 400, "invalid_field", "target", "a row lever aimed at the room")
    expect_error(curl(base, "POST", "/actions/apply", {"action": "warp_drive",
                                                       "params": {"delta": 1}}, token=TOKEN),
                 400, "invalid_field", "action", "an unknown action")
    expect_error(curl(base, "POST", "/actions/apply", {"action": "batch_window",
                                                       "params": {"delta_ms": "x"}}, token=TOKEN),
                 400, "invalid_field", "params.delta_ms", "a delta that is not a number")
    expect_error(curl(base, "POST", "/settings", {"key": "INLET_MAX_C", "value": "80"},
                      token=TOKEN), 400, "invalid_field", "key", "a live setting out of range")
    expect_error(curl(base, "POST", "/settings", {"key": "room.rows", "value": "3"},
                      token=TOKEN), 400, "invalid_field", "key", "a setting that is not live")
    expect_error(curl(base, "POST", "/pace", {"speed": "warp"}, token=TOKEN), 400,
                 "invalid_field", "speed", "a bad speed")
    expect_error(curl(base, "POST", "/report/judges", {"x": 1}, token=TOKEN), 400,
                 "unknown_field", "x", "a body where none is taken")
    expect_error(curl(base, "GET", "/heatmap?type=bogus"), 400, "invalid_field", "type",
                 "an unknown heatmap type")
    expect_error(curl(base, "GET", "/heatmap?colour=1"), 400, "unknown_field", "colour",
                 "an unknown query parameter")
    expect_error(curl(base, "GET", "/timeline?from=yesterday"), 400, "invalid_field", "from",
                 "a time that is no time")
    expect_error(curl(base, "GET", "/timeline?to=1e300"), 400, "invalid_field", "to",
                 "a time beyond any run")
    expect_error(curl(base, "GET", "/heatmap?ts=1969-12-31T23:59:59Z"), 400, "invalid_field",
                 "ts", "a time before 1970")
    expect_error(curl(base, "GET", "/timeline?max_points=0"), 400, "invalid_field", "max_points",
                 "max_points out of range")
    expect_error(curl(base, "GET", "/actions/log?limit=2.5"), 400, "invalid_field", "limit",
                 "a limit that is no whole number")
    good = {"ts": "2026-01-01T10:00:00Z", "rack_id": "R-C-07", "inlet_c": 24.8,
            "outlet_c": 36.2, "pdu_kw": 8.6, "gpu_energy_j": 45250, "tokens_ps": 9800,
            "latency_p95_ms": 180, "fan_rpm_pct": 62, "pump_rpm_pct": 55, "queue_depth": 42}
    for bad_sample, field in [(dict(good, inlet_c="hot"), "samples[1].inlet_c"),
                              (dict(good, rack_id="R-Z-99"), "samples[1].rack_id"),
                              (dict(good, fan_rpm_pct=140), "samples[1].fan_rpm_pct"),
                              (dict(good, ts="yesterday"), "samples[1].ts"),
                              (dict(good, humidity=3), "samples[1].humidity"),
                              ({k: v for k, v in good.items() if k != "rack_id"},
                               "samples[1].rack_id")]:
        st, js, _ = curl(base, "POST", "/telemetry", {"samples": [good, bad_sample]}, token=TOKEN)
        check(st == 400 and js["error"]["field"] == field,
              "telemetry naming %s: %s %s" % (field, st, js))
    expect_error(curl(base, "GET", "/ws/events"), 400, "bad_request", None,
                 "a plain GET of the WebSocket route")

    # --- steer the run (applied at the next control boundary once it plays)
    accepted = []
    for path, body in [("/mode", {"mode": "closed_loop"}),
                       ("/demo/scenario", {"scenario": "add_ai_nodes_row_c", "action": "start",
                                           "duration_s": 300}),
                       ("/actions/apply", {"action": "increase_batch_window",
                                           "params": {"delta_ms": 10}, "target": "system",
                                           "reason": "test", "execute": True}),
                       ("/actions/apply", {"action": "crah_fan_speed", "params": {"delta": -5},
                                           "target": "row E", "execute": False}),
                       ("/settings", {"key": "INLET_MAX_C", "value": "27.5"}),
                       ("/kill_switch", {"enabled": False})]:
        st, js, _ = curl(base, "POST", path, body, token=TOKEN)
        check(st == 200 and js.get("accepted") is True, "POST %s accepted: %s %s" % (path, st, js))
        accepted.append(js.get("command", {}).get("kind"))
    check(accepted == ["mode", "effect_start", "apply", "recommend", "set", "kill_switch"],
          "the commands posted: %s" % accepted)
    st, js, _ = curl(base, "GET", "/mode")
    check(js.get("requested") == "closed_loop", "GET /mode shows the requested mode: %s" % js)

    # --- play it at full speed and watch every frame over the WebSocket
    async def watch_and_play():
        url = "ws://127.0.0.1:%d/ws/events?topics=%s" % (port, ALL_TOPICS)
        task = asyncio.ensure_future(collect(url, lambda m: m.get("topic") == "racks"
                                             and m.get("sim_time_s") == 600))
        await asyncio.sleep(0.3)
        st, js, _ = curl(base, "POST", "/pace", {"paused": False, "speed": "max"}, token=TOKEN)
        check(st == 200 and js.get("paused") is False, "POST /pace resumes: %s %s" % (st, js))
        return await task
    live = asyncio.run(watch_and_play())
    kpis = frames_of(live, "kpis")
    check(len(kpis) == 60, "one kpis frame per sample, none skipped: %d" % len(kpis))
    check([f["sim_time_s"] for f in kpis] == [10.0 * (i + 1) for i in range(len(kpis))],
          "kpis frames in order every 10 s")
    for f in kpis[:1] + kpis[-1:]:
        check(isinstance(f.get("ts"), str) and re.match(r"2026-01-01T\d\d:\d\d:\d\dZ", f["ts"]),
              "frame ts is ISO: %s" % f.get("ts"))
        for k in ("j_per_prompt_wh", "latency_p95_ms", "inlet_compliance_pct"):
            check(k in f.get("kpis", {}), "kpis frame has kpis.%s" % k)
        check("deviation" in f.get("ims", {}) and "mms_state" in f.get("ims", {}),
              "kpis frame has ims.deviation and ims.mms_state")
        check("last_action" in f, "kpis frame has last_action")
    la = kpis[-1]["last_action"]
    check(isinstance(la, dict) and {"action", "delta", "pred_saving_pct"} <= set(la),
          "last_action has the seed's fields: %s" % la)
    check(kpis[-1]["ims"]["mms_state"] in ("transient", "persistent"), "the MMS runs")
    cmds = [f["command"] for f in frames_of(live, "commands")]
    kinds = [c["kind"] for c in cmds]
    for k in ("mode", "effect_start", "apply", "recommend", "set", "kill_switch", "speed", "pause"):
        check(k in kinds, "the commands frames hold a %s" % k)
    check(all(c["source"] == "api" for c in cmds), "commands are stamped source=api")
    events = [f["event"] for f in frames_of(live, "events")]
    check(any(e["name"] == "add_ai_nodes_row_c" and e["phase"] == "start" for e in events),
          "the demo's start is an event frame")
    check(len(frames_of(live, "actions")) > 0, "actions frames")
    check(len(frames_of(live, "racks")) == 60, "one racks frame per sample: %d" % len(frames_of(live, "racks")))

    # --- the reads agree with the frames
    t0 = time.time()
    while time.time() - t0 < 10:
        st, status, _ = curl(base, "GET", "/status")
        if status.get("done"):
            break
        time.sleep(0.05)
    check(status.get("done") is True, "the run ends: %s" % status)
    st, ov, _ = curl(base, "GET", "/state/overview")
    for k in ("j_per_prompt_wh", "latency_p95_ms", "ims_deviation", "mms_state",
              "inlet_compliance_pct", "energy_saved_pct"):
        check(k in ov, "overview has the seed's %s" % k)
    check(ov.get("mode") == "closed_loop" and ov.get("energy_saved_pct") is not None,
          "overview: closed loop, with a saving against the counterfactual: %s" % ov)
    check(ov.get("sim_time_s") == 600, "overview at the end")
    st, mode, _ = curl(base, "GET", "/mode")
    check(mode.get("mode") == "closed_loop" and mode.get("kill_switch") is False,
          "GET /mode after the run: %s" % mode)
    last_racks = frames_of(live, "racks")[-1]
    for typ, key in (("inlet", "inlet_c"), ("outlet", "outlet_c"), ("power", "pdu_kw")):
        st, hm, _ = curl(base, "GET", "/heatmap?type=%s&ts=now" % typ)
        check(st == 200 and len(hm["grid"]) == 6 and all(len(r) == 12 for r in hm["grid"]),
              "heatmap %s is 6 x 12" % typ)
        vals = {r["rack_id"]: r["value"] for r in hm["racks"]}
        check(all(vals[r["rack_id"]] == r[key] for r in last_racks["racks"]),
              "heatmap %s equals the last racks frame" % typ)
    st, hm, _ = curl(base, "GET", "/heatmap?type=deviation")
    devs = {m["rack_id"]: m["deviation"] for m in last_racks["monitor"]}
    check(st == 200 and all(r["value"] == devs.get(r["rack_id"]) for r in hm["racks"]),
          "heatmap deviation equals the last racks frame's monitor rows")
    st, hm, _ = curl(base, "GET", "/heatmap?type=inlet&ts=2026-01-01T10:05:00Z")
    check(st == 200 and hm.get("sim_time_s") == 300, "heatmap at an ISO time: %s" % st)
    for q in ("30", "2026-01-01T10:00:30Z", "2026-01-01T11:00:30%2B01:00"):
        st, hm, _ = curl(base, "GET", "/heatmap?ts=" + q)
        check(st == 200 and hm.get("sim_time_s") == 30 and hm.get("ts") == "2026-01-01T10:00:30Z",
              "heatmap?ts=%s names the sample at 30 s: %s %s" % (q, st, hm.get("ts")))
    expect_error(curl(base, "GET", "/heatmap?ts=" + "9" * 700), 400, "bad_request", None,
                 "a query parameter too long")
    st, tl, _ = curl(base, "GET", "/timeline?from=0&to=600&max_points=10000")
    check(st == 200 and len(tl["series"]) == 60, "timeline: every sample")
    check([p["j_per_prompt_wh"] for p in tl["series"]] ==
          [f["kpis"]["j_per_prompt_wh"] for f in kpis], "timeline equals the kpis frames")
    ann = {a["kind"] for a in tl["annotations"]}
    check({"action", "event", "command"} <= ann, "timeline annotations: %s" % ann)
    st, tl2, _ = curl(base, "GET", "/timeline?from=2026-01-01T10:02:00Z&to=2026-01-01T10:05:00Z")
    check(st == 200 and tl2["series"][0]["sim_time_s"] == 120
          and tl2["series"][-1]["sim_time_s"] == 300, "timeline with ISO bounds")
    st, log, _ = curl(base, "GET", "/actions/log?limit=5")
    check(st == 200 and log["total"] > 0 and 0 < len(log["actions"]) <= 5,
          "actions log: %s" % st)
    check(all({"action", "decision", "target", "pred_saving_pct"} <= set(a)
              for a in log["actions"]), "action rows carry the audit fields")
    st, log2, _ = curl(base, "GET", "/actions/log?decision=applied&limit=10000")
    check(st == 200 and all(a["decision"] == "applied" for a in log2["actions"]),
          "actions log filtered by decision")
    expect_error(curl(base, "POST", "/optimizer/tick", "", token=TOKEN), 409, "conflict",
                 None, "an optimizer tick after the end")
    st, demos, _ = curl(base, "GET", "/demo/scenarios")
    names = {d["name"] for d in demos.get("scenarios", [])}
    check(st == 200 and names == {"add_ai_nodes_row_c", "overcooled_row_e"},
          "demo scenarios: %s" % demos)
    expect_error(curl(base, "POST", "/telemetry", {"samples": [good]}, token=TOKEN), 409,
                 "conflict", None, "telemetry after the end (the recording is closed)")
    st, rep, _ = curl(base, "POST", "/report/judges", "{}", token=TOKEN)
    check(st == 200 and rep.get("report") == "skadi judges report", "the judges' report")
    st, met, _ = curl(base, "GET", "/metrics")
    check(st == 200 and "skadi_http_requests_total{" in met and "skadi_ws_clients" in met
          and "skadi_sim_time_seconds" in met, "Prometheus metrics")
    st, page, hdr = curl(base, "GET", "/")
    check(st == 200 and "<html" in page.lower() and "text/html" in hdr, "GET / serves the page")
    expect_error(curl(base, "POST", "/mode", {"mode": "advisory"}, token=TOKEN), 409,
                 "conflict", None, "a command after the end")

    # --- an IMS model trained on the run's own telemetry, in the background
    expect_error(curl(base, "POST", "/ims/train", {"n_clusters": 0}, token=TOKEN), 400,
                 "invalid_field", "n_clusters", "n_clusters out of range")
    expect_error(curl(base, "POST", "/ims/train", {"n_clusters": 4}), 401, "unauthorized",
                 "Authorization", "POST /ims/train without a token")
    st, job, _ = curl(base, "POST", "/ims/train", {"start_ts": 0, "end_ts": "2026-01-01T10:05:00Z",
                                                   "n_clusters": 4}, token=TOKEN)
    check(st == 200 and job.get("status") == "training" and job.get("model_id"),
          "POST /ims/train starts a job: %s %s" % (st, job))
    model = {}
    t0 = time.time()
    while time.time() - t0 < 10:
        st, ms, _ = curl(base, "GET", "/ims/models")
        model = next((m for m in ms.get("models", []) if m["model_id"] == job.get("model_id")), {})
        if model.get("status") != "training":
            break
        time.sleep(0.1)
    check(model.get("status") == "ready" and model.get("n_clusters") == 4
          and len(model.get("features", [])) > 0 and model.get("n_train", 0) > 0
          and os.path.exists(model.get("path", "")), "GET /ims/models lists the model: %s" % model)

    # --- SIGTERM: exit 0 within a second, the recording complete
    rc, dt = srv.term()
    check(rc == 0 and dt < 1.0, "SIGTERM: exit %d after %.2f s" % (rc, dt))
    check(os.path.exists(live_h5), "the recording is in place")

    # --- the steered run re-runs from its command log to the same recording
    rerun = os.path.join(TMP, "rerun.h5")
    r = subprocess.run([BIN, "run", scen, "--mode", "advisory", "--commands", live_h5, "--out",
                        rerun, "--no-progress"] + SETS, capture_output=True, text=True, cwd=TMP)
    check(r.returncode == 0, "skadi run --commands: %s" % r.stderr)
    r = subprocess.run(["h5diff", "--exclude-path", "/run_info", live_h5, rerun],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the re-run is h5diff-identical: %s" % (r.stdout[-2000:]))

    # --- the replay of the recording publishes the live run's frames
    rp = Proc(["replay", live_h5, "--paused", "--port", "0", "--speed", "max"],
              env={"SKADI_API_TOKEN": TOKEN}, name="replay")
    rport = int(rp.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1))
    rbase = "http://127.0.0.1:%d" % rport
    wait_health(rbase)

    async def watch_replay():
        url = "ws://127.0.0.1:%d/ws/events?topics=%s" % (rport, ALL_TOPICS)
        task = asyncio.ensure_future(collect(url, lambda m: m.get("topic") == "racks"
                                             and m.get("sim_time_s") == 600))
        await asyncio.sleep(0.3)
        curl(rbase, "POST", "/pace", {"paused": False}, token=TOKEN)
        return await task
    replayed = asyncio.run(watch_replay())
    for topic in ("kpis", "racks", "actions", "events"):
        a, b = frames_of(live, topic), frames_of(replayed, topic)
        check(a == b, "replay: the %s frames equal the live run's (%d vs %d)"
              % (topic, len(a), len(b)))
    # commands: the live run's recorded ones (the replay has every row of /commands)
    check(frames_of(replayed, "commands") == frames_of(live, "commands"),
          "replay: the commands frames equal the live run's")
    st, js, _ = curl(rbase, "POST", "/pace", {"seek": "2026-01-01T10:05:00Z", "paused": True},
                     token=TOKEN)
    check(st == 200 and js.get("sim_time_s") == 300 and js.get("paused") is True,
          "replay seek: %s %s" % (st, js))
    st, hm, _ = curl(rbase, "GET", "/heatmap?type=inlet")
    check(st == 200 and hm.get("sim_time_s") == 300, "replay heatmap as of the playhead")
    st, tl, _ = curl(rbase, "GET", "/timeline?max_points=10000")
    check(st == 200 and len(tl["series"]) == 30, "replay timeline up to the playhead")
    expect_error(curl(rbase, "POST", "/mode", {"mode": "off"}, token=TOKEN), 409, "conflict",
                 None, "a replay is read-only")
    rc, dt = rp.term()
    check(rc == 0 and dt < 1.0, "replay SIGTERM: exit %d after %.2f s" % (rc, dt))


def zreq(sock, payload):
    sock.send(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    if sock.poll(5000) == 0:
        raise RuntimeError("no reply to %s" % payload)
    return json.loads(sock.recv())


def case_gateway():
    p = free_port()
    ep = "tcp://127.0.0.1:%d" % p
    twin_args = ["serve", os.path.join(SRC, "scenarios", "baseline.json"), "--engine-only",
                 "--bind", ep, "--pub", "tcp://127.0.0.1:%d" % free_port(), "--speed", "300x",
                 "--duration", "2h", "--no-record"]
    pub = twin_args[twin_args.index("--pub") + 1]
    twin = Proc(twin_args, name="twin")
    twin.wait_for(r"twin on tcp://")

    # --- the protocol itself, with a REQ and a SUB socket
    ctx = zmq.Context()
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(ep)
    r = zreq(req, {"v": 1, "id": "a1", "op": "hello"})
    check(r.get("ok") is True and r.get("id") == "a1" and r["result"].get("kind") == "live"
          and r["result"].get("protocol") == 1, "hello: %s" % r)
    r = zreq(req, {"v": 2, "id": 7, "op": "hello"})
    check(r.get("ok") is False and r.get("id") == 7
          and r["error"]["code"] == "unsupported_version", "a newer version: %s" % r)
    r = zreq(req, b"not json")
    check(r.get("ok") is False and r.get("id") is None and r["error"]["code"] == "invalid_json",
          "not JSON: %s" % r)
    r = zreq(req, {"v": 1, "id": 8, "op": "warp"})
    check(r["error"]["code"] == "unknown_op" and r["error"]["field"] == "op", "unknown op: %s" % r)
    r = zreq(req, {"v": 1, "id": 9, "op": "mode_set", "args": {"mode": 1}})
    check(r["error"]["code"] == "invalid_field" and r["error"]["field"] == "mode",
          "a typed error: %s" % r)
    r = zreq(req, {"v": 1, "id": 10, "op": "overview"})
    check(r.get("ok") is True and "j_per_prompt_wh" in r["result"], "overview over ZeroMQ")
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"kpis")
    sub.connect(pub)
    if sub.poll(5000):
        topic, body = sub.recv_multipart()
        f = json.loads(body)
        check(topic == b"kpis" and f.get("v") == 1 and f.get("topic") == "kpis",
              "a kpis frame on the PUB socket")
    else:
        check(False, "no frame on the PUB socket")
    req.close()
    sub.close()
    ctx.term()

    # --- a gateway of its own, surviving the twin's restart
    gw = Proc(["gateway", "--connect", ep, "--sub", pub, "--port", "0", "--timeout", "1"],
              name="gateway")
    gport = int(gw.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1))
    base = "http://127.0.0.1:%d" % gport
    wait_health(base)
    st, ov, _ = curl(base, "GET", "/state/overview")
    check(st == 200 and "j_per_prompt_wh" in ov, "overview through the gateway")

    async def across_restart():
        url = "ws://127.0.0.1:%d/ws/events" % gport
        async with websockets.connect(url, max_size=None) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            rc, dt = twin.term()
            check(rc == 0 and dt < 1.0, "twin SIGTERM: exit %d after %.2f s" % (rc, dt))
            st, js, _ = curl(base, "GET", "/state/overview")
            check(st in (503, 504) and js["error"]["code"] in ("twin_unavailable", "twin_timeout"),
                  "no twin: 503/504: %s %s" % (st, js))
            twin2 = Proc(twin_args, name="twin2")
            twin2.wait_for(r"twin on tcp://")
            # drain what was queued before the restart; a frame of the new run comes next
            t = time.time()
            resumed = None
            while time.time() - t < 10:
                m = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                if m["sim_time_s"] < first["sim_time_s"] or time.time() - t > 2:
                    resumed = m
                    break
            check(resumed is not None, "frames resume on the same WebSocket after the restart")
            return twin2
    twin2 = asyncio.run(across_restart())
    t = time.time()
    st = 0
    while time.time() - t < 5:
        st, ov, _ = curl(base, "GET", "/state/overview")
        if st == 200:
            break
        time.sleep(0.1)
    check(st == 200, "requests work again after the restart")
    # a twin that hangs (stopped, its connection open): the request times out with 504
    twin2.p.send_signal(signal.SIGSTOP)
    time.sleep(0.1)  # past the gateway's 20 ms copy of the overview (docs/API.md)
    t = time.time()
    res = curl(base, "GET", "/state/overview")
    dt = time.time() - t
    twin2.p.send_signal(signal.SIGCONT)
    expect_error(res, 504, "twin_timeout", None, "a hung twin")
    check(0.9 < dt < 3, "the 504 comes after --timeout 1 s: %.2f s" % dt)
    rc, dt = gw.term()
    check(rc == 0 and dt < 1.0, "gateway SIGTERM: exit %d after %.2f s" % (rc, dt))
    twin2.term()

    # --- a slow WebSocket client skips stale frames and holds nobody up
    srv = Proc(["serve", os.path.join(SRC, "scenarios", "baseline.json"), "--paused", "--port",
                "0", "--speed", "3600x", "--duration", "1h", "--mode", "off", "--no-record",
                "--ws-frames", "256"], name="slow")
    port = int(srv.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1))
    base = "http://127.0.0.1:%d" % port
    wait_health(base)

    async def slow_and_fast():
        url = "ws://127.0.0.1:%d/ws/events" % port
        async with websockets.connect(url + "?topics=kpis,racks", max_size=None,
                                      max_queue=1) as slow:
            fast = asyncio.ensure_future(collect(url, lambda m: m["sim_time_s"] == 3600))
            await asyncio.sleep(0.3)
            curl(base, "POST", "/pace", {"paused": False})
            got = await fast
            seen = []  # the slow one reads only now, everything it is given
            while True:
                try:
                    m = json.loads(await asyncio.wait_for(slow.recv(), timeout=2))
                except asyncio.TimeoutError:
                    break
                seen.append(m)
                if m["topic"] == "racks" and m["sim_time_s"] == 3600:
                    break
            return got, seen
    got, seen = asyncio.run(slow_and_fast())
    check([f["sim_time_s"] for f in got] == [10.0 * (i + 1) for i in range(360)],
          "a fast client gets every kpis frame while a slow one lags (%d)" % len(got))
    times = [f["sim_time_s"] for f in frames_of(seen, "kpis")]
    check(0 < len(times) < 360 and times == sorted(times) and seen[-1]["sim_time_s"] == 3600,
          "the slow client skips stale frames, in order, up to the newest (%d kpis frames)"
          % len(times))
    st, met, _ = curl(base, "GET", "/metrics")
    m = re.search(r"skadi_frames_skipped_total (\d+)", met)
    check(m and int(m.group(1)) > 0, "skipped frames are counted")
    srv.term()


def play_until(base, t_s):
    """Plays at full speed until the run passes t_s, pauses, returns the sim time."""
    curl(base, "POST", "/pace", {"paused": False}, token=TOKEN)
    t = time.time()
    while time.time() - t < 60:
        st, js, _ = curl(base, "GET", "/status")
        if js.get("sim_time_s", 0) >= t_s or js.get("done"):
            break
        time.sleep(0.02)
    curl(base, "POST", "/pace", {"paused": True}, token=TOKEN)
    time.sleep(0.1)
    return curl(base, "GET", "/status")[1]["sim_time_s"]


def case_demo():
    scen = dict(SCENARIO, name="api_demo", duration_s=1300)
    scen["timeline"] = [dict(e, start_s=1290) for e in SCENARIO["timeline"]]
    for e in scen["timeline"]:
        e.pop("stop_s", None)
    path = os.path.join(TMP, "api_demo.json")
    with open(path, "w") as f:
        json.dump(scen, f)
    srv = Proc(["serve", path, "--paused", "--port", "0", "--speed", "max", "--no-record",
                "--mode", "closed_loop"] + SETS, env={"SKADI_API_TOKEN": TOKEN}, name="demo")
    base = "http://127.0.0.1:%s" % srv.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1)
    wait_health(base)
    t1 = play_until(base, 420)
    st, js, _ = curl(base, "POST", "/demo/scenario", {"scenario": "add_ai_nodes_row_c",
                                                      "action": "start", "duration_s": 400},
                     token=TOKEN)
    check(st == 200, "start add_ai_nodes_row_c: %s %s" % (st, js))
    t2 = play_until(base, t1 + 420)
    st, demos, _ = curl(base, "GET", "/demo/scenarios")
    check(st == 200 and demos.get("active") == [], "the spike stopped after its 400 s: %s" % demos)
    st, js, _ = curl(base, "POST", "/demo/scenario", {"scenario": "overcooled_row_e",
                                                      "action": "start", "duration_s": 400},
                     token=TOKEN)
    check(st == 200, "start overcooled_row_e: %s %s" % (st, js))
    curl(base, "POST", "/pace", {"paused": False}, token=TOKEN)
    t = time.time()
    while time.time() - t < 60 and not curl(base, "GET", "/status")[1].get("done"):
        time.sleep(0.05)
    st, tl, _ = curl(base, "GET", "/timeline?max_points=10000")
    series = tl["series"]
    dev = lambda a, b: max([p["ims_deviation"] for p in series
                            if a < p["sim_time_s"] <= b and p["ims_deviation"] is not None] or [0])
    before, spike = dev(300, t1), dev(t1 + 10, t1 + 410)
    check(before > 0 and spike > 2 * before,
          "add_ai_nodes_row_c: the IMS deviation rises (%.2f before, %.2f during)" % (before, spike))
    check(any(p["mms_state"] == "persistent" for p in series if t1 < p["sim_time_s"] <= t1 + 420),
          "add_ai_nodes_row_c: the MMS turns persistent")
    starts = [a for a in tl["annotations"] if a["kind"] == "event" and a["phase"] == "start"]
    check({a["name"] for a in starts} == {"add_ai_nodes_row_c", "overcooled_row_e"},
          "both demos start as events: %s" % [a["name"] for a in starts])
    st, log, _ = curl(base, "GET", "/actions/log?decision=applied&limit=10000")
    acts = log.get("actions", [])
    row_c = [a for a in acts if t1 < a["ts"] <= t2 and (a["target"] == "row C"
                                                        or a["target"].startswith("R-C-"))]
    row_e = [a for a in acts if a["ts"] > t2 and a["target"] == "row E"]
    check(row_c, "add_ai_nodes_row_c: actions on row C follow")
    check(row_e, "overcooled_row_e: actions on row E follow")
    rc, dt = srv.term()
    check(rc == 0, "SIGTERM: exit %d" % rc)


def samples_of_commands(rows):
    """The telemetry samples a /commands table holds (docs/HDF5.md): a row of kind
    telemetry starts a sample (key RACK@TS, value name=number ...), a row whose key is
    the same with '+' in front continues it."""
    out = []
    for r in rows:
        kind, key, value = (r[k].decode() if isinstance(r[k], bytes) else r[k]
                            for k in ("kind", "key", "value"))
        if kind != "telemetry":
            continue
        fields = dict(tok.split("=", 1) for tok in value.split())
        if key.startswith("+"):
            check(out and out[-1]["_key"] == key[1:], "a continuation row follows its sample")
            out[-1].update(fields)
        else:
            rack, ts = key.split("@")
            out.append(dict(fields, _key=key, rack_id=rack, ts=ts))
    return [{k: (v if k in ("rack_id", "_key") else float(v)) for k, v in smp.items()
             if k != "_key"} for smp in out]


def case_telemetry():
    """POST /telemetry feeds the run: the accepted samples reach /commands (and a re-run
    from it is h5diff-identical), are scored by the run's IMS and the posted stream's MMS
    (telemetry frames, the overview), a rejected batch leaves nothing; a model trained
    through POST /ims/train scores them in the answer."""
    scen = os.path.join(TMP, "api_tel.json")
    with open(scen, "w") as f:
        json.dump(dict(SCENARIO, name="api_tel", timeline=[]), f)
    live_h5 = os.path.join(TMP, "tel.h5")
    srv = Proc(["serve", scen, "--paused", "--port", "0", "--speed", "max", "--out", live_h5,
                "--mode", "advisory"] + SETS, env={"SKADI_API_TOKEN": TOKEN}, name="tel")
    port = int(srv.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1))
    base = "http://127.0.0.1:%d" % port
    wait_health(base)
    # POST /ims/train on an uploaded CSV (a JSON member): checked at once, trained apart
    lines = ["ts,rack_id,inlet_c,outlet_c,pdu_kw"]
    lines += ["%d,R-C-07,%.2f,%.2f,%.2f" % (10 * i, 20 + (i * 7 % 10) / 10.0,
                                            32 + (i * 3 % 10) / 10.0, 8 + (i % 5) / 10.0)
              for i in range(100)]
    upload = {"csv": "\n".join(lines) + "\n", "n_clusters": 3,
              "features": ["inlet_c", "outlet_c", "pdu_kw"]}
    for body, field, what in [
            ({"csv": "a,b\n1,2\n2,3\n3,4\n"}, "csv", "a CSV without the rack features"),
            (dict(upload, features=["zz"]), "csv", "a feature the CSV lacks"),
            (dict(upload, csv=upload["csv"].replace("20.", "twenty.", 1)), "csv",
             "a value that is no number"),
            (dict(upload, csv=""), "csv", "an empty CSV"),
            (dict(upload, csv=7), "csv", "a csv that is no string"),
            (dict(upload, features="inlet_c"), "features", "features that are no array"),
            (dict(upload, n_clusters=0), "n_clusters", "n_clusters out of range"),
            (dict(upload, start_ts=0), "start_ts", "a window with a CSV")]:
        res = curl(base, "POST", "/ims/train", body, token=TOKEN)
        expect_error(res, 400, "unknown_field" if field == "start_ts" else "invalid_field",
                     field, "POST /ims/train csv: " + what)
    st, job, _ = curl(base, "POST", "/ims/train", upload, token=TOKEN)
    check(st == 200 and job.get("source") == "csv" and job.get("n_train") == 100
          and job.get("path", "").endswith("-ims-1.h5"), "POST /ims/train csv: %s %s" % (st, job))
    t0 = time.time()
    while time.time() - t0 < 10:
        ms = curl(base, "GET", "/ims/models")[1].get("models", [])
        if ms and ms[-1]["status"] != "training":
            break
        time.sleep(0.05)
    check(ms and ms[-1]["status"] == "ready" and ms[-1]["features"] == upload["features"]
          and os.path.exists(ms[-1]["path"]), "the CSV's model is ready and saved: %s" % ms)
    # full-precision numbers (a sample over several /commands rows), fields left out
    a = [{"ts": 1, "rack_id": "R-C-07", "inlet_c": 24.312345678901234,
          "outlet_c": 36.198765432109876, "pdu_kw": 8.123456789012345,
          "gpu_energy_j": 45250.123456789012, "tokens_ps": 9800.987654321,
          "latency_p95_ms": 180.5555555555, "fan_rpm_pct": 62.1234567891234,
          "pump_rpm_pct": 55.98765432, "queue_depth": 42},
         {"ts": "2026-01-01T10:00:02Z", "rack_id": "R-A-01", "inlet_c": 22.5}]
    rejected = [dict(a[1], ts=3.25), dict(a[1], ts=3.5, pdu_kw=-1)]
    expect_error(curl(base, "POST", "/telemetry", {"samples": rejected}, token=TOKEN), 400,
                 "invalid_field", "samples[1].pdu_kw", "a batch with a bad sample")
    st, js, _ = curl(base, "POST", "/telemetry", {"samples": a}, token=TOKEN)
    check(st == 200 and js.get("accepted") == 2 and js.get("recorded") is True
          and js.get("applies_at"), "POST /telemetry accepted: %s %s" % (st, js))

    # one WebSocket client for the whole run, on a thread of its own
    import threading
    frames, last_ts = [], {"t": None}

    def watcher():
        url = "ws://127.0.0.1:%d/ws/events?topics=telemetry" % port
        frames.extend(asyncio.run(collect(url, lambda m: m.get("topic") == "telemetry"
                                          and m["sample"]["ts"] == last_ts["t"], timeout=40)))
    th = threading.Thread(target=watcher)
    th.start()
    time.sleep(0.3)
    t1 = play_until(base, 400)
    # the IMS is trained (warm-up 300 s): a model through the API too, on the run so far
    st, job, _ = curl(base, "POST", "/ims/train", {"start_ts": 0, "end_ts": 300,
                                                   "n_clusters": 4}, token=TOKEN)
    check(st == 200 and job.get("model_id"), "POST /ims/train: %s %s" % (st, job))
    t0 = time.time()
    while time.time() - t0 < 10:
        ms = curl(base, "GET", "/ims/models")[1].get("models", [])
        if ms and ms[-1]["status"] != "training":
            break
        time.sleep(0.1)
    nominal = {"rack_id": "R-C-07", "inlet_c": 21.0, "outlet_c": 33.0, "pdu_kw": 8.0}
    b = [dict(nominal, ts=t1 + 1), dict(nominal, ts=t1 + 2, inlet_c=60.0, outlet_c=75.0)]
    b += [dict(nominal, ts=t1 + 3 + i, inlet_c=60.0, outlet_c=75.0) for i in range(6)]
    # the seed's demo effects start on a room whose timeline has none (recorded commands)
    st, demos, _ = curl(base, "GET", "/demo/scenarios")
    check(st == 200 and {d["name"]: d["in_timeline"] for d in demos.get("scenarios", [])}
          == {"add_ai_nodes_row_c": False, "overcooled_row_e": False},
          "GET /demo/scenarios offers both demos beside an empty timeline: %s" % demos)
    st, js, _ = curl(base, "POST", "/demo/scenario", {"scenario": "overcooled_row_e",
                                                      "action": "start", "duration_s": 60},
                     token=TOKEN)
    check(st == 200 and js.get("accepted"), "POST /demo/scenario off the timeline: %s %s" % (st, js))
    st, js, _ = curl(base, "POST", "/telemetry", {"samples": b}, token=TOKEN)
    ims = js.get("ims", {})
    check(st == 200 and ims.get("model_id") == job.get("model_id")
          and len(ims.get("deviation", [])) == len(b) and ims["deviation"][1] > ims["deviation"][0],
          "the answer scores with the model trained through the API, a hot inlet higher: %s" % ims)

    last_ts["t"] = b[-1]["ts"]
    curl(base, "POST", "/pace", {"paused": False}, token=TOKEN)
    th.join()
    t0 = time.time()
    while time.time() - t0 < 20 and not curl(base, "GET", "/status")[1].get("done"):
        time.sleep(0.05)
    tel = [f for f in frames if f.get("topic") == "telemetry"]
    posted = a + b
    check(len(tel) == len(posted), "a telemetry frame per accepted sample: %d of %d"
          % (len(tel), len(posted)))
    check([f["sample"]["rack_id"] for f in tel] == [p["rack_id"] for p in posted],
          "telemetry frames in posting order")
    if len(tel) == len(posted):
        check(tel[0]["sample"]["inlet_c"] == a[0]["inlet_c"]
              and tel[0]["sample"]["queue_depth"] == 42 and tel[1]["sample"]["queue_depth"] == -1
              and tel[1]["sample"]["outlet_c"] is None, "frames carry the samples as posted")
        check(tel[0]["monitor"]["deviation"] is None, "before the IMS trained: no deviation")
        devs = [f["monitor"]["deviation"] for f in tel[2:]]
        check(all(isinstance(d, (int, float)) for d in devs) and devs[1] > devs[0],
              "after: the run's IMS scores them, a hot inlet higher: %s" % devs)
        check(tel[-1]["monitor"]["state"] == 1, "six hot samples turn the posted stream's MMS "
              "persistent: %s" % tel[-1]["monitor"])
    st, ov, _ = curl(base, "GET", "/state/overview")
    tov = ov.get("telemetry", {})
    check(tov.get("samples_accepted") == len(posted) and tov.get("samples_applied") == len(posted)
          and tov.get("rack_id") == "R-C-07" and tov.get("mms_state") == "persistent",
          "overview.telemetry: %s" % tov)
    expect_error(curl(base, "POST", "/telemetry", {"samples": b[:1]}, token=TOKEN), 409,
                 "conflict", None, "telemetry after the end")
    rc, _ = srv.term()
    check(rc == 0, "SIGTERM: exit %d" % rc)

    # the recording: every accepted sample in /commands, to the bit; nothing rejected
    r = subprocess.run(["/usr/bin/python3", "-c",
                        "import h5py\nprint(sorted({(e['name'].decode(), e['phase'].decode())"
                        " for e in h5py.File('%s', 'r')['events'][:]}))" % live_h5],
                       capture_output=True, text=True)
    check("('overcooled_row_e', 'start')" in r.stdout and "('overcooled_row_e', 'stop')" in r.stdout,
          "the demo off the timeline ran for its 60 s (/events): %s %s" % (r.stdout, r.stderr))
    r = subprocess.run(["/usr/bin/python3", "-c",
                        "import h5py, json, sys\n"
                        "rows = h5py.File(sys.argv[1], 'r')['commands'][:]\n"
                        "print(json.dumps([{k: (r[k].decode() if isinstance(r[k], bytes) "
                        "else float(r[k])) for k in ('ts', 'kind', 'key', 'value', 'source')}"
                        " for r in rows]))", live_h5], capture_output=True, text=True)
    check(r.returncode == 0, "h5py reads /commands: %s" % r.stderr)
    rows = json.loads(r.stdout or "[]")
    got = samples_of_commands(rows)
    want = []
    for p in posted:
        w = {k: float(v) for k, v in p.items() if k not in ("rack_id", "ts")}
        w["rack_id"] = p["rack_id"]
        w["ts"] = 2.0 if isinstance(p["ts"], str) else float(p["ts"])
        want.append(w)
    check(got == want, "the recording holds the accepted samples as posted:\n%s\n%s"
          % (got, want))
    check(all(r["source"] == "api" for r in rows if r["kind"] == "telemetry"),
          "telemetry rows are stamped source=api")
    check(any(r["kind"] == "telemetry" and r["key"].startswith("+") for r in rows),
          "a full-precision sample spans rows")
    # the steered run re-runs from its command log to the same recording
    rerun = os.path.join(TMP, "tel-rerun.h5")
    r = subprocess.run([BIN, "run", scen, "--mode", "advisory", "--commands", live_h5, "--out",
                        rerun, "--no-progress"] + SETS, capture_output=True, text=True, cwd=TMP)
    check(r.returncode == 0, "skadi run --commands: %s" % r.stderr)
    r = subprocess.run(["h5diff", "--exclude-path", "/run_info", live_h5, rerun],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the re-run is h5diff-identical: %s" % r.stdout[-2000:])


def case_tick():
    """POST /optimizer/tick runs a slow tick now: 409 naming why when none can run (mode
    off, warm-up), else the twin steps to the next control boundary and the answer is that
    tick's proposals; the command is recorded and a re-run from the log is h5diff-identical."""
    scen = os.path.join(TMP, "api_tick.json")
    with open(scen, "w") as f:
        json.dump(dict(SCENARIO, name="api_tick", timeline=[]), f)
    live_h5 = os.path.join(TMP, "tick.h5")
    sets = ["--set", "control.ims_warmup_s=60", "--set", "control.horizon_s=30"]
    srv = Proc(["serve", scen, "--paused", "--port", "0", "--speed", "max", "--out", live_h5,
                "--mode", "off"] + sets, env={"SKADI_API_TOKEN": TOKEN}, name="tick")
    port = int(srv.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1))
    base = "http://127.0.0.1:%d" % port
    wait_health(base)
    res = curl(base, "POST", "/optimizer/tick", "", token=TOKEN)
    expect_error(res, 409, "conflict", None, "a tick in mode off")
    check("mode off" in res[1]["error"]["message"], "409 says why: %s" % res[1])
    # advisory from the next boundary: still warming up
    check(curl(base, "POST", "/mode", {"mode": "advisory"}, token=TOKEN)[0] == 200, "mode")
    st, js, _ = curl(base, "POST", "/pace", {"paused": False, "speed": "100"}, token=TOKEN)
    check(st == 200, "resume at 100x: %s %s" % (st, js))
    seen_warm = False
    t0 = time.time()
    while time.time() - t0 < 20:
        status = curl(base, "GET", "/status")[1]
        if status.get("sim_time_s", 0) < 50:
            res = curl(base, "POST", "/optimizer/tick", "", token=TOKEN)
            if res[0] == 409 and "warming up" in res[1]["error"]["message"]:
                seen_warm = True
        if status.get("sim_time_s", 0) >= 150:
            break
        time.sleep(0.02)
    check(curl(base, "POST", "/pace", {"paused": True}, token=TOKEN)[0] == 200, "pause")
    time.sleep(0.2)
    before = curl(base, "GET", "/status")[1]["sim_time_s"]
    check(150 <= before < 600, "paused after the warm-up at %s s" % before)
    check(seen_warm, "a tick during the warm-up is refused, saying so")
    st, tick, _ = curl(base, "POST", "/optimizer/tick", "", token=TOKEN)
    after = curl(base, "GET", "/status")[1]["sim_time_s"]
    want = (int(before) // 10 + 1) * 10
    check(st == 200 and after == want, "the tick stepped to the next boundary: %s -> %s (%s)"
          % (before, after, st))
    check(tick.get("sim_time_s") == want and len(tick.get("proposals", [])) > 0,
          "the answer is the forced tick's: %s" % tick)
    check(want % 120 != 0, "a tick off the 120 s schedule (%s)" % want)
    check(all(p.get("ts") == want for p in tick["proposals"]),
          "every proposal is of that tick: %s" % tick)
    st, js, _ = curl(base, "POST", "/pace", {"paused": False, "speed": "max"}, token=TOKEN)
    t0 = time.time()
    while time.time() - t0 < 20 and not curl(base, "GET", "/status")[1].get("done"):
        time.sleep(0.05)
    srv.term()
    r = subprocess.run(["/usr/bin/python3", "-c",
                        "import h5py, sys\n"
                        "print([(float(r['ts']), r['kind'].decode()) for r in "
                        "h5py.File(sys.argv[1], 'r')['commands'][:]])", live_h5],
                       capture_output=True, text=True)
    check("(%.1f, 'optimizer_tick')" % want in r.stdout,
          "/commands holds the tick at %s s: %s %s" % (want, r.stdout, r.stderr))
    rerun = os.path.join(TMP, "tick-rerun.h5")
    r = subprocess.run([BIN, "run", scen, "--mode", "off", "--commands", live_h5, "--out",
                        rerun, "--no-progress"] + sets, capture_output=True, text=True, cwd=TMP)
    check(r.returncode == 0, "skadi run --commands: %s" % r.stderr)
    r = subprocess.run(["h5diff", "--exclude-path", "/run_info", live_h5, rerun],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the re-run is h5diff-identical: %s" % r.stdout[-2000:])


class Page:
    """One tab of a headless Chromium, driven over the DevTools protocol's WebSocket."""

    def __init__(self, ws):
        self.ws, self.n = ws, 0

    async def call(self, method, **params):
        self.n += 1
        await self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            m = json.loads(await asyncio.wait_for(self.ws.recv(), timeout=10))
            if m.get("id") == self.n:
                return m

    async def js(self, expr):
        r = await self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("result", {}).get("value")

    async def until(self, expr, timeout=10):
        t = time.time()
        while time.time() - t < timeout:
            v = await self.js(expr)
            if v:
                return v
            await asyncio.sleep(0.1)
        return None


def case_browser():
    chromium = shutil.which("chromium")
    if not chromium:
        raise RuntimeError("no chromium (apt-get install chromium; scripts/setup.sh)")
    srv = Proc(["serve", os.path.join(SRC, "scenarios", "baseline.json"), "--port", "0",
                "--speed", "600x", "--duration", "6h", "--mode", "advisory", "--no-record"],
               name="serve")
    base = "http://127.0.0.1:%s" % srv.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1)
    wait_health(base)
    dport = free_port()
    log = open(os.path.join(TMP, "chromium.log"), "w")
    br = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", "--disable-extensions", "--remote-debugging-port=%d"
                           % dport, "--user-data-dir=" + os.path.join(TMP, "chromium"),
                           "about:blank"], stdout=log, stderr=subprocess.STDOUT)
    try:
        t = time.time()
        target = None
        while time.time() - t < 20 and not target:
            st, tabs, _ = curl("http://127.0.0.1:%d" % dport, "GET", "/json/list")
            if isinstance(tabs, list):
                target = next((x for x in tabs if x.get("type") == "page"), None)
            time.sleep(0.2)
        check(target is not None, "chromium's DevTools answer")

        async def drive():
            async with websockets.connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
                pg = Page(ws)
                await pg.call("Page.enable")
                await pg.call("Page.navigate", url=base + "/")
                whp = await pg.until("document.getElementById('k-whp').textContent !== '\u2013' "
                                     "&& document.getElementById('k-whp').textContent")
                check(whp and float(whp) > 0, "the Wh/prompt tile fills: %s" % whp)
                cells = await pg.until("document.querySelectorAll('#heatmap .cell').length")
                check(cells == 72, "the heatmap shows 72 racks: %s" % cells)
                t1 = await pg.js("lastRacks && lastRacks.sim_time_s")
                s1 = await pg.js("document.getElementById('simtime').textContent")
                await asyncio.sleep(1.0)
                t2 = await pg.js("lastRacks && lastRacks.sim_time_s")
                s2 = await pg.js("document.getElementById('simtime').textContent")
                check(t1 and t2 and t2 > t1, "the heatmap updates live (%s -> %s)" % (t1, t2))
                check(s1 != s2, "the sim time tile updates (%s -> %s)" % (s1, s2))
                await pg.js("document.getElementById('metric').value = 'power';"
                            "document.getElementById('metric').dispatchEvent(new Event('change'))")
                rng = await pg.js("document.getElementById('range').textContent")
                check(rng and "\u2026" in rng, "the power heatmap has a range: %s" % rng)
                st, mode, _ = curl(base, "GET", "/mode")
                check(mode.get("mode") == "advisory", "advisory before the click")
                await pg.js("document.querySelector('[data-mode=closed_loop]').click()")
                t = time.time()
                while time.time() - t < 10:
                    st, mode, _ = curl(base, "GET", "/mode")
                    if mode.get("mode") == "closed_loop":
                        break
                    await asyncio.sleep(0.1)
                check(mode.get("mode") == "closed_loop", "the mode button changes GET /mode: %s" % mode)
                shown = await pg.until("document.getElementById('mode').textContent === 'closed_loop'")
                check(shown, "the page shows the new mode")
        asyncio.run(drive())
    finally:
        br.terminate()
        try:
            br.wait(timeout=5)
        except subprocess.TimeoutExpired:
            br.kill()
        log.close()
    rc, dt = srv.term()
    check(rc == 0, "SIGTERM: exit %d" % rc)


def raw_http(port, method, path, body=None, ctype="application/json", length=True):
    """One request over a raw socket: (status, body bytes); (0, b"") when the server closed
    the connection without an answer (allowed only for requests HTTP cannot parse)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (method, path)
    if body is not None:
        head += "Content-Type: %s\r\n" % ctype
        if length:
            head += "Content-Length: %d\r\n" % len(body)
    s.sendall(head.encode("latin-1") + b"\r\n" + (body or b""))
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d+)", data)
    return (int(m.group(1)), data.split(b"\r\n\r\n", 1)[-1]) if m else (0, b"")


def random_json(rng, depth=0):
    kinds = ["null", "true", "num", "big", "str", "uni", "arr", "obj"]
    k = rng.choice(kinds if depth < 4 else kinds[:6])
    if k == "null":
        return None
    if k == "true":
        return rng.random() < 0.5
    if k == "num":
        return rng.choice([0, -1, 1.5, 1e308, -1e308, 2 ** 63, 10, 300, 0.1])
    if k == "big":
        return rng.choice(["9" * 400, "1e99999", "-0", "NaN"])
    if k == "str":
        return rng.choice(["", "max", "60x", "closed_loop", "R-C-07", "row C", "room", "now",
                           "2026-01-01T10:00:00Z", "x" * 5000, "start", "stop", "../../etc"])
    if k == "uni":
        return "\u00e9\u2603\ud83d\ude00\x00"
    if k == "arr":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    fields = ["mode", "enabled", "action", "params", "target", "delta", "delta_ms", "execute",
              "scenario", "duration_s", "samples", "ts", "rack_id", "inlet_c", "key", "value",
              "paused", "speed", "seek", "start_ts", "end_ts", "n_clusters", "zzz"]
    return {rng.choice(fields): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def case_robust():
    import random
    rng = random.Random(int(os.environ.get("SKADI_ROBUST_SEED", "1")))
    srv = Proc(["serve", os.path.join(SRC, "scenarios", "heat_spike_row_c.json"), "--port", "0",
                "--speed", "600x", "--mode", "advisory", "--no-record"], name="robust")
    port = int(srv.wait_for(r"http://127\.0\.0\.1:(\d+)/").group(1))
    base = "http://127.0.0.1:%d" % port
    wait_health(base)
    paths = [m_p[1] for m_p in ROUTES if m_p[1] != "/ws/events"] + [
        "/nope", "/state/overview/", "//mode", "/mode%00", "/../mode", "/" + "a" * 3000,
        "/heatmap?type=", "/heatmap?ts=", "/timeline?from=&to=", "/actions/log?limit=-1",
        "/heatmap?type=inlet&type=power&x", "/timeline?max_points=1e9", "/heatmap?%zz=1"]
    allowed = {200, 204, 400, 401, 404, 405, 409, 411, 413, 415}
    lws_own = {400, 403, 431}  # libwebsockets refuses what HTTP cannot parse, in HTML
    for i in range(400):
        method = rng.choice(["GET", "POST", "POST", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"])
        path = rng.choice(paths)
        body = None
        if method in ("POST", "PUT") or rng.random() < 0.1:
            r = rng.random()
            if r < 0.6:
                body = json.dumps(random_json(rng)).encode()
            elif r < 0.8:
                body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
            else:
                body = b"{" * rng.randint(1, 5000)
        st, resp = raw_http(port, method, path, body, ctype=rng.choice(
            ["application/json", "application/json", "text/plain"]), length=rng.random() > 0.05)
        unparsable = "%00" in path or "%zz" in path
        ok = st in allowed or st in lws_own or (st == 0 and (unparsable or method not in
                                                             ("GET", "POST")))
        if st >= 400 and method != "HEAD" and resp and not resp.startswith(b"<html>"):
            try:
                ok = ok and "code" in json.loads(resp)["error"]
            except (ValueError, KeyError, TypeError):
                ok = False
        elif resp.startswith(b"<html>"):
            ok = ok and st in lws_own
        check(ok, "request %d %s %s %r: %d %r" % (i, method, path[:60], (body or b"")[:60], st,
                                                    resp[:200]))
        if not ok:
            break

    async def ws_garbage():
        async with websockets.connect("ws://127.0.0.1:%d/ws/events?topics=zzz,kpis,,"
                                      % port, max_size=None) as ws:
            for _ in range(50):
                await ws.send(rng.choice(["{", "x" * 3000, json.dumps(random_json(rng))]))
            await ws.send(bytes(rng.randrange(256) for _ in range(100)))
            m = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            check(m.get("topic") == "kpis", "frames still flow after garbage from the client")
    asyncio.run(ws_garbage())
    st, js, _ = curl(base, "GET", "/health")
    check(st == 200 and js.get("twin_up"), "the server is up after it all: %s" % js)
    rc, dt = srv.term()
    check(rc == 0, "SIGTERM: exit %d" % rc)


try:
    {"live": case_live, "gateway": case_gateway, "demo": case_demo, "browser": case_browser,
     "robust": case_robust, "telemetry": case_telemetry, "tick": case_tick}[CASE]()
except Exception as e:  # an exception is a failure with its words, never a pass
    FAILS.append("%s: %r" % (type(e).__name__, e))
    print("FAIL:", e)
    for f in os.listdir(TMP):
        if f.endswith(".log"):
            print("--- %s\n%s" % (f, open(os.path.join(TMP, f)).read()[-3000:]))
finally:
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)
print("%s: %s" % (CASE, "ok" if not FAILS else "%d failure(s)" % len(FAILS)))
sys.exit(1 if FAILS else 0)
