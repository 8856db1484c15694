"""Running the webhooks under gunicorn, with reload on SIGHUP that never serves a broken config.

The master process loads and validates the config before the port opens. Workers are forked
from it and build their app from the master's last good config, so a SIGHUP with a broken file
logs the problems and keeps serving what worked.

A reload never loads in the master itself: a file that hangs on read (a stuck network mount)
or takes long to build would stop the master from supervising its workers. SIGHUP forks a
loader process; the master goes on with its loop, collects the loader's result (the new config,
pickled, or the problems) and only then restarts the workers. A loader that takes longer than
the time limit is killed. Whatever goes wrong while loading, the last good config keeps serving.

Workers are gevent workers (ivr/serve/gunicorn_worker.py): slow and idle clients cost a greenlet, and
header and body reads run under deadlines."""
from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import sys
import time
from typing import Any, Mapping

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from ivr.serve import logs, metrics
from ivr.config.settings import Settings
from ivr.console.settings import ConsoleSettings
from ivr.config.errors import ConfigInvalid
from ivr.config.loading import Config, load_config
from ivr.store.database import StoreSettings
from ivr.store.live import Live
from ivr.store.readiness import ReadyBoard
from ivr.serve.web import create_app, make_clock

log = logging.getLogger("ivr.server")

RELOAD_TIME_LIMIT = 30.0  # seconds; IVR_RELOAD_TIMEOUT overrides
HEADER_TIMEOUT = 5  # seconds for a request's headers, and for the first byte of a connection


class SettingError(ValueError):
    pass


def reload_time_limit(env: Mapping[str, str] | None = None) -> float:
    """IVR_RELOAD_TIMEOUT in seconds (default RELOAD_TIME_LIMIT); SettingError when unusable."""
    env = os.environ if env is None else env
    text = env.get("IVR_RELOAD_TIMEOUT") or ""
    if not text:
        return RELOAD_TIME_LIMIT
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise SettingError(f"IVR_RELOAD_TIMEOUT: {text!r} is not a time limit; expected seconds "
                           f"between 0 and 3600, e.g. 30")
    return value


class PendingLoad:
    """A forked process loading the config; the master polls it without ever blocking."""

    def __init__(self, settings: Settings, time_limit: float, close_in_child: list[Any]) -> None:
        self.settings = settings
        self.deadline = time.monotonic() + time_limit
        self.time_limit = time_limit
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the loader: load, send the result, exit; never returns
            os.close(read_fd)
            _load_in_child(settings, write_fd, time_limit, close_in_child)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self._fd: int | None = read_fd
        self._data = bytearray()

    def poll(self) -> tuple[str, Any] | None:
        """("ok", Config), ("invalid", report), ("error", text) once the loader is done; None
        while it is still loading. A loader past its time limit is killed: ("timeout", ...)."""
        assert self._fd is not None
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            if not chunk:  # end of file: the loader wrote everything, or died
                return self._finish()
            self._data += chunk
        if time.monotonic() > self.deadline:
            self.cancel()
            return "timeout", (f"loading did not finish within {self.time_limit:g} s (a file that "
                               f"cannot be read, e.g. on a stuck mount?); the loader was stopped")
        return None

    def cancel(self) -> None:
        if self._fd is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)  # gunicorn's SIGCHLD handling reaps it
            except ProcessLookupError:
                pass
            os.close(self._fd)
            self._fd = None

    def _finish(self) -> tuple[str, Any]:
        os.close(self._fd)  # type: ignore[arg-type]
        self._fd = None
        try:
            return pickle.loads(bytes(self._data))
        except Exception as exc:  # the loader died before it could say anything
            return "error", f"the loader process ended without an answer ({type(exc).__name__})"


def _load_in_child(settings: Settings, write_fd: int, time_limit: float, close: list[Any]) -> None:
    status = 0
    try:
        for number in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGCHLD,
                       signal.SIGUSR1, signal.SIGUSR2, signal.SIGTTIN, signal.SIGTTOU, signal.SIGWINCH):
            signal.signal(number, signal.SIG_DFL)  # the master's handlers are not ours
        # A failsafe should the master die meanwhile: the kernel ends a hung loader
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(int(time_limit) + 5)
        for listener in close:  # never hold the port open after the master is gone
            listener.close()
        try:
            result: tuple[str, Any] = "ok", load_config(settings.data_dir, settings.prompts_dir)
        except ConfigInvalid as problems:
            result = "invalid", problems.report()
        except BaseException as exc:  # anything at all: the master keeps the last good config
            result = "error", f"{type(exc).__name__}: {exc}"
        data = pickle.dumps(result)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    except BaseException:
        status = 1
    finally:
        os._exit(status)


