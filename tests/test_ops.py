"""The operators' endpoints in one process: /metrics (off without IVR_METRICS_TOKEN, bearer token
otherwise), what a whole call adds to its figures, that no caller field reaches a series, /ready,
and IVR_LOG_FORMAT=json (one JSON object per line, nothing of the caller's).

Across gunicorn's workers, with a real `ivr serve`: tests/test_metrics_server.py."""
from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from ivr.call import flow
from ivr.serve import logs
from ivr.cli.main import main
from ivr.serve.fast_webhooks import FastWebhooks
from ivr.serve.metrics import FALLBACK_REASONS, REFUSAL_REASONS, RELOAD_RESULTS, WEBHOOK_PATHS
from twiml_helpers import (BASE, CALLER_NUMBER, TOKEN, Call, bundled_config, make_app, sign,
                           twilio_form)
from ivr.config.settings import Settings
from ivr.serve.web import create_app

TUE = "2026-11-24T15:30"  # a Tuesday afternoon: every line open
METRICS_TOKEN = "metrics-test-token-5f1c"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
CALL_SID = "CA11111111111111111111111111111111"  # twilio_form's CallSid
LABEL_VALUES = {  # every label value a series may carry: fixed words, nothing from a request
    "webhook": {*WEBHOOK_PATHS.values(), "other"},
    "status": {"200", "403", "404", "405", "413"},
    "reason": {*FALLBACK_REASONS, *REFUSAL_REASONS},
    "result": set(RELOAD_RESULTS),
}


def metrics_app(**env: str):
    return make_app(TUE, extra_env={"IVR_METRICS_TOKEN": METRICS_TOKEN, **env})


def scrape(client) -> tuple[dict[tuple[str, tuple[tuple[str, str], ...]], float], str]:
    """GET /metrics with the token: {(sample name, sorted labels): value}, and the raw text."""
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.get_data(as_text=True)
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, text


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# -- /metrics: off, or behind a bearer token --------------------------------------------------

def test_metrics_are_off_without_a_token() -> None:
    app = make_app(TUE)
    client = app.test_client()
    for headers in ({}, BEARER, {"Authorization": "Bearer "}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404
    assert "ivr.metrics" not in app.extensions  # nothing is measured either
    # the webhooks run unmeasured: their fast path straight in front of Flask's own wsgi_app
    assert isinstance(app.wsgi_app, FastWebhooks) and app.wsgi_app.flask_app.__name__ == "wsgi_app"


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", f"Bearer {METRICS_TOKEN}x", f"Bearer {METRICS_TOKEN[:-1]}",
    f"Basic {METRICS_TOKEN}", METRICS_TOKEN, f"Token {METRICS_TOKEN}", "Bearer ünïcödé",
])
def test_metrics_without_the_right_bearer_token_are_403(authorization: str | None) -> None:
    client = metrics_app().test_client()
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 403
    assert response.get_data(as_text=True) == "Forbidden\n"


@pytest.mark.parametrize("authorization", [f"Bearer {METRICS_TOKEN}", f"bearer {METRICS_TOKEN}",
                                           f"Bearer  {METRICS_TOKEN} "])
def test_metrics_with_the_bearer_token(authorization: str) -> None:
    client = metrics_app(TWILIO_AUTH_TOKEN=TOKEN).test_client()  # no Twilio signature needed
    response = client.get("/metrics", headers={"Authorization": authorization})
    assert response.status_code == 200
    assert "ivr_requests_total" in response.get_data(as_text=True)


# -- what a call adds up to ---------------------------------------------------------------------

