"""When the store last worked, shared by every worker of one server, for GET /ready.

Each worker polls the closures and flushes its counts on its own schedule. Asked separately,
two workers of one server gave different answers while the database was frozen (a load
balancer saw /ready flip thirty times a minute). So the times of the last closures check and
the last flush that succeeded, in any worker, live in one small shared memory page that the
gunicorn master makes before it forks its workers: every worker answers /ready from the same
two numbers. Times are time.monotonic(), which on Linux is one clock for all processes."""
from __future__ import annotations

import mmap
import struct
import time

_LAYOUT = struct.Struct("dd")  # last closures check, last flush; 0.0: never
_FIELD = struct.Struct("d")
CHECKED, FLUSHED = 0, 1
STALE_SECONDS = 30.0  # IVR_READY_STALE_SECONDS: older than this, the store is not ready


class ReadyBoard:
    def __init__(self) -> None:
        # Anonymous and shared: the memory of one server's master and all its forked workers.
        self._memory = mmap.mmap(-1, _LAYOUT.size, flags=mmap.MAP_SHARED)

    def mark(self, which: int) -> None:
        """The closures check (CHECKED) or a flush (FLUSHED) succeeded now."""
        # One 8-byte field per write: a worker marking one never overwrites the other.
        offset = which * _FIELD.size
        (before,) = _FIELD.unpack_from(self._memory, offset)
        _FIELD.pack_into(self._memory, offset, max(before, time.monotonic()))

    def ages(self) -> tuple[float | None, float | None]:
        """Seconds since the last closures check and the last flush that succeeded; None: never."""
        now = time.monotonic()
        return tuple(now - at if at else None for at in _LAYOUT.unpack_from(self._memory))  # type: ignore[return-value]


def verdict(board: ReadyBoard, stale_seconds: float) -> tuple[bool, str]:
    """(ready?, what /ready says about the database)."""
    checked, flushed = board.ages()
    ready = all(age is not None and age <= stale_seconds for age in (checked, flushed))
    return ready, (f"closures checked {_ago(checked)}, counts written {_ago(flushed)} "
                   f"(limit {stale_seconds:g} s)")


def _ago(age: float | None) -> str:
    return "never" if age is None else f"{age:.0f} s ago"
