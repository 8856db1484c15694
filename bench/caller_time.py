"""The caller's time spoken by espeak-ng: the six measures at the instants the issue measured,
and the error of the estimate that `make test` uses where espeak-ng is missing.

    make bench            (runs this after the load benchmark)
    .venv/bin/python bench/caller_time.py

Installs espeak-ng (Debian package) when it is missing. Exits 1 when a goal is missed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from run import ensure_tool  # the benchmarks' way of installing a missing tool

INSTANTS = {  # Europe/Berlin wall time
    "2026-12-01T16:30": "Tuesday afternoon, all four lines open",
    "2026-12-01T09:30": "Tuesday morning, only the parents' line open",
    "2026-11-28T22:00": "Saturday night, nothing open",
}


def main() -> int:
    ensure_tool("espeak-ng", "espeak-ng")
    ivr = str(Path(sys.executable).with_name("ivr"))
    missed = False
    for at, what in INSTANTS.items():
        print(f"\n# {what}")
        done = subprocess.run([ivr, "caller-time", "--at", at, "--engine", "espeak"])
        missed |= done.returncode != 0
    print("\n# the estimate against espeak-ng")
    subprocess.run([sys.executable, str(Path(__file__).with_name("speech_calibration.py"))], check=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
