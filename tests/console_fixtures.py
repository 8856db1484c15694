"""Fixtures for the console's tests: operator accounts, seeded hourly counts, a live `ivr serve`
on loopback, and headless Chromium from Debian's packages driven by Selenium.

Without Chromium the browser tests are skipped with a message saying what to install, except
where IVR_REQUIRE_BROWSER=1 (CI): there they fail."""
from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, insert

from ivr.store import events as ev
from ivr.store import migrate
from ivr.store.database import StoreSettings, make_engine
from ivr.store.schema import counts_hourly

CHROMIUM = Path(os.environ.get("IVR_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("IVR_CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOTS = Path(os.environ.get("IVR_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "screenshots")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1360,1000")
PINNED = "2026-11-30T10:30"  # a Monday morning: abuse-helpline, hateaid and parents-line open, in that order
EDITOR, VIEWER, PASSWORD = "erika", "victor", "correct horse battery"
LINES = ("kids-line", "parents-line", "hateaid", "abuse-helpline")


def seed_counts(engine: Engine, first: dt.date, last: dt.date, seed: int = 7) -> int:
    """Plausible hourly counts over local dates first..last; returns the number of calls."""
    rng = random.Random(seed)
    rows, calls = [], 0
    day = first
    while day <= last:
        for hour in range(24):
            busy = 9 <= hour < 21
            n = rng.randint(2, 14) if busy else rng.randint(0, 3)
            if not n:
                continue
            at = dt.datetime.combine(day, dt.time(hour))
            calls += n
            rows.append({"hour": at, "event": ev.CALL, "dimension": "started", "count": n, "seconds": 0})
            guided = n // 3  # a third go to the guidance; some hang up at the main menu or there
            rows += [{"hour": at, "event": ev.ENTERED, "dimension": "main", "count": n, "seconds": 0},
                     {"hour": at, "event": ev.LEFT, "dimension": "main", "count": n - hour % 2, "seconds": 0},
                     {"hour": at, "event": ev.ENTERED, "dimension": "guidance", "count": guided, "seconds": 0},
                     {"hour": at, "event": ev.LEFT, "dimension": "guidance", "count": guided // 2, "seconds": 0}]
            if not busy or day.weekday() >= 5:
                rows.append({"hour": at, "event": ev.UNMET, "dimension": "adult/later", "count": n, "seconds": 0})
                continue
            line = LINES[rng.randrange(len(LINES))]
            talks = max(n - 2, 0)
            other = ("busy", "no_answer", "failed", "short_completed")[rng.randrange(4)]
            rows += [{"hour": at, "event": ev.DIAL_ATTEMPT, "dimension": line, "count": n, "seconds": 0},
                     {"hour": at, "event": ev.DIAL_OUTCOME, "dimension": f"{line}/completed", "count": talks, "seconds": 0},
                     {"hour": at, "event": ev.DIAL_OUTCOME, "dimension": f"{line}/{other}", "count": n - talks, "seconds": 0},
                     {"hour": at, "event": ev.TALK, "dimension": line, "count": talks, "seconds": talks * 600}]
        day += dt.timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(insert(counts_hourly), [r for r in rows if r["count"]])
    return calls


def ivr_env(state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL", "WEB_CONCURRENCY", "IVR_DATABASE_URL",
                        "IVR_SECRET_KEY", "IVR_NOW")}
    env.update(IVR_STATE_DIR=str(state_dir), PYTHONUNBUFFERED="1", **extra)
    return env


def add_user(env: dict[str, str], name: str, role: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    from test_reload import _ivr_command
    return subprocess.run([*_ivr_command(), "user", "add", name, "--role", role, "--password-stdin", "--by", "tests"],
                          input=password + "\n", env=env, capture_output=True, text=True, timeout=60)


def chromium_missing() -> str | None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return None
    return f"{', '.join(missing)} not found: apt-get install -y chromium chromium-driver"


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Say plainly, at the end of every run, whether the browser tests ran."""
    problem = chromium_missing()
    if problem:
        terminalreporter.write_line(f"console browser tests NOT run: {problem}", yellow=True, bold=True)


@pytest.fixture(scope="module")
def chromium() -> None:
    """Skip (locally) or fail (IVR_REQUIRE_BROWSER=1, as in CI) when Chromium is not installed."""
    problem = chromium_missing()
    if problem:
        if os.environ.get("IVR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"IVR_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(f"browser tests skipped: {problem}")


@pytest.fixture(scope="module")
def console_server(chromium: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One `ivr serve --dev` for the browser tests: accounts, two months of counts, clock pinned."""
    from test_reload import Server
    workdir = tmp_path_factory.mktemp("console-serve")
    state = workdir / "state"
    env = ivr_env(state, IVR_NOW=PINNED, IVR_SECRET_KEY="k" * 48)
    engine = make_engine(StoreSettings.from_env(env))
    migrate.upgrade(engine)
    seed_counts(engine, dt.date(2026, 10, 1), dt.date(2026, 11, 29))
    engine.dispose()
    for name, role in ((EDITOR, "editor"), (VIEWER, "viewer")):
        made = add_user(env, name, role)
        assert made.returncode == 0, made.stderr
    server = Server(workdir, env, "--dev", "--workers", "2")
    server.wait_healthy()
    server.env = env  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(console_server: object) -> Iterator[object]:
    """One headless Chromium for the browser tests, with a fresh profile; its console log is read.
    It goes before the server does, so that no kept-alive connection holds up the server's stop."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="ivr-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