class HelplineArbiter(Arbiter):
    """gunicorn's master, with SIGHUP loading the config in a PendingLoad."""

    app: "HelplineServer"

    def __init__(self, app: "HelplineServer") -> None:
        super().__init__(app)
        self.pending: PendingLoad | None = None

    def handle_hup(self) -> None:
        self.log.info("Hang up: %s", self.master_name)
        if self.pending is not None:
            log.warning("a reload was still loading; it is replaced by this one")
            self.pending.cancel()
        try:
            self.pending = PendingLoad(self.app.settings, self.app.reload_limit, self.LISTENERS)
        except OSError as exc:  # no process to be had (a limit reached): nothing changes
            log.error("reload failed, still serving the last good config: cannot start a loader "
                      "process (%s)", exc)
            return
        log.info("reload: loading the configuration in process %d (time limit %g s)",
                 self.pending.pid, self.pending.time_limit)

    def manage_workers(self) -> None:
        pending = self.pending
        result = pending.poll() if pending is not None else None
        if result is not None:
            self.pending = None
            try:
                self._apply(*result)
            except Exception as exc:  # the master must outlive any reload
                log.error("reload failed, still serving the last good config: %s: %s", type(exc).__name__, exc)
        super().manage_workers()

    def _apply(self, outcome: str, value: Any) -> None:
        settings = self.app.settings
        if outcome == "ok" and isinstance(value, Config):
            self.app.config_good = value
            self.app.generation += 1
            metrics.count_reload(ok=True)
            log.warning("reloaded the configuration from %s and %s", settings.data_dir, settings.prompts_dir)
            self.reload()  # gunicorn's own: new workers (built from config_good), old ones stopped
            return
        metrics.count_reload(ok=False)
        if outcome == "invalid":
            log.error("reload refused, still serving the last good config:\n%s", value)
        else:
            log.error("reload failed, still serving the last good config: %s", value)

    def stop(self, graceful: bool = True) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        super().stop(graceful)


class HelplineServer(BaseApplication):
    # The console's settings, decided in the master: every worker signs with the same key.
    console: ConsoleSettings | None = None

    def __init__(self, settings: Settings, config: Config, options: dict[str, Any],
                 reload_limit: float = RELOAD_TIME_LIMIT) -> None:
        self.settings = settings
        self.config_good = config
        self.generation = 1  # of config_good: one more for each accepted reload
        self.options = options
        self.reload_limit = reload_limit
        # Made before any worker is forked: every worker, old or new, answers /ready from it.
        self.ready_board = ReadyBoard()
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)
        # this service's own hooks, kept out of `options` (which bench/ hands to a bare app as JSON)
        self.cfg.set("child_exit", metrics.child_exit)
        self.cfg.set("worker_exit", _flush_on_exit)  # a worker's last counts go to the database
        logconfig = logs.gunicorn_logconfig(self.settings.log_format)
        if logconfig:
            self.cfg.set("logconfig_dict", logconfig)

    def load(self) -> Any:
        # Runs in each worker after the fork: its own connections, its own store thread.
        global _worker_live
        clock = make_clock(self.settings, self.config_good)
        _worker_live = Live.from_settings(StoreSettings.from_env(), self.config_good.directory.timezone,
                                          clock, self.ready_board).start()
        app = create_app(self.config_good, self.settings, clock, generation=self.generation,
                         live=_worker_live, console=self.console)
        # Everything built so far (config, index, modules) lives as long as the worker: keep it
        # out of the garbage collector's scans, which otherwise walk it again and again.
        gc.freeze()
        return app

    def run(self) -> None:
        try:
            HelplineArbiter(self).run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)


_worker_live: Live | None = None


def _flush_on_exit(_arbiter: Any, _worker: Any) -> None:
    """gunicorn's worker_exit hook: the worker's last counts go to the database."""
    if _worker_live is not None:
        _worker_live.stop()


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    """What `ivr serve` hands to gunicorn (bench/run.py runs its bare baseline with the same)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gevent: a connection is a greenlet, so slow and idle clients cannot take the workers
        "worker_class": "ivr.serve.gunicorn_worker.HelplineWorker",
        "worker_connections": 1000,  # per worker; each open connection holds one
        # gevent workers read every request's headers (and wait for a connection's first byte)
        # under this deadline, then drop the connection; bodies: gunicorn_worker.BODY_TIMEOUT
        "keepalive": HEADER_TIMEOUT,
        "timeout": 10,  # Twilio gives up after 15 s; a stuck worker is restarted before that
        "graceful_timeout": 10,
        "preload_app": False,  # workers build from config_good, which a reload may replace
        "accesslog": None,  # no access log: it is not needed and keeps request data out of logs
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": "ivr.serve.gunicorn_worker.PrivateLogger",  # no query string in any log line
        # gunicorn >= 24 opens a control socket at a fixed path; two servers on one machine
        # would share it. Not needed here (signals do the job), and skipped on older gunicorn.
        "control_socket_disable": True,
    }


def serve(settings: Settings, config: Config, host: str, port: int, workers: int,
          reload_limit: float = RELOAD_TIME_LIMIT, console: ConsoleSettings | None = None) -> None:
    server = HelplineServer(settings, config, gunicorn_options(host, port, workers), reload_limit)
    server.console = console
    server.run()