def test_a_whole_call_and_its_failures_add_up() -> None:
    app = metrics_app()
    client = app.test_client()
    call = Call(client)
    call.start()
    call.press("0")  # a person, at once (every menu)
    call.dial_ends("busy")  # the next open line
    call.dial_ends("completed")
    form = twilio_form()
    client.post("/voice", data=form)  # unsigned: refused
    client.post("/menu?n=main&l=de", data=form, headers={"X-Twilio-Signature": "forged"})
    client.post("/fallback", data=form, headers={"X-Twilio-Signature": sign(BASE + "/fallback", form)})  # Twilio's
    client.post("/fallback", data=form)  # unsigned: answered all the same, counted apart
    client.post("/nope", data=form)  # a scanner
    client.get("/health"), client.get("/ready")  # probes are not counted
    client.post("/voice", data={"Junk": "x" * (70 * 1024)},
                headers={"X-Twilio-Signature": sign(BASE + "/voice", {})})  # too big: 413

    samples, _ = scrape(client)
    assert value(samples, "ivr_requests_total", webhook="voice", status="200") == 1
    assert value(samples, "ivr_requests_total", webhook="menu", status="200") == 1
    assert value(samples, "ivr_requests_total", webhook="dialed", status="200") == 2
    assert value(samples, "ivr_requests_total", webhook="voice", status="403") == 1
    assert value(samples, "ivr_requests_total", webhook="menu", status="403") == 1
    assert value(samples, "ivr_requests_total", webhook="fallback", status="200") == 2
    assert value(samples, "ivr_requests_total", webhook="other", status="404") == 1
    assert value(samples, "ivr_requests_total", webhook="voice", status="413") == 1
    requests = {labels: v for (name, labels), v in samples.items() if name == "ivr_requests_total"}
    assert sum(requests.values()) == 10  # nothing else counted: not /health, /ready, /metrics
    assert value(samples, "ivr_signature_refusals_total", reason="signature") == 2
    assert value(samples, "ivr_signature_refusals_total", reason="shared_key") == 0
    assert value(samples, "ivr_fallback_answers_total", reason="fallback_url") == 1
    assert value(samples, "ivr_fallback_answers_total", reason="unsigned") == 1  # no alarm for a primary handler
    assert value(samples, "ivr_fallback_answers_total", reason="error") == 0
    # the latency histogram has seen each of them, in its webhook's series
    for webhook, count in (("voice", 3), ("menu", 2), ("dialed", 2), ("fallback", 2), ("other", 1)):
        assert value(samples, "ivr_request_duration_seconds_count", webhook=webhook) == count
        assert value(samples, "ivr_request_duration_seconds_bucket", webhook=webhook, le="+Inf") == count
        assert 0 < value(samples, "ivr_request_duration_seconds_sum", webhook=webhook) < 15 * count
    assert value(samples, "ivr_config_generation") == 1
    for result in RELOAD_RESULTS:  # reloads happen in gunicorn's master: 0 in one process
        assert ("ivr_config_reloads_total", (("result", result),)) in samples


def test_a_failing_webhook_counts_as_a_fallback_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(flow, "start", boom)
    app = metrics_app()
    client = app.test_client()
    Call(client).start()  # answered with the fallback, still 200
    samples, _ = scrape(client)
    assert value(samples, "ivr_fallback_answers_total", reason="error") == 1
    assert value(samples, "ivr_requests_total", webhook="voice", status="200") == 1


