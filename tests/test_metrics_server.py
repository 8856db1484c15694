"""Metrics across gunicorn's workers, with a real `ivr serve --workers 2` (IVR_METRICS_TOKEN set,
IVR_LOG_FORMAT=json): each worker counts in its own files, /metrics (answered by either worker)
adds them all up, a dead worker's counts stay while its live gauge leaves, reloads are counted in
the master and the config's generation follows them. `ivr serve` makes its own metrics folder
(here under TMPDIR) and removes it at the end; every log line is one JSON object.

The server helpers come from test_reload.py; every wait is bounded."""
from __future__ import annotations

import json
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from test_reload import WAIT, Server, _env, config_copy, start_server  # noqa: F401 (fixtures)

TOKEN = "metrics-server-test-token"
METRICS_TOKEN = "metrics-server-scrape-token"
CALLER = "+4917612398745"  # must reach no series and no log line
FORM = [("To", "+4930123456789"), ("From", CALLER), ("Caller", CALLER), ("CallSid", "CA" + "7" * 32)]


def _signed_voice(server: Server) -> int:
    url = f"http://127.0.0.1:{server.port}/voice"
    signature = RequestValidator(TOKEN).compute_signature(url, MultiDict(FORM))
    return server.post("/voice", FORM, signature)[0]


def _scrape(server: Server) -> tuple[dict[tuple[str, tuple], float], str]:
    status, content_type, body = server.request("GET", "/metrics",
                                                headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200, body[:300]
    text = body.decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, text


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _worker_pids(folder: Path, master: int) -> set[int]:
    """Processes that wrote request figures: one counter file each."""
    pids = {int(m.group(1)) for p in folder.glob("counter_*.db") if (m := re.fullmatch(r"counter_(\d+)\.db", p.name))}
    return pids - {master}


def test_metrics_add_up_over_two_workers(config_copy, start_server, tmp_path: Path) -> None:  # noqa: F811
    data, prompts = config_copy
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = _env(data, prompts, TWILIO_AUTH_TOKEN=TOKEN, IVR_METRICS_TOKEN=METRICS_TOKEN,
               IVR_LOG_FORMAT="json", TMPDIR=str(tmp))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = start_server(env, "--workers", "2")
    server.wait_healthy()
    (folder,) = tmp.glob("ivr-metrics-*")  # made by `ivr serve`, since none was given
    master = server.proc.pid

    # requests from several connections at once, until both workers have answered some
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        deadline = time.monotonic() + WAIT
        while len(_worker_pids(folder, master)) < 2 and time.monotonic() < deadline:
            statuses = list(pool.map(lambda _: _signed_voice(server), range(40)))
            assert statuses == [200] * 40
            sent += 40
    workers = _worker_pids(folder, master)
    assert len(workers) == 2, f"one worker answered everything: {workers}"
    for _ in range(3):
        assert server.post("/voice", FORM)[0] == 403  # unsigned
    assert server.post("/fallback", FORM)[0] == 200  # unsigned: counted apart from Twilio's

    samples, text = _scrape(server)
    assert _value(samples, "ivr_requests_total", webhook="voice", status="200") == sent
    assert _value(samples, "ivr_requests_total", webhook="voice", status="403") == 3
    assert _value(samples, "ivr_request_duration_seconds_count", webhook="voice") == sent + 3
    assert _value(samples, "ivr_signature_refusals_total", reason="signature") == 3
    assert _value(samples, "ivr_fallback_answers_total", reason="fallback_url") == 0
    assert _value(samples, "ivr_fallback_answers_total", reason="unsigned") == 1
    assert _value(samples, "ivr_config_generation") == 1
    assert _value(samples, "ivr_config_reloads_total", result="ok") == 0
    assert CALLER.lstrip("+") not in text and "CA777" not in text

    # a worker dies: gunicorn replaces it; its counts stay, its live gauge leaves the sum
    dead = min(workers)
    os.kill(dead, signal.SIGKILL)
    server.wait_until("the dead worker's gauge to leave",
                      lambda: not (folder / f"gauge_livemin_{dead}.db").exists())
    server.wait_until("a new worker", lambda: server.request("GET", "/ready")[0] == 200)
    samples, _ = _scrape(server)
    assert _value(samples, "ivr_requests_total", webhook="voice", status="200") == sent

    # SIGHUP: the master counts the reload; the generation rises once the old workers are gone
    server.proc.send_signal(signal.SIGHUP)
    samples = server.wait_until("the reload and the new generation", lambda: (
        (s := _scrape(server)[0]) and _value(s, "ivr_config_reloads_total", result="ok") == 1
        and _value(s, "ivr_config_generation") == 2 and s))
    assert _value(samples, "ivr_config_reloads_total", result="failed") == 0
    assert _value(samples, "ivr_requests_total", webhook="voice", status="200") == sent

    assert server.request("GET", "/metrics")[0] == 403  # no token
    assert server.stop() == 0
    assert not folder.exists(), "ivr serve left its metrics folder behind"

    lines = [line for line in server.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # one JSON object per line, gunicorn's too
    loggers = {record["logger"] for record in records}
    assert {"gunicorn.error", "ivr.web"} <= loggers, loggers
    assert any("Booting worker" in record["message"] for record in records)
    assert CALLER.lstrip("+") not in server.log()


def test_a_given_metrics_folder_is_emptied_of_an_earlier_run(config_copy, start_server, tmp_path: Path) -> None:  # noqa: F811
    data, prompts = config_copy
    folder = tmp_path / "prometheus"
    folder.mkdir()
    stale = folder / "counter_999999.db"
    stale.write_bytes(b"\0" * 16)
    keep = folder / "README"
    keep.write_text("not prometheus_client's")
    env = _env(data, prompts, IVR_METRICS_TOKEN=METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder))
    server = start_server(env, "--dev", "--workers", "1")
    server.wait_healthy()
    assert not stale.exists() and keep.exists()
    assert server.post("/voice", FORM)[0] == 200
    samples, _ = _scrape(server)
    assert _value(samples, "ivr_requests_total", webhook="voice", status="200") == 1
    assert server.stop() == 0
    assert folder.exists() and keep.exists()  # the operator's folder stays
