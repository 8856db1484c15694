"""How fast the console's pages answer with a year of hourly counts in the database.

    .venv/bin/python bench/console_pages.py                      # SQLite file under bench/results/
    .venv/bin/python bench/console_pages.py --database postgresql  # a throwaway PostgreSQL cluster

Seeds 365 days x 24 hours of counts with the mix a live service writes (calls, languages, menu
choices, audiences, guidance, dial attempts and outcomes per line, talks, unmet demand, reasons:
about 20 rows an hour), logs in through the real login form, and times every page in-process
through Flask's test client (as a worker serves it; no network). Prints the median and the
slowest of REPEAT requests per page against the goal of 300 ms; results also go to
bench/results/console_pages.json."""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GOAL_MS = 300.0
REPEAT = 7
NOW = dt.datetime(2026, 11, 30, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
PAGES = ("/console/", "/console/coverage", "/console/demand", "/console/demand?from=2025-12-01&to=2026-11-30",
         "/console/outcomes", "/console/report?month=2026-10", "/console/report.csv?month=2026-10",
         "/console/health", "/console/try")
LINES = ("kids-line", "parents-line", "hateaid", "abuse-helpline")


def year_of_counts(last: dt.date) -> list[dict]:
    rng = random.Random(1)
    rows = []
    for n in range(365 * 24):
        hour = dt.datetime.combine(last, dt.time()) - dt.timedelta(hours=n)
        def add(event: str, dimension: str, count: int, seconds: int = 0) -> None:
            rows.append({"hour": hour, "event": event, "dimension": dimension, "count": count, "seconds": seconds})
        add("call", "started", rng.randint(1, 30))
        add("language", "en", rng.randint(1, 4))
        for key in ("0", "1", "2", "3"):
            add("main_choice", key, rng.randint(1, 8))
        for audience in ("young_person", "parent", "adult", "supporter"):
            add("audience", audience, rng.randint(1, 6))
        add("guidance", "advice.blackmail", rng.randint(1, 5))
        for line in rng.sample(LINES, 2):
            add("dial_attempt", line, rng.randint(1, 9))
            add("dial_outcome", f"{line}/completed", rng.randint(1, 6))
            add("dial_outcome", f"{line}/busy", rng.randint(1, 3))
            add("talk", line, rng.randint(1, 6), rng.randint(60, 3000))
        add("unmet", "adult/later", rng.randint(1, 5))
        add("no_connection", "nothing_open", rng.randint(1, 4))
    return rows


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="console-bench-", dir=RESULTS))
        yield f"sqlite:///{folder / 'ivr.sqlite3'}"
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_cluster import throwaway_cluster  # the tests' own throwaway cluster
    import psycopg
    with throwaway_cluster() as server:
        with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
            c.execute('CREATE DATABASE "console_bench"')
        yield f"{server}/console_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with database(args.database) as url:
        os.environ["IVR_DATABASE_URL"] = url
        from sqlalchemy import insert

        from ivr.config.settings import Settings
        from ivr.console import accounts
        from ivr.console.settings import ConsoleSettings
        from ivr.config.loading import load_config
        from ivr.store import migrate
        from ivr.store.database import StoreSettings, make_engine
        from ivr.store.schema import counts_hourly
        from ivr.serve.web import create_app

        engine = make_engine(StoreSettings.from_env())
        migrate.upgrade(engine)
        rows = year_of_counts(NOW.date())
        with engine.begin() as connection:
            connection.execute(insert(counts_hourly), rows)
        accounts.add(engine, "bench", "editor", "bench password", by="bench", now=NOW)
        settings = Settings.from_env({})
        app = create_app(load_config(settings.data_dir, settings.prompts_dir), settings, clock=lambda: NOW,
                         console=ConsoleSettings("b" * 40, secure_cookies=False))
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").get_data(as_text=True))
        assert token, "no login form"
        assert client.post("/console/login", data={"username": "bench", "password": "bench password",
                                                   "csrf_token": token.group(1)}).status_code == 302
        results = {}
        print(f"{len(rows)} hourly rows over 365 days, {args.database}; {REPEAT} requests per page, goal {GOAL_MS:.0f} ms")
        for page in PAGES:
            times = []
            for _ in range(REPEAT):
                start = time.perf_counter()
                response = client.get(page)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (page, response.status_code)
            median, worst = statistics.median(times), max(times)
            results[page] = {"median_ms": round(median, 1), "max_ms": round(worst, 1)}
            verdict = "ok" if worst <= GOAL_MS else "OVER GOAL"
            print(f"  {page:<48} median {median:7.1f} ms   slowest {worst:7.1f} ms   {verdict}")
        engine.dispose()
    (RESULTS / f"console_pages_{args.database}.json").write_text(json.dumps(
        {"database": args.database, "rows": len(rows), "goal_ms": GOAL_MS, "pages": results}, indent=2))
    return 0 if all(r["max_ms"] <= GOAL_MS for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
