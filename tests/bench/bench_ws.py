#!/usr/bin/python3
"""bench_ws.py PORT N PID -- N WebSocket clients on /ws/events of a `skadi serve` at 100x
(10 frames/s) for 10 s: frames each client got and skipped, the fan-out lag (a client's
receive time after the first client's, per frame: p50/p99), and the server's CPU and RSS."""
import asyncio
import json
import sys
import time

import websockets

PORT, N, PID = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
SECONDS = 10


def cpu_s():
    with open("/proc/%d/stat" % PID) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks


def rss_mb():
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


async def client(out, ready, go):
    try:
        async with websockets.connect("ws://127.0.0.1:%d/ws/events" % PORT, max_size=None,
                                      open_timeout=60) as ws:
            ready.append(1)
            await go.wait()
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                try:
                    m = await asyncio.wait_for(ws.recv(), timeout=end - time.monotonic())
                except asyncio.TimeoutError:
                    break
                out.append((json.loads(m)["sim_time_s"], time.monotonic()))
    except Exception as e:  # a client that cannot connect is reported, not hidden
        out.append(("error", repr(e)))


async def main():
    outs = [[] for _ in range(N)]
    ready, go = [], asyncio.Event()
    tasks = [asyncio.ensure_future(client(outs[i], ready, go)) for i in range(N)]
    t = time.monotonic()
    while len(ready) < N and time.monotonic() - t < 60 and not all(x.done() for x in tasks):
        await asyncio.sleep(0.05)
    c0 = cpu_s()
    go.set()
    await asyncio.gather(*tasks)
    cpu = cpu_s() - c0
    errors = [o for out in outs for o in out if o[0] == "error"]
    first = {}
    for out in outs:
        for ts, at in out:
            if ts != "error":
                first[ts] = min(first.get(ts, at), at)
    lags = sorted(at - first[ts] for out in outs for ts, at in out if ts != "error")
    # what the twin published meanwhile: one kpis frame per 10 s of sim time
    frames = int(round((max(first) - min(first)) / 10.0)) + 1 if first else 0
    got = [sum(1 for o in out if o[0] != "error") for out in outs]
    q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))] * 1000 if lags else float("nan")
    print("api: %5d WebSocket clients: %d connected, %d frames published in %d s, each got "
          "%d..%d (skipped %d at most, stale ones); fan-out lag p50 %.1f ms p99 %.1f ms; server CPU %.0f %%, "
          "RSS %.0f MiB" % (N, len(ready), frames, SECONDS, min(got), max(got),
                            frames - min(got), q(0.5), q(0.99), 100 * cpu / SECONDS, rss_mb()))
    if errors:
        print("api:   %d client errors, e.g. %s" % (len(errors), errors[0][1]))


asyncio.run(main())
