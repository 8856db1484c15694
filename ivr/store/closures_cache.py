"""The live closures last read from the database, kept in a file under IVR_STATE_DIR.

A worker that starts while the database is away (a crash, a timeout, a reload) has never read
the closures itself. Without this file it would obey none, and dial a line an operator closed
by hand. Every worker writes the closures here whenever it reads a new version, and reads the
file when it starts, before its first poll; what the database says replaces it as soon as the
database answers.

The file holds line ids, end times and the closures' version: nothing about any caller."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from pathlib import Path

from .closures import LiveClosure

log = logging.getLogger("ivr.store")

FILE_NAME = "closures.json"


def path_in(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def save(path: Path, version: int, closures: tuple[LiveClosure, ...]) -> None:
    """Replace the file in one step (write a temporary file, then rename it): a reader sees the
    old closures or the new ones, never half a file. Raises OSError when it cannot be written."""
    data = {"version": version, "closures": [
        {"line_id": c.line_id, "closed_at": c.closed_at.isoformat(),
         "until": c.until.isoformat() if c.until else None} for c in closures]}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".closures-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> tuple[int | None, tuple[LiveClosure, ...]]:
    """(version, closures) from the file; (None, ()) when there is none or it cannot be used
    (then the log says why: a worker without it obeys only what the database tells it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = tuple(LiveClosure(item["line_id"], dt.datetime.fromisoformat(item["closed_at"]),
                                  _until(item.get("until")),
                                  "", "")
                      for item in data["closures"])
        return int(data["version"]), found
    except FileNotFoundError:
        return None, ()
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.error("cannot read the closures kept in %s (%s: %s); obeying only what the database says",
                  path, type(error).__name__, error)
        return None, ()


def _until(text: str | None) -> dt.datetime | None:
    """A closure's end as kept; none (or a file written before ends were kept): until reopened,
    the safe reading, since the database's answer replaces it within seconds."""
    if text is None:
        return None
    until = dt.datetime.fromisoformat(text)
    if until.tzinfo is None or until.utcoffset() is None:
        raise ValueError(f"until {text!r} has no UTC offset; expected an aware instant")
    return until