def test_a_figure_that_cannot_be_counted_never_costs_the_answer(monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    app = metrics_app()
    metrics = app.extensions["ivr.metrics"]

    def full_disk(reason: str) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(metrics, "fallback", full_disk)
    response = app.test_client().post("/fallback")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == app.extensions["ivr.service"].renderer.fallback()
    assert "could not count a figure: OSError" in caplog.text


def test_a_shared_key_refusal_names_its_reason() -> None:
    client = metrics_app(TWILIO_AUTH_TOKEN=TOKEN).test_client()
    client.post("/voice", data=twilio_form(), headers={
        "X-Twilio-Signature": "x", "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"})
    samples, _ = scrape(client)
    assert value(samples, "ivr_signature_refusals_total", reason="shared_key") == 1


def test_the_generation_is_the_apps() -> None:
    settings = Settings.from_env({"IVR_METRICS_TOKEN": METRICS_TOKEN})
    samples, _ = scrape(create_app(bundled_config(), settings, generation=7).test_client())
    assert value(samples, "ivr_config_generation") == 7


def test_no_caller_field_reaches_a_series() -> None:
    """Label names and values are fixed words; the caller's number, the CallSid, a query or an
    odd path never show up, whatever the request carried."""
    client = metrics_app().test_client()
    call = Call(client)
    call.start()
    call.press("0")
    odd = f"/voice{CALLER_NUMBER}"
    client.post(odd, data=twilio_form())
    client.post(f"/menu?n=main&l=de&From={CALLER_NUMBER}", data=twilio_form(Digits="1"))
    client.get(f"/voice?From={CALLER_NUMBER}&CallSid={CALL_SID}")
    client.post("/dialed", data=twilio_form(DialCallStatus=CALLER_NUMBER))
    samples, text = scrape(client)
    for needle in (CALLER_NUMBER, CALLER_NUMBER.lstrip("+"), CALL_SID, "BERLIN", "n=main"):
        assert needle not in text
    for (name, labels), _ in samples.items():
        for label, label_value in labels:
            if label == "le":  # a histogram bucket's bound
                continue
            assert label_value in LABEL_VALUES[label], (name, label, label_value)


# -- /ready ---------------------------------------------------------------------------------

def test_ready_when_the_config_is_loaded() -> None:
    client = make_app(TUE, token=TOKEN).test_client()  # no signature needed
    response = client.get("/ready")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ready\n")


def test_not_ready_without_a_config() -> None:
    app = make_app(TUE)
    app.extensions["ivr.service"] = None
    response = app.test_client().get("/ready")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready: config\n")


def test_a_readiness_check_that_fails_or_breaks_is_503_not_500(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(TUE)

    def broken() -> bool:
        raise ConnectionError(CALLER_NUMBER)

    app.extensions["ivr.ready_checks"].update(database=broken, cache=lambda: False)
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "not ready: database, cache\n"
    assert "readiness check database failed with ConnectionError" in caplog.text
    assert CALLER_NUMBER not in caplog.text
    assert app.test_client().get("/health").status_code == 200  # alive all the same


# -- IVR_LOG_FORMAT=json ----------------------------------------------------------------------

@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged, through the JSON formatter `ivr serve` uses, into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_json_logs_are_one_object_per_line_and_carry_nothing_of_the_caller(
        json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    app = metrics_app(TWILIO_AUTH_TOKEN=TOKEN)  # IVR_NOW set: a warning
    client = app.test_client()
    call = Call(client)
    call.start()
    client.post("/voice", data=twilio_form())  # refused: a warning
    monkeypatch.setattr(flow, "key_pressed", lambda *a, **k: 1 / 0)
    call.press("0")  # fails: an error, answered with the fallback
    lines = json_log.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) >= 3
    for record in records:
        assert isinstance(record, dict)
        assert {"time", "level", "logger", "pid", "message"} <= set(record), record
        assert record["time"].endswith("+00:00")
    messages = [(r["level"], r["logger"], r["message"]) for r in records]
    assert any(level == "WARNING" and "IVR_NOW" in message for level, _, message in messages)
    assert ("WARNING", "ivr.web", "refused a request to /voice: missing or wrong X-Twilio-Signature") in messages
    assert any(level == "ERROR" and "ZeroDivisionError" in message for level, _, message in messages)
    text = json_log.getvalue()
    for needle in (CALLER_NUMBER, CALLER_NUMBER.lstrip("+"), CALL_SID, "BERLIN"):
        assert needle not in text


def test_a_traceback_stays_inside_its_line(json_log: io.StringIO) -> None:
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        logging.getLogger("ivr.test").exception("it broke")
    (line,) = json_log.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "it broke"
    assert record["exc_info"][-1] == "line two" and record["exc_info"][0].startswith("Traceback")


def test_an_unknown_log_format_stops_serve_before_anything_starts() -> None:
    result = CliRunner().invoke(main, ["serve", "--dev", "--port", "1"], env={"IVR_LOG_FORMAT": "xml"})
    assert result.exit_code == 2
    assert result.output.strip() == "IVR_LOG_FORMAT: 'xml' is not a log format; expected one of text, json"
