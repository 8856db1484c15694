"""What metrics cost a webhook: server CPU per request with IVR_METRICS_TOKEN set against the
same app without it, in one process, in prometheus_client's multiprocess mode (as `ivr serve`
runs it: every figure written to a file in PROMETHEUS_MULTIPROC_DIR).

    .venv/bin/python bench/bench_metrics.py

Calls the WSGI app directly with a signed POST /menu (the connect step: 0 at the main menu), so
the figure is the app's own work without HTTP parsing; `make bench` measures the whole server.
Rounds alternate off and on; the ratio is of the medians. CPU time, not wall time, so other load
on the machine moves it less."""
from __future__ import annotations

import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode

ROUNDS, REQUESTS = 7, 3000
TOKEN = "bench-token-not-a-secret"
QUERY = "n=main&l=de"
FORM = {"AccountSid": "AC" + "0" * 32, "CallSid": "CA" + "1" * 32, "To": "+4930123456789",
        "From": "+4915100000000", "Digits": "0"}


def main() -> int:
    folder = tempfile.mkdtemp(prefix="ivr-bench-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        return measure()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure() -> int:
    from twilio.request_validator import RequestValidator  # after the folder is set

    from ivr.config.settings import Settings
    from ivr.config.loading import load_config
    from ivr.serve.web import create_app

    defaults = Settings.from_env({})
    config = load_config(defaults.data_dir, defaults.prompts_dir)
    body = urlencode(FORM).encode()
    signature = RequestValidator(TOKEN).compute_signature(f"http://localhost/menu?{QUERY}", FORM)

    def app(metrics: bool):
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_NOW": "2026-11-24T16:30"}
        if metrics:
            env["IVR_METRICS_TOKEN"] = "bench"
        return create_app(config, Settings.from_env(env))

    def environ() -> dict:
        return {"REQUEST_METHOD": "POST", "PATH_INFO": "/menu", "QUERY_STRING": QUERY,
                "RAW_URI": f"/menu?{QUERY}", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost", "wsgi.url_scheme": "http",
                "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
                "HTTP_X_TWILIO_SIGNATURE": signature}

    statuses: set[str] = set()

    def start_response(status: str, headers: object, exc_info: object = None) -> None:
        statuses.add(status)

    def cpu_per_request(wsgi) -> float:
        started = time.process_time()
        for _ in range(REQUESTS):
            for _chunk in wsgi(environ(), start_response):
                pass
        return (time.process_time() - started) / REQUESTS * 1e6

    apps = {"off": app(False), "on": app(True)}
    figures: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(ROUNDS):
        for name, wsgi in apps.items():
            figures[name].append(cpu_per_request(wsgi))
    if statuses != {"200 OK"}:
        print(f"bench_metrics: unexpected answers {sorted(statuses)}", file=sys.stderr)
        return 1
    for name, values in figures.items():
        print(f"metrics {name:3}  CPU per request: median {statistics.median(values):6.1f} us "
              f"(rounds {', '.join(f'{v:.1f}' for v in values)})")
    off, on = statistics.median(figures["off"]), statistics.median(figures["on"])
    print(f"metrics cost {on - off:.1f} us per request: {on / off:.3f} x the app without them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
