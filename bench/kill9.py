"""How many counts a worker killed outright (kill -9) takes with it.

    .venv/bin/python bench/kill9.py                 # 5 kills at 20 calls/s, SQLite
    .venv/bin/python bench/kill9.py --kills 3 --rate 10

Starts `ivr serve --dev --workers 2` on a fresh SQLite state folder, makes whole calls as
Twilio does (tests/twilio_standin.py's CallLoad) at RATE calls a second, kills one worker with
SIGKILL every 4 s (gunicorn starts another), then stops gracefully and compares the calls made
with the calls `ivr report` counts. What a killed worker had not flushed yet is lost: at most
FLUSH_SECONDS (ivr/store/live.py) of that worker's calls."""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_reload import Server  # noqa: E402
from test_serving import _children  # noqa: E402
from twilio_standin import CallLoad  # noqa: E402
from twiml_helpers import SERVICE_NUMBER  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ivr-kill9-"))
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_AUTH_TOKEN", "IVR_DATABASE_URL")}
    env.update(IVR_NOW="2026-11-24T15:30", IVR_STATE_DIR=str(work / "state"), PYTHONUNBUFFERED="1")
    server = Server(work, env, "--dev", "--workers", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if server.request("GET", "/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    load = CallLoad(server.port, SERVICE_NUMBER, rate=args.rate).start()
    try:
        for _ in range(args.kills):
            time.sleep(4)
            os.kill(sorted(_children(server.proc.pid))[0], signal.SIGKILL)
        time.sleep(4)
    finally:
        load.stop()
        server.stop()
    report = subprocess.run([str(ROOT / ".venv/bin/ivr"), "report", "--from", "2026-11-24", "--to", "2026-11-24",
                             "--format", "json"], env={**env, "IVR_NOW": ""}, capture_output=True, text=True,
                            check=True)
    counted = json.loads(report.stdout)["totals"]["calls"]
    made = len(load.dialled)
    print(f"{args.kills} kills at {args.rate:g} calls/s (2 workers): {made} calls made, {counted} counted, "
          f"{made - counted} lost = {(made - counted) / args.kills:.1f} calls per kill "
          f"({len(load.errors)} calls failed: {load.errors[:3]})")


if __name__ == "__main__":
    main()
