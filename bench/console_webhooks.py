"""What mounting the console costs a webhook: the same app with and without it, called through
WSGI in-process (no network, no gunicorn), alternating rounds, CPU time per request.

    .venv/bin/python bench/console_webhooks.py

The console's hooks belong to its blueprint and its session is opened only under /console/, so
the two should be equal within noise. Both apps check signatures (a token is set) and answer
from the warm answer cache, as a busy worker does."""
from __future__ import annotations

import io
import statistics
import sys
import time
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from ivr.config.settings import Settings
from ivr.console.settings import ConsoleSettings
from ivr.config.loading import load_config
from ivr.serve.web import create_app

TOKEN = "bench-token-not-a-secret"
REQUESTS, ROUNDS = 5000, 5
TARGETS = {"voice": ("/voice", {"To": "+4930123456789", "CallSid": "CA" + "1" * 32}),
           "connect": ("/menu?n=main&l=de", {"To": "+4930123456789", "Digits": "0"})}


def environ(path: str, form: dict[str, str]) -> dict:
    body = urlencode(form).encode()
    route, _, query = path.partition("?")
    signature = RequestValidator(TOKEN).compute_signature(f"http://localhost{path}", form)
    return {"REQUEST_METHOD": "POST", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "HTTP_HOST": "localhost", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_TWILIO_SIGNATURE": signature, "wsgi.input": body, "wsgi.errors": sys.stderr}


def per_request_us(app, env: dict) -> float:  # type: ignore[no-untyped-def]
    body = env["wsgi.input"]
    statuses = []
    start_response = lambda status, headers, exc_info=None: statuses.append(status)  # noqa: E731
    start = time.process_time()
    for _ in range(REQUESTS):
        for chunk in app(dict(env, **{"wsgi.input": io.BytesIO(body)}), start_response):
            pass
    spent = time.process_time() - start
    assert statuses and all(s.startswith("200") for s in statuses), statuses[:3]
    return spent / REQUESTS * 1e6


def main() -> int:
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_NOW": "2026-11-24T16:30"})
    config = load_config(settings.data_dir, settings.prompts_dir)
    apps = {"without": create_app(config, settings),
            "with console": create_app(config, settings, console=ConsoleSettings("c" * 40, True))}
    print(f"{REQUESTS} requests x {ROUNDS} rounds per app and target, CPU µs per request (median of rounds)")
    for name, (path, form) in TARGETS.items():
        env = environ(path, form)
        times: dict[str, list[float]] = {label: [] for label in apps}
        for _ in range(ROUNDS):
            for label, app in apps.items():
                times[label].append(per_request_us(app, env))
        without, with_console = (statistics.median(times[k]) for k in apps)
        print(f"  {name:<8} without {without:6.1f}   with console {with_console:6.1f}   ratio {with_console / without:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
