"""`make soak-slow`: slow and idle clients against `ivr serve` alone and behind the shipped nginx
site, on loopback, while signed POST /voice probes measure what a real call would meet.

    .venv/bin/python bench/soak_slow.py            # every stage, both targets (about 3 minutes)
    .venv/bin/python bench/soak_slow.py --quick    # fewer connections, shorter stages
    .venv/bin/python bench/soak_slow.py --target alone

The attacks (each connection that the server drops is opened again at once, so the count holds):
- slow headers: a request whose headers arrive one byte a second (slowloris);
- idle: TCP connections that send nothing;
- short body: a POST whose body stops short of its Content-Length (the client stalls);
- all three at once.
For each stage it holds the attack for STAGE seconds and sends a signed POST /voice probe
every 0.1 s on a new connection, as Twilio would. The goal: every probe answered within 1 s
(at 500 slow-header and 300 idle connections); no 5xx to anyone; no traceback in the log.

Targets: `ivr serve --workers 2` as the README starts it (TWILIO_AUTH_TOKEN set, so probes are
signed and checked), and the same behind deploy/nginx-helpline.conf with TLS (bench/local_nginx.py
runs it on loopback ports with a self-signed certificate; nginx comes from Debian's packages).
Everything stays on 127.0.0.1. Raw figures: bench/results/soak-slow-*.json.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import os
import resource
import ssl
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_nginx  # noqa: E402
import run as bench  # noqa: E402  (tool install, signing, server start-up)

STAGE = 10.0  # seconds each stage is held
PROBE_EVERY = 0.1
PROBE_GOAL = 1.0  # seconds
PUBLIC_URL = f"https://{local_nginx.HOST}"
FORM = {**bench.TWILIO_FORM}

# (name, slow-header, idle, short-body connections); the goals are set for the last two kinds
STAGES = [
    ("slow headers", 100, 0, 0),
    ("slow headers", 500, 0, 0),
    ("idle", 100, 0, 0),
    ("idle", 300, 0, 0),
    ("short body", 0, 0, 50),
    ("short body", 0, 0, 200),
    ("all at once", 500, 300, 200),
]
QUICK_STAGES = [("slow headers", 100, 0, 0), ("idle", 100, 0, 0), ("short body", 0, 0, 50),
                ("all at once", 200, 100, 50)]


def _stages(full: list[tuple[str, int, int, int]]) -> list[tuple[str, int, int, int]]:
    # the "idle" rows put their count in the idle column
    return [(name, 0, a, c) if name == "idle" else (name, a, b, c) for name, a, b, c in full]


@dataclass
class Target:
    name: str
    host_port: int  # where clients connect
    tls: bool
    sign_url: str  # the URL Twilio would have signed
    log_paths: list[Path] = field(default_factory=list)


@dataclass
class Tally:
    opened: int = 0
    dropped: int = 0  # closed by the server
    answers: dict[str, int] = field(default_factory=dict)  # status line -> count, from attackers
    open_now: int = 0


# -- attackers (asyncio: hundreds of sockets in one thread) ----------------------------------

_TLS: ssl.SSLContext | None = None


def _client_tls() -> ssl.SSLContext:
    """One client context for every connection (building one loads the CA store: tens of ms)."""
    global _TLS
    if _TLS is None:
        _TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _TLS.check_hostname = False
        _TLS.verify_mode = ssl.CERT_NONE  # the soak's own self-signed certificate
    return _TLS


async def _connect(target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if target.tls:
        return await asyncio.open_connection("127.0.0.1", target.host_port, ssl=_client_tls(),
                                             server_hostname=local_nginx.HOST)
    return await asyncio.open_connection("127.0.0.1", target.host_port)


async def _until_closed(reader: asyncio.StreamReader, tally: Tally) -> None:
    """Wait for the server to close; count the status line if it answered before that."""
    try:
        data = await reader.read(4096)
        if data.startswith(b"HTTP/"):
            status = data.split(b"\r\n", 1)[0].decode("latin-1")
            tally.answers[status] = tally.answers.get(status, 0) + 1
            while await reader.read(4096):
                pass
    except (OSError, ssl.SSLError):  # a reset is a close too
        pass


async def _attacker(kind: str, target: Target, tally: Tally, stop: asyncio.Event) -> None:
    host = local_nginx.HOST if target.tls else "127.0.0.1"
    while not stop.is_set():
        try:
            reader, writer = await _connect(target)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        tally.opened += 1
        tally.open_now += 1
        try:
            if kind == "slow":
                slow = f"POST /voice HTTP/1.1\r\nHost: {host}\r\nX-Slow: " + "a" * 10_000
                read = asyncio.ensure_future(_until_closed(reader, tally))
                for byte in slow.encode():
                    if stop.is_set() or read.done():
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.wait([read], timeout=1.0)
                if not read.done():
                    read.cancel()
                    continue
            elif kind == "idle":
                await _wait_or_stop(_until_closed(reader, tally), stop)
            else:  # short body
                writer.write((f"POST /voice HTTP/1.1\r\nHost: {host}\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                              "To=%2B4930").encode())
                await writer.drain()
                await _wait_or_stop(_until_closed(reader, tally), stop)
            if not stop.is_set():
                tally.dropped += 1
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            if not stop.is_set():
                tally.dropped += 1
        finally:
            tally.open_now -= 1
            writer.close()


async def _wait_or_stop(work: Any, stop: asyncio.Event) -> None:
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, stopper):
        if not pending.done():
            pending.cancel()


async def _attack(target: Target, slow: int, idle: int, short: int, seconds: float,
                  probes: "Probes") -> dict[str, Tally]:
    stop = asyncio.Event()
    tallies = {"slow": Tally(), "idle": Tally(), "short": Tally()}
    tasks = []
    for kind, count in (("slow", slow), ("idle", idle), ("short", short)):
        for _ in range(count):
            tasks.append(asyncio.ensure_future(_attacker(kind, target, tallies[kind], stop)))
            if len(tasks) % 50 == 0:
                await asyncio.sleep(0.05)  # open them in waves, as a backlog would take them
    await asyncio.sleep(1.0)  # the attack is in place before the first probe
    probes.start()
    await asyncio.sleep(seconds)
    probes.stop()
    tallies["slow"].answers["held at the end"] = tallies["slow"].open_now
    tallies["idle"].answers["held at the end"] = tallies["idle"].open_now
    tallies["short"].answers["held at the end"] = tallies["short"].open_now
    stop.set()
    await asyncio.wait(tasks, timeout=10)
    return tallies


# -- probes (a thread: blocking http.client, as a plain client) -----------------------------

class Probes:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.seconds = 0.0

    def start(self) -> None:
        self.seconds = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=15)
        self.seconds = time.perf_counter() - self.seconds

    def _run(self) -> None:
        body = urlencode(FORM).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": bench.signature(self.target.sign_url + "/voice", FORM)}
        if self.target.tls:
            headers["Host"] = local_nginx.HOST
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                if self.target.tls:
                    conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                        "127.0.0.1", self.target.host_port, timeout=5, context=_client_tls())
                else:
                    conn = http.client.HTTPConnection("127.0.0.1", self.target.host_port, timeout=5)
                conn.request("POST", "/voice", body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                conn.close()
                if response.status != 200 or b"<Gather" not in answer:
                    self.failures.append(f"HTTP {response.status}")
                else:
                    self.latencies.append(time.perf_counter() - started)
            except OSError as exc:
                self.failures.append(type(exc).__name__)
            self._stop.wait(max(0.0, PROBE_EVERY - (time.perf_counter() - started)))


# -- the run ---------------------------------------------------------------------------------

def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_stage(target: Target, name: str, slow: int, idle: int, short: int, seconds: float) -> dict[str, Any]:
    probes = Probes(target)
    tallies = asyncio.run(_attack(target, slow, idle, short, seconds, probes))
    latencies = probes.latencies
    total = len(latencies) + len(probes.failures)
    within = sum(1 for t in latencies if t <= PROBE_GOAL)
    five_xx = sum(n for t in tallies.values() for status, n in t.answers.items() if " 5" in status[8:12])
    row = {
        "target": target.name, "stage": name, "slow": slow, "idle": idle, "short": short,
        "seconds": round(probes.seconds, 1), "probes": total, "within_1s": within, "failed": len(probes.failures),
        "failures": sorted(set(probes.failures)),
        "p50_ms": _percentile(latencies, 0.5) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
        "attackers": {kind: {"opened": t.opened, "dropped_by_server": t.dropped, "answers": t.answers}
                      for kind, t in tallies.items() if t.opened},
        "attacker_5xx": five_xx,
    }
    dropped = ", ".join(f"{kind} {t.dropped}/{t.opened}" for kind, t in tallies.items() if t.opened)
    bench.say(f"  {target.name:6} {name:13} slow {slow:3} idle {idle:3} short {short:3} | probes "
              f"{within:4}/{total:<4} within 1 s  p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  "
              f"max {row['max_ms']:7.1f} ms  failed {len(probes.failures)} | dropped by server: {dropped}; "
              f"5xx to attackers {five_xx}")
    return row


def _server(name: str, port: int, public_url: str | None) -> bench.Server:
    env = {k: v for k, v in os.environ.items() if k not in ("IVR_PUBLIC_URL", "WEB_CONCURRENCY")}
    env.update(TWILIO_AUTH_TOKEN=bench.TOKEN, IVR_NOW=bench.OPEN_TIME)
    if public_url:
        env["IVR_PUBLIC_URL"] = public_url
    server = bench.Server(name, [*bench.ivr_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                          env, port)
    deadline = time.monotonic() + bench.READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise SystemExit(f"soak-slow: {name} did not start; see {server.log_path}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Slow and idle clients against ivr serve, alone and behind nginx.")
    parser.add_argument("--quick", action="store_true", help="fewer connections, 5 s stages")
    parser.add_argument("--target", choices=["alone", "nginx", "both"], default="both")
    parser.add_argument("--seconds", type=float, help=f"seconds per stage (default {STAGE:g})")
    args = parser.parse_args()
    stages = _stages(QUICK_STAGES if args.quick else STAGES)
    seconds = args.seconds or (5.0 if args.quick else STAGE)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))  # this process's sockets
    nginx = bench.ensure_tool("nginx", "nginx") if args.target != "alone" else None
    if nginx:
        bench.ensure_tool("openssl", "openssl")
    options = bench.gunicorn_options()
    bench.say(f"soak-slow: {len(stages)} stages x {seconds:g} s per target; probes every {PROBE_EVERY:g} s; "
              f"ivr serve --workers 2, gunicorn {json.dumps(options, sort_keys=True)}")

    rows: list[dict[str, Any]] = []
    logs: dict[str, str] = {}
    if args.target in ("alone", "both"):
        port = bench.free_port()
        server = _server("soak-slow-alone", port, None)
        start = server.log_path.stat().st_size
        try:
            target = Target("alone", port, False, f"http://127.0.0.1:{port}")
            for name, slow, idle, short in stages:
                rows.append(run_stage(target, name, slow, idle, short, seconds))
        finally:
            server.stop()
        logs["alone"] = server.log_path.read_bytes()[start:].decode("utf-8", "replace")
    if args.target in ("nginx", "both"):
        assert nginx is not None
        port, https_port, http_port = bench.free_port(), bench.free_port(), bench.free_port()
        server = _server("soak-slow-nginx", port, PUBLIC_URL)
        start = server.log_path.stat().st_size
        with tempfile.TemporaryDirectory(prefix="soak-slow-nginx-") as folder_name:
            folder = Path(folder_name)
            site = local_nginx.site_for_loopback(folder, https_port=https_port, http_port=http_port,
                                                 upstream_port=port, ipv6=False)
            proxy = local_nginx.Nginx(nginx, folder, local_nginx.main_conf(folder, site))
            try:
                proxy.wait_port(https_port)
                target = Target("nginx", https_port, True, PUBLIC_URL)
                for name, slow, idle, short in stages:
                    rows.append(run_stage(target, name, slow, idle, short, seconds))
            finally:
                proxy.stop()
                server.stop()
                logs["nginx (its error log)"] = (folder / "error.log").read_text(errors="replace")
        logs["nginx"] = server.log_path.read_bytes()[start:].decode("utf-8", "replace")

    verdicts = []
    for row in rows:
        label = f"{row['target']} / {row['stage']} ({row['slow']} slow, {row['idle']} idle, {row['short']} short)"
        verdicts.append((f"{label}: {row['within_1s']}/{row['probes']} probes within 1 s",
                         row["probes"] > 0 and row["within_1s"] == row["probes"]))
        verdicts.append((f"{label}: {row['attacker_5xx']} 5xx answers to attackers", row["attacker_5xx"] == 0))
    for name, text in logs.items():
        tracebacks = text.count("Traceback")
        verdicts.append((f"{name}: {tracebacks} tracebacks in the log", tracebacks == 0))
    bench.say()
    for text, ok in verdicts:
        bench.say(f"  [{'PASS' if ok else 'MISS'}] {text}")

    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    out = bench.RESULTS / f"soak-slow-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"machine": bench.machine(), "options": options, "seconds": seconds,
                               "rows": rows, "verdicts": verdicts}, indent=2))
    bench.say(f"raw figures: {out}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
