"""`make bench`: the helpline's webhooks under load, against a bare Flask app under the same
gunicorn settings; start-up time, memory per worker, and the schedule benchmark.

    .venv/bin/python bench/run.py            # 3 rounds x 5 s per target and server (about 2 min)
    .venv/bin/python bench/run.py --quick    # 1 round x 2 s, for a smoke test

What it does:
1. Makes sure `wrk` is installed (apt-get install -y wrk if not; says so, and stops if it can't).
2. Starts (a) `ivr serve --workers 2` with TWILIO_AUTH_TOKEN set (every request is signed and
   checked), IVR_METRICS_TOKEN set (every request timed and counted) and IVR_NOW pinned to a
   Tuesday afternoon (lines open), and (b) bench/bare_app.py: parse the form, answer constant
   TwiML, under the same gunicorn options (read from ivr.serve.server.gunicorn_options, so the two
   cannot drift apart): the same gevent worker class (ivr.serve.gunicorn_worker, which imports nothing
   else of ivr), keep-alive and timeouts.
3. For each target (POST /voice; the connect step POST /menu?n=main&l=de with Digits=3, which
   answers a Dial), drives both servers with wrk at saturation (bench/post.lua sends the signed
   body and X-Twilio-Signature) and then at a fixed rate of P99_RATE requests a second
   (bench/fixed_rate.py), several rounds alternating project and bare, and prints req/s, p50,
   p99 (at saturation and at the fixed rate), server CPU time per request, the project/bare
   ratios, errors, and the goal verdicts: throughput (at saturation) >= 0.90 x bare, p99 (at the
   fixed rate, where a phone line runs) <= 1.25 x bare, zero non-2xx answers. The verdicts use the
   median over rounds of each project run against the bare run next to it in time, which
   holds up better when something else on the machine takes CPU (the run reports how much).
4. Start-up to the first 200 on /voice (median of 3), resident memory (VmRSS) per worker after
   the load, and bench/bench_schedule.py --quick if it exists.

The project counts every answer into a database, as it does when deployed: `--database sqlite`
(default: a fresh file under bench/results/) or `--database postgresql` (a throwaway PostgreSQL
cluster started for the run, as the tests do, and removed afterwards).

To measure a candidate change before it is committed, put its checkout first on the path:
`PYTHONPATH=/path/to/candidate .venv/bin/python bench/run.py` (the servers inherit it).

Standard library plus the project's own dependencies only. Raw figures: bench/results/.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
TOKEN = "bench-token-not-a-secret"
OPEN_TIME = "2026-11-24T16:30"  # a Tuesday afternoon in Berlin: several lines open
SERVICE_NUMBER = "+4930123456789"
WORKERS = 2
THREADS, CONNECTIONS = 2, 32
# The p99 is measured at a fixed rate below saturation (bench/fixed_rate.py says why): about a
# quarter of what the bare app answers at saturation on the 2-core machine of bench/README.md.
P99_RATE = 2000
GOAL_THROUGHPUT, GOAL_P99 = 0.90, 1.25
READY_TIMEOUT = 30.0

# What Twilio posts to a voice webhook (the usual fields; values made up, numbers fictitious).
TWILIO_FORM = {
    "AccountSid": "AC00000000000000000000000000000000", "ApiVersion": "2010-04-01",
    "CallSid": "CA11111111111111111111111111111111", "CallStatus": "in-progress", "CallToken": "",
    "Called": SERVICE_NUMBER, "CalledCity": "Berlin", "CalledCountry": "DE", "CalledState": "", "CalledZip": "",
    "Caller": "+4915100000000", "CallerCity": "", "CallerCountry": "DE", "CallerState": "", "CallerZip": "",
    "Direction": "inbound", "From": "+4915100000000", "FromCity": "", "FromCountry": "DE", "FromState": "",
    "FromZip": "", "To": SERVICE_NUMBER, "ToCity": "Berlin", "ToCountry": "DE", "ToState": "", "ToZip": "",
}
TARGETS = [
    ("voice", "/voice", {}),
    ("connect", "/menu?n=main&l=de", {"Digits": "3"}),  # "an adult affected" -> Dial
]


# -- helpers -------------------------------------------------------------------------------

def say(text: str = "") -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ivr_command() -> list[str]:
    script = Path(sys.executable).with_name("ivr")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from ivr.cli.main import main; main()"]


def signature(url: str, form: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator
    return RequestValidator(TOKEN).compute_signature(url, form)


def ensure_wrk() -> str:
    return ensure_tool("wrk", "wrk")


def ensure_tool(binary: str, package: str) -> str:
    """The path of `binary`; installs Debian's `package` with apt-get first if it is missing
    (says so, and stops if it can't)."""
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if found:
        return found
    say(f"{binary} is not installed; installing it from the distribution's packages: apt-get install -y {package}")
    apt = shutil.which("apt-get")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            sys.exit(f"bench: {binary} is missing and this user cannot install packages; install {package} "
                     f"(Debian/Ubuntu: sudo apt-get install {package}) and run again.")
        prefix = ["sudo", "-n"]
    if not apt:
        sys.exit(f"bench: {binary} is missing and apt-get is not available; install {package} and run again.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ([[*prefix, apt, "install", "-y", package]],
                    [[*prefix, apt, "update"], [*prefix, apt, "install", "-y", package]]):
        ok = True
        for command in attempt:
            say("  $ " + " ".join(command))
            if subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
                ok = False
                break
        found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
        if ok and found:
            say(f"  {binary} installed")
            return found
    sys.exit(f"bench: could not install {package} with apt-get (see above); install it and run again.")


def gunicorn_options() -> dict[str, Any]:
    """The options `ivr serve` hands to gunicorn (worker class included), from ivr.serve.server."""
    from ivr.serve.server import gunicorn_options as serve_options
    options = serve_options("127.0.0.1", 0, WORKERS)
    options.pop("bind", None)
    options.pop("workers", None)
    return options


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int) -> None:
        self.name, self.port = name, port
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log_path = RESULTS / f"{name}.log"
        self._log = open(self.log_path, "ab")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def post(self, path: str, form: dict[str, str], signed: bool = True) -> tuple[int, bytes]:
        body = urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers["X-Twilio-Signature"] = signature(self.url(path), form)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def wait_ready(self) -> float:
        """Seconds from the start of the process to the first 200 on POST /voice."""
        deadline = self.started + READY_TIMEOUT
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: {self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if self.post("/voice", TWILIO_FORM)[0] == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        raise SystemExit(f"bench: {self.name} did not answer within {READY_TIMEOUT:.0f} s; see {self.log_path}")

    def worker_rss_kib(self) -> list[int]:
        return [rss_kib(pid) for pid in children(self.proc.pid)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this script started
                self.proc.wait(timeout=15)
        self._log.close()


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except OSError:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
        return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def children_cpu_seconds() -> float:
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_project(port: int, database_url: str | None = None) -> Server:
    """`ivr serve`, counting into `database_url` (default: a SQLite file under bench/results/,
    which serve creates and upgrades itself)."""
    env = {k: v for k, v in os.environ.items() if k not in ("IVR_PUBLIC_URL", "WEB_CONCURRENCY")}
    # metrics on, as a deployment runs it: their cost (timing and counting) is in the figures;
    # the console mounted too (IVR_SECRET_KEY), as deployed
    env.update(TWILIO_AUTH_TOKEN=TOKEN, IVR_NOW=OPEN_TIME, IVR_METRICS_TOKEN="bench-metrics-token",
               IVR_DATABASE_URL=database_url or f"sqlite:///{RESULTS / 'state' / 'ivr.sqlite3'}",
               IVR_SECRET_KEY="bench-console-key-" + "x" * 32)
    return Server("project", [*ivr_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                              "--workers", str(WORKERS)], env, port)


def start_bare(port: int, options: dict[str, Any]) -> Server:
    return Server("bare", [sys.executable, str(BENCH / "bare_app.py"), "--host", "127.0.0.1", "--port", str(port),
                           "--workers", str(WORKERS), "--options", json.dumps(options)], dict(os.environ), port)


def wrk(wrk_path: str, server: Server, path: str, form: dict[str, str], seconds: float) -> dict[str, Any]:
    body = urlencode(form)
    command = [wrk_path, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
               "-s", str(BENCH / "post.lua"), server.url(path), "--", body, signature(server.url(path), form)]
    workers = [server.proc.pid, *children(server.proc.pid)]
    cpu_before, busy_before, wrk_before = cpu_seconds(workers), machine_busy_seconds(), children_cpu_seconds()
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    cpu = cpu_seconds(workers) - cpu_before
    busy, wrk_cpu = machine_busy_seconds() - busy_before, children_cpu_seconds() - wrk_before
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line[len("BENCH "):])
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            figures["cpu_us_per_request"] = cpu / max(1, figures["requests"]) * 1e6
            # CPU the rest of the machine used meanwhile (other processes): noise in the figures
            figures["other_cores"] = max(0.0, busy - cpu - wrk_cpu) / (figures["duration_us"] / 1e6)
            figures["errors"] = sum(figures[k] for k in ("status_errors", "connect_errors", "read_errors",
                                                         "write_errors", "timeouts"))
            return figures
    raise SystemExit(f"bench: wrk gave no summary:\n{result.stdout}\n{result.stderr}")


def fixed_rate(server: Server, path: str, form: dict[str, str], seconds: float) -> dict[str, Any]:
    """Latency at P99_RATE requests a second (bench/fixed_rate.py), the same signed request."""
    command = [sys.executable, str(BENCH / "fixed_rate.py"), "--port", str(server.port), "--path", path,
               "--body", urlencode(form), "--signature", signature(server.url(path), form),
               "--rate", str(P99_RATE), "--seconds", str(seconds)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line[len("BENCH "):])
            figures["errors"] = figures["status_errors"] + figures["failed"]
            return figures
    raise SystemExit(f"bench: fixed_rate.py gave no summary:\n{result.stdout}\n{result.stderr}")


# -- the parts of the benchmark --------------------------------------------------------------

def check_answers(project: Server, bare: Server) -> None:
    """Before measuring: both answer, the project checks signatures, the connect step dials."""
    import xml.etree.ElementTree as ET
    for name, path, extra in TARGETS:
        form = {**TWILIO_FORM, **extra}
        for server in (project, bare):
            status, body = server.post(path, form)
            if status != 200:
                raise SystemExit(f"bench: {server.name} answered {status} to {path}")
        root = ET.fromstring(project.post(path, form)[1])
        wanted = "Dial" if name == "connect" else "Gather"
        if root.find(wanted) is None:
            raise SystemExit(f"bench: the project's {path} did not answer a {wanted}; is IVR_NOW an open time?")
    if project.post("/voice", TWILIO_FORM, signed=False)[0] != 403:
        raise SystemExit("bench: the project answered an unsigned request; the signature check is off")


def load_rounds(wrk_path: str, project: Server, bare: Server, rounds: int, seconds: float) -> dict[str, Any]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for name, path, extra in TARGETS:  # warm-up: caches, imports, first connections
        form = {**TWILIO_FORM, **extra}
        for server in (project, bare):
            wrk(wrk_path, server, path, form, 1)
    for n in range(rounds):
        for name, path, extra in TARGETS:
            form = {**TWILIO_FORM, **extra}
            order = (project, bare) if n % 2 == 0 else (bare, project)
            for server in order:
                figures = wrk(wrk_path, server, path, form, seconds)
                figures["fixed"] = fixed = fixed_rate(server, path, form, seconds)
                runs.setdefault((name, server.name), []).append(figures)
                say(f"  round {n + 1}/{rounds} {name:8} {server.name:8} {figures['rps']:8.0f} req/s  "
                    f"p50 {figures['p50_us'] / 1000:6.2f} ms  p99 {figures['p99_us'] / 1000:6.2f} ms  "
                    f"server CPU {figures['cpu_us_per_request']:5.0f} us/req  errors {figures['errors']}  "
                    f"(other load {figures['other_cores']:.2f} cores); at {P99_RATE} req/s: "
                    f"p50 {fixed['p50_us'] / 1000:5.2f} ms  p99 {fixed['p99_us'] / 1000:5.2f} ms  "
                    f"errors {fixed['errors']}")
    summary: dict[str, Any] = {}
    for name, _, _ in TARGETS:  # each project round against the bare round next to it in time
        pairs = list(zip(runs[(name, "project")], runs[(name, "bare")]))
        summary.setdefault(name, {})["paired"] = {
            "rps_ratio": statistics.median(p["rps"] / b["rps"] for p, b in pairs),
            "p99_ratio": statistics.median(p["fixed"]["p99_us"] / b["fixed"]["p99_us"] for p, b in pairs),
            "saturated_p99_ratio": statistics.median(p["p99_us"] / b["p99_us"] for p, b in pairs),
            "cpu_ratio": statistics.median(p["cpu_us_per_request"] / b["cpu_us_per_request"] for p, b in pairs),
            "other_cores_max": max(max(p["other_cores"], b["other_cores"]) for p, b in pairs),
        }
    for (name, server), figures in runs.items():
        requests = sum(f["requests"] for f in figures)
        seconds_total = sum(f["duration_us"] for f in figures) / 1e6
        summary.setdefault(name, {})[server] = {
            "rps": requests / seconds_total,
            "rps_rounds": [round(f["rps"]) for f in figures],
            "p50_ms": statistics.median(f["p50_us"] for f in figures) / 1000,
            "saturated_p99_ms": statistics.median(f["p99_us"] for f in figures) / 1000,
            "saturated_p99_ms_rounds": [round(f["p99_us"] / 1000, 2) for f in figures],
            "p99_rate": P99_RATE,
            "p50_ms_at_rate": statistics.median(f["fixed"]["p50_us"] for f in figures) / 1000,
            "p99_ms": statistics.median(f["fixed"]["p99_us"] for f in figures) / 1000,
            "p99_ms_rounds": [round(f["fixed"]["p99_us"] / 1000, 2) for f in figures],
            "cpu_us": statistics.median(f["cpu_us_per_request"] for f in figures),
            "errors": sum(f["errors"] + f["fixed"]["errors"] for f in figures),
            "requests": requests,
        }
    return summary


def startup_times(options: dict[str, Any], repeats: int, database_url: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"project": [], "bare": []}
    for _ in range(repeats):
        for name, start in (("project", lambda p: start_project(p, database_url)),
                            ("bare", lambda p: start_bare(p, options))):
            server = start(free_port())
            try:
                times[name].append(server.wait_ready())
            finally:
                server.stop()
    return times


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    from importlib.metadata import version
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "gunicorn": version("gunicorn"), "flask": version("flask"), "werkzeug": version("werkzeug"),
            "twilio": version("twilio"), "wrk": wrk_version.split(" Copyright")[0].strip(),
            "kernel": platform.release()}


