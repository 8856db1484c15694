"""`make soak`: whole calls against `ivr serve` for a while, counting every error and watching
the workers' memory.

    .venv/bin/python bench/soak.py                     # 60 s, 64 concurrent calls
    .venv/bin/python bench/soak.py --seconds 10 --connections 16

Starts `ivr serve --workers 2` with TWILIO_AUTH_TOKEN set and IVR_NOW pinned to an open time,
then keeps CONNECTIONS calls going at once. Each call walks the menu like a caller: it posts to
/voice and then follows the URLs in the TwiML (a Gather's action with a key, its Redirect on
silence, a Dial's action with a dial result), every request signed for its exact URL. The walks
follow scripts: connect and get busy / no answer / failed lines one after another, browse the
guidance, switch to English, stay silent, press unknown keys.

An error is anything but a 200 with text/xml that parses as a <Response> ending in a
Gather+Redirect, a Dial with the service's number as callerId, or a Hangup. Every 5 s the
resident memory (VmRSS) of each gunicorn worker is sampled. Verdicts: zero errors; memory flat
(no worker grows by more than 2 MiB or 5 % between the first sample after warm-up and the last).

Standard library plus the project's dependencies only (threads and http.client).
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urljoin

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (the server start-up, signing and /proc helpers)

SCRIPTS = {
    # main menu, key 3 (an adult), then every line fails
    "connect-all-busy": ["3", "busy", "no-answer", "failed", "canceled", "busy", "busy"],
    "connect-then-talk": ["1", "no-answer", "completed"],
    "short-talk-then-next": ["2", "completed:12", "1", "completed"],
    "key-0-now": ["0", "busy", "completed"],
    "guidance": ["4", "1", "1", "1", "1", "2", "3", "#", "*", "4", "1", "2", "completed"],
    "guidance-young": ["1", "failed", "failed", "failed", "2", "5", "1", "1", "completed"],
    "english": ["9", "4", "2", "*", "1", "failed", "completed"],
    "silence": ["", "", "", ""],
    "unknown-keys": ["8", "7", "6", "8"],
    "hotlines-then-silence": ["5", "", "", ""],
}
MAX_STEPS = 20
WARMUP = 10.0  # seconds before the memory baseline
SAMPLE_EVERY = 5.0


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.walks = 0
        self.errors: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.latencies: list[float] = []
        self.ends: Counter[str] = Counter()

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            self.examples.setdefault(kind, detail[:300])


def post(port: int, path: str, form: dict[str, str]) -> tuple[int, str, bytes]:
    url = f"http://127.0.0.1:{port}{path}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": bench.signature(url, form)}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("POST", path, body=urlencode(form), headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def check(status: int, content_type: str, body: bytes) -> tuple[ET.Element | None, str]:
    """(root, "") for a useful answer, (None, reason) otherwise."""
    if status != 200:
        return None, f"status {status}"
    if not content_type.startswith("text/xml"):
        return None, f"content type {content_type!r}"
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        return None, f"unparsable TwiML ({exc})"
    verbs = [child.tag for child in root]
    if root.tag != "Response" or not verbs:
        return None, "not a <Response> with verbs"
    if verbs[-1] == "Redirect" and "Gather" in verbs:
        return root, ""
    if verbs[-1] == "Dial":
        if root[-1].get("callerId") != bench.SERVICE_NUMBER:
            return None, f"Dial with callerId {root[-1].get('callerId')!r}"
        return root, ""
    if verbs[-1] == "Hangup":
        return root, ""
    return None, f"ends with {verbs[-1]}"


def walk(port: int, script: list[str], stats: Stats) -> None:
    keys = iter(script)
    path, extra = "/voice", {}
    for _ in range(MAX_STEPS):
        form = {**bench.TWILIO_FORM, **extra}
        start = time.perf_counter()
        try:
            status, content_type, body = post(port, path, form)
        except OSError as exc:
            stats.error("connection", f"{path}: {exc!r}")
            return
        elapsed = time.perf_counter() - start
        root, problem = check(status, content_type, body)
        with stats.lock:
            stats.requests += 1
            stats.latencies.append(elapsed)
        if root is None:
            stats.error(problem.split(" (")[0], f"{path} {form.get('Digits', form.get('DialCallStatus', ''))}: "
                                                  f"{problem}: {body[:200]!r}")
            return
        last = root[-1]
        if last.tag == "Hangup":
            with stats.lock:
                stats.ends["hangup"] += 1
            return
        nxt = next(keys, None)
        if last.tag == "Dial":
            status, _, seconds = (nxt or "completed").partition(":")  # "completed:12": a short talk
            target, extra = last.get("action") or "", {"DialCallStatus": status,
                                                       "DialCallDuration": seconds or "240"}
        elif nxt:  # a key at the Gather
            target, extra = root.find("Gather").get("action") or "", {"Digits": nxt}
        else:  # silence: Twilio follows the Redirect after the Gather
            target, extra = (last.text or "").strip(), {}
        path = urljoin(path, target)  # relative to the webhook just requested, as Twilio does
        if nxt is None and last.tag != "Dial":
            with stats.lock:
                stats.ends["script done"] += 1
            return
    with stats.lock:
        stats.ends["step limit"] += 1


def caller(port: int, deadline: float, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    names = sorted(SCRIPTS)
    while time.monotonic() < deadline:
        walk(port, SCRIPTS[rng.choice(names)], stats)
        with stats.lock:
            stats.walks += 1


def main() -> int:
    parser = argparse.ArgumentParser(description="Whole calls against ivr serve; errors and memory.")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()

    server = bench.start_project(bench.free_port())
    samples: list[tuple[float, dict[int, int]]] = []
    stats = Stats()
    try:
        server.wait_ready()
        ready = time.monotonic() + 15
        while len(bench.children(server.proc.pid)) < bench.WORKERS and time.monotonic() < ready:
            time.sleep(0.1)  # gunicorn boots the workers one after the other
        workers_at_start = sorted(bench.children(server.proc.pid))
        bench.say(f"soak: {args.connections} concurrent calls for {args.seconds:.0f} s against ivr serve "
                  f"(workers {workers_at_start}, IVR_NOW={bench.OPEN_TIME}, signed requests)")
        start = time.monotonic()
        deadline = start + args.seconds
        threads = [threading.Thread(target=caller, args=(server.port, deadline, stats, n), daemon=True)
                   for n in range(args.connections)]
        for thread in threads:
            thread.start()
        next_sample = start
        while time.monotonic() < deadline:
            if time.monotonic() >= next_sample:
                rss = {pid: bench.rss_kib(pid) for pid in bench.children(server.proc.pid)}
                samples.append((time.monotonic() - start, rss))
                with stats.lock:
                    done = stats.requests
                bench.say(f"  t={samples[-1][0]:5.1f}s requests {done:7d} errors {sum(stats.errors.values()):4d} "
                          f"RSS MiB {[round(k / 1024, 1) for k in rss.values()]}")
                next_sample += SAMPLE_EVERY
            time.sleep(0.2)
        for thread in threads:
            thread.join(timeout=30)
        rss = {pid: bench.rss_kib(pid) for pid in bench.children(server.proc.pid)}
        samples.append((time.monotonic() - start, rss))
        workers_at_end = sorted(bench.children(server.proc.pid))
        elapsed = time.monotonic() - start
    finally:
        server.stop()

    total_errors = sum(stats.errors.values())
    latencies = sorted(stats.latencies)
    pct = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (lambda q: 0)
    bench.say()
    bench.say(f"walks {stats.walks}, requests {stats.requests} ({stats.requests / elapsed:.0f} req/s), "
              f"errors {total_errors}; walk ends {dict(stats.ends)}")
    bench.say(f"client-side latency: p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms, max {pct(1.0):.1f} ms")
    for kind, count in stats.errors.most_common():
        bench.say(f"  error {kind}: {count}  e.g. {stats.examples[kind]}")

    baseline = next((rss for t, rss in samples if t >= WARMUP), samples[0][1])
    final = samples[-1][1]
    growth = {pid: final.get(pid, 0) - baseline.get(pid, 0) for pid in baseline}
    flat = workers_at_start == workers_at_end and all(
        g <= max(2048, 0.05 * baseline[pid]) for pid, g in growth.items())
    bench.say(f"worker RSS after warm-up {[round(k / 1024, 1) for k in baseline.values()]} MiB, at the end "
              f"{[round(k / 1024, 1) for k in final.values()]} MiB, growth {[round(g / 1024, 2) for g in growth.values()]} MiB"
              + ("" if workers_at_start == workers_at_end else f"; workers were replaced: {workers_at_start} -> {workers_at_end}"))
    verdicts = [(f"zero errors ({total_errors} in {stats.requests} requests)", total_errors == 0),
                ("memory flat (each worker within 2 MiB or 5 % of its post-warm-up RSS, none replaced)", flat)]
    for text, ok in verdicts:
        bench.say(f"  [{'PASS' if ok else 'MISS'}] {text}")

    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    out = bench.RESULTS / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "seconds": args.seconds, "connections": args.connections, "walks": stats.walks,
        "requests": stats.requests, "rps": stats.requests / elapsed, "errors": dict(stats.errors),
        "examples": stats.examples, "latency_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
        "rss_samples": [(round(t, 1), list(r.values())) for t, r in samples], "verdicts": verdicts,
        "median_latency_ms": statistics.median(latencies) * 1000 if latencies else None}, indent=2))
    bench.say(f"raw figures: {out}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
