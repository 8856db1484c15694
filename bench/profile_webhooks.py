"""Where a webhook's time goes, in-process (no server, no network): the helpline's app against the
bare Flask app of bench/bare_app.py, on the same signed requests that bench/run.py sends.

    .venv/bin/python bench/profile_webhooks.py              # microseconds per request, by variant
    .venv/bin/python bench/profile_webhooks.py --profile connect   # cProfile of one target
    PYTHONPATH=/path/to/candidate .venv/bin/python bench/profile_webhooks.py   # a candidate change

Variants: `project` (as shipped), `no-signature` (the same app without TWILIO_AUTH_TOKEN: what
the signature check costs), `bare`. Each variant runs interleaved in several repetitions; the
minimum is the least noisy figure on a shared machine.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_app  # noqa: E402
import run as bench  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from ivr.config.settings import Settings  # noqa: E402
from ivr.config.loading import load_config  # noqa: E402
from ivr.serve.web import create_app  # noqa: E402

HOST = "127.0.0.1:8000"


def project_app(token: str | None) -> Any:
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": token or "", "IVR_NOW": bench.OPEN_TIME})
    return create_app(load_config(settings.data_dir, settings.prompts_dir), settings)


def environ(path: str, form: dict[str, str]) -> tuple[dict[str, Any], bytes]:
    """A WSGI environ like gunicorn's for a signed POST (RAW_URI as sent)."""
    body = urlencode(form).encode()
    signature = RequestValidator(bench.TOKEN).compute_signature(f"http://{HOST}{path}", form)
    env = EnvironBuilder(path=path, method="POST", data=body, content_type="application/x-www-form-urlencoded",
                         headers={"X-Twilio-Signature": signature, "Host": HOST}).get_environ()
    env["RAW_URI"] = path
    return env, body


def call(app: Callable, env: dict[str, Any], body: bytes) -> tuple[str, bytes]:
    env = dict(env)
    env["wsgi.input"] = io.BytesIO(body)
    status: list[str] = []
    result = app(env, lambda s, h, e=None: status.append(s))
    data = b"".join(result)
    getattr(result, "close", lambda: None)()
    return status[0], data


def per_request_us(app: Callable, env: dict[str, Any], body: bytes, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        call(app, env, body)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", choices=[name for name, _, _ in bench.TARGETS])
    parser.add_argument("--variant", default="project", help="with --profile: project or no-signature")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    variants = {"project": project_app(bench.TOKEN), "no-signature": project_app(None), "bare": bare_app.app}

    if args.profile:
        name, path, extra = next(t for t in bench.TARGETS if t[0] == args.profile)
        env, body = environ(path, {**bench.TWILIO_FORM, **extra})
        app = variants[args.variant]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.n):
            call(app, env, body)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return

    print(f"{'target':9} {'variant':13} {'min us':>8} {'median us':>10}")
    for name, path, extra in bench.TARGETS:
        env, body = environ(path, {**bench.TWILIO_FORM, **extra})
        samples: dict[str, list[float]] = {label: [] for label in variants}
        for label, app in variants.items():
            status, _ = call(app, env, body)
            assert status.startswith("200"), (label, status)
            per_request_us(app, env, body, 200)  # warm the caches
        for _ in range(args.repeat):
            for label, app in variants.items():
                samples[label].append(per_request_us(app, env, body, args.n))
        for label, values in samples.items():
            print(f"{name:9} {label:13} {min(values):8.1f} {statistics.median(values):10.1f}")


if __name__ == "__main__":
    main()