def print_table(summary: dict[str, Any]) -> list[tuple[str, bool]]:
    verdicts: list[tuple[str, bool]] = []
    say()
    say(f"{'':18} {'at saturation (wrk -c' + str(CONNECTIONS) + ')':^35}  {'at ' + str(P99_RATE) + ' req/s':^17}")
    say(f"{'target':9} {'server':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU us':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}   per round req/s")
    for name, _, _ in TARGETS:
        for server in ("project", "bare"):
            s = summary[name][server]
            say(f"{name:9} {server:8} {s['rps']:8.0f} {s['p50_ms']:8.2f} {s['saturated_p99_ms']:8.2f} "
                f"{s['cpu_us']:8.0f} {s['p50_ms_at_rate']:8.2f} {s['p99_ms']:8.2f} {s['errors']:7d}   "
                f"{s['rps_rounds']}")
        p, b, paired = summary[name]["project"], summary[name]["bare"], summary[name]["paired"]
        say(f"{name:9} {'ratio':8} {p['rps'] / b['rps']:8.2f} {p['p50_ms'] / b['p50_ms']:8.2f} "
            f"{p['saturated_p99_ms'] / b['saturated_p99_ms']:8.2f} {p['cpu_us'] / b['cpu_us']:8.2f} "
            f"{p['p50_ms_at_rate'] / b['p50_ms_at_rate']:8.2f} {p['p99_ms'] / b['p99_ms']:8.2f}"
            "           (project/bare, all rounds)")
        say(f"{name:9} {'paired':8} {paired['rps_ratio']:8.2f} {'':8} {paired['saturated_p99_ratio']:8.2f} "
            f"{paired['cpu_ratio']:8.2f} {'':8} {paired['p99_ratio']:8.2f}           "
            "(median of each round's project/bare)")
        throughput, p99 = paired["rps_ratio"], paired["p99_ratio"]
        verdicts += [
            (f"{name}: throughput {throughput:.2f} x bare (goal >= {GOAL_THROUGHPUT:.2f})", throughput >= GOAL_THROUGHPUT),
            (f"{name}: p99 at {P99_RATE} req/s {p99:.2f} x bare (goal <= {GOAL_P99:.2f})", p99 <= GOAL_P99),
            (f"{name}: {p['errors']} non-2xx or failed requests from the project (goal 0)", p["errors"] == 0),
        ]
    worst = max(summary[name]["paired"]["other_cores_max"] for name, _, _ in TARGETS)
    say(f"(CPU = server CPU time per request. Other processes used up to {worst:.2f} of {os.cpu_count()} cores "
        "during a run; above ~0.2 the req/s figures are noisy, the CPU ratio much less so.)")
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description="Webhooks under load: project vs bare Flask.")
    parser.add_argument("--quick", action="store_true", help="1 round x 2 s, one start-up sample")
    parser.add_argument("--rounds", type=int, help="rounds per target and server (default 3)")
    parser.add_argument("--seconds", type=float, help="seconds per wrk run (default 5)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up measurement")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="where the project's counts go (default sqlite)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        database_url = prepare_database(args.database, stack)
        return run(args, database_url)


