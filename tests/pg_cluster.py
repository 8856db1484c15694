"""A throwaway PostgreSQL cluster: initdb in a temporary folder, started as the `postgres` user on
a free port, stopped and removed afterwards. Used by the tests and by `make bench`."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
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


class Cluster:
    """A running throwaway cluster that a test may stop, start, freeze (SIGSTOP) and thaw."""

    def __init__(self, base: Path, port: int) -> None:
        self.base, self.port = base, port
        self.data = base / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        self.running = False

    def start(self) -> None:
        # Durability is not needed for a throwaway cluster: fsync off keeps it fast.
        options = (f"-p {self.port} -k {self.base / 'sockets'} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"), "-w",
                     "-t", "30", "-o", options, "start")
        self.running = True

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` at the end of a test; `fast` for an outage that keeps what was committed
        (with fsync and synchronous_commit off, an immediate stop forgets the last commits)."""
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def _pids(self) -> list[int]:
        """The postmaster and every process it started (backends, writer, ...)."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [master, *map(int, children)]

    def freeze(self) -> None:
        """SIGSTOP every process of the cluster: connections stay open, nothing answers."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """A started throwaway cluster, stopped and removed afterwards."""
    if not (PG_BIN / "initdb").exists():
        raise ClusterMissing(f"PostgreSQL server binaries not found in {PG_BIN}: apt-get install -y postgresql")
    base = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
    sockets = base / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    found = Cluster(base, free_port())
    try:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(found.data), "-A", "trust", "-U", "postgres",
                     "-E", "UTF8", "--no-sync", "--no-instructions")
        found.start()
        yield found
    finally:
        if found.running:
            with contextlib.suppress(Exception):
                found.thaw()
            found.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Yields the server's URL without a database name: postgresql+psycopg://postgres@127.0.0.1:PORT"""
    with cluster() as found:
        yield found.url
