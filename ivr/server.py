"""Running the webhooks under gunicorn, with reload on SIGHUP that never serves a broken config.

The master process loads and validates the config before the port opens. Workers are forked
from it and build their app from the master's last good config, so a SIGHUP with a broken file
logs the problems and keeps serving what worked."""
from __future__ import annotations

import gc
import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from .config import Settings
from .console.settings import ConsoleSettings
from .errors import ConfigInvalid
from .loading import Config, load_config
from .store.database import StoreSettings
from .store.live import Live
from .web import create_app, make_clock

log = logging.getLogger("ivr.server")


class HelplineServer(BaseApplication):
    # The console's settings, decided in the master: every worker signs with the same key.
    console: ConsoleSettings | None = None

    def __init__(self, settings: Settings, config: Config, options: dict[str, Any]) -> None:
        self.settings = settings
        self.config_good = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork: its own connections, its own store thread.
        global _worker_live
        clock = make_clock(self.settings, self.config_good)
        _worker_live = Live.from_settings(StoreSettings.from_env(), self.config_good.directory.timezone,
                                          clock).start()
        app = create_app(self.config_good, self.settings, clock, _worker_live, self.console)
        # Everything built so far (config, index, modules) lives as long as the worker: keep it
        # out of the garbage collector's scans, which otherwise walk it again and again.
        gc.freeze()
        return app

    def reload(self) -> None:
        """SIGHUP: re-read the files; new workers get the new config only if it is valid."""
        super().reload()
        try:
            self.config_good = load_config(self.settings.data_dir, self.settings.prompts_dir)
        except ConfigInvalid as problems:
            log.error("reload refused, still serving the last good config:\n%s", problems.report())
        else:
            log.warning("reloaded the configuration from %s and %s",
                        self.settings.data_dir, self.settings.prompts_dir)


_worker_live: Live | None = None


def _flush_on_exit(_arbiter: Any, _worker: Any) -> None:
    """gunicorn's worker_exit hook: the worker's last counts go to the database."""
    if _worker_live is not None:
        _worker_live.stop()


def serve(settings: Settings, config: Config, host: str, port: int, workers: int,
          console: ConsoleSettings | None = None) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 10,  # Twilio gives up after 15 s; a stuck worker is restarted before that
        "graceful_timeout": 10,
        "preload_app": False,  # workers build from config_good, which reload() may replace
        "accesslog": None,  # no access log: it is not needed and keeps request data out of logs
        "errorlog": "-",
        "loglevel": "info",
        # gunicorn >= 24 opens a control socket at a fixed path; two servers on one machine
        # would share it. Not needed here (signals do the job), and skipped on older gunicorn.
        "control_socket_disable": True,
        "worker_exit": _flush_on_exit,
    }
    server = HelplineServer(settings, config, options)
    server.console = console
    server.run()