def prepare_database(kind: str, stack: contextlib.ExitStack) -> str:
    """A fresh database with the current schema, for the project's counts."""
    if kind == "postgresql":
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_cluster import throwaway_cluster  # the tests' own throwaway cluster
        url = stack.enter_context(throwaway_cluster()) + "/postgres"
    else:
        state = RESULTS / "state"
        shutil.rmtree(state, ignore_errors=True)
        url = f"sqlite:///{state / 'ivr.sqlite3'}"
    env = {**os.environ, "IVR_DATABASE_URL": url}
    subprocess.run([*ivr_command(), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    return url


def run(args: argparse.Namespace, database_url: str) -> int:
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (2 if args.quick else 5)

    wrk_path = ensure_wrk()
    options = gunicorn_options()
    info = machine()
    say(f"machine: {info['nproc']} cores ({info['cpu']}), Python {info['python']}, gunicorn {info['gunicorn']}, "
        f"Flask {info['flask']}, {info['wrk']}")
    say(f"gunicorn options (both servers): workers={WORKERS} {json.dumps(options, sort_keys=True)}")
    import ivr
    say(f"project: {Path(ivr.__file__).parent}; load: wrk -t{THREADS} -c{CONNECTIONS}, {rounds} round(s) x {seconds:.0f} s per target and server, "
        f"alternating; IVR_NOW={OPEN_TIME}, signed requests; counts to {database_url.split(':', 1)[0]}")

    project, bare = start_project(free_port(), database_url), start_bare(free_port(), options)
    try:
        project.wait_ready()
        bare.wait_ready()
        check_answers(project, bare)
        summary = load_rounds(wrk_path, project, bare, rounds, seconds)
        rss = {"project": project.worker_rss_kib(), "bare": bare.worker_rss_kib(),
               "project_master": rss_kib(project.proc.pid), "bare_master": rss_kib(bare.proc.pid)}
    finally:
        project.stop()
        bare.stop()

    verdicts = print_table(summary)
    startup = startup_times(options, 0 if args.no_startup else 1 if args.quick else 3, database_url)
    say()
    if startup["project"]:
        say("start-up to the first 200 on POST /voice (median): "
            f"project {statistics.median(startup['project']):.2f} s, bare {statistics.median(startup['bare']):.2f} s "
            f"(samples: project {[round(t, 2) for t in startup['project']]}, bare {[round(t, 2) for t in startup['bare']]})")
    say(f"resident memory per worker after the load (VmRSS): project {[round(k / 1024, 1) for k in rss['project']]} MiB, "
        f"bare {[round(k / 1024, 1) for k in rss['bare']]} MiB; masters: project {rss['project_master'] / 1024:.1f} MiB, "
        f"bare {rss['bare_master'] / 1024:.1f} MiB")
    say()
    for text, ok in verdicts:
        say(f"  [{'PASS' if ok else 'MISS'}] {text}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps({
        "machine": info, "options": options, "rounds": rounds, "seconds": seconds, "summary": summary,
        "startup_s": startup, "rss_kib": rss, "verdicts": verdicts}, indent=2))
    say(f"raw figures: {RESULTS / f'bench-{stamp}.json'}")

    schedule = BENCH / "bench_schedule.py"
    if schedule.exists():
        say()
        say(f"$ {Path(sys.executable).name} bench/bench_schedule.py --quick")
        subprocess.run([sys.executable, str(schedule), "--quick"], cwd=ROOT)
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
