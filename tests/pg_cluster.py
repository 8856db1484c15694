"""A throwaway PostgreSQL cluster: initdb in a temporary folder, started as the `postgres` user on
a free port, stopped and removed afterwards. Used by the tests and by `make bench`."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

PG_BIN = Path(os.environ.get("IVR_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ClusterMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> None:
    """Run a server command as `postgres` (initdb and postgres refuse to run as root)."""
    if os.geteuid() == 0:
        command = ("runuser", "-u", "postgres", "--", *command)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Yields the server's URL without a database name: postgresql+psycopg://postgres@127.0.0.1:PORT"""
    if not (PG_BIN / "initdb").exists():
        raise ClusterMissing(f"PostgreSQL server binaries not found in {PG_BIN}: apt-get install -y postgresql")
    base = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    started = False
    try:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                     "-E", "UTF8", "--no-sync", "--no-instructions")
        # Durability is not needed for a throwaway cluster: fsync off keeps it fast.
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                     "-t", "30", "-o", options, "start")
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        if started:
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
