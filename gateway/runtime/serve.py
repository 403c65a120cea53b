"""Running the gateway as a service: runtime + HTTP server in one process, systemd-aware."""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import uvicorn

from gateway.api.app import create_app
from gateway.config.filecheck import check_tls_files, tls_expiry_warning
from gateway.config.models import Http
from gateway.errors import GatewayError, SetupError
from gateway.fault_log import FaultLog
from gateway.runtime import systemd
from gateway.runtime.gateway import Gateway
from gateway.runtime.http_protocol import RequestsWaitedFor
from gateway.runtime.listen import bind_error, bind_fix, comes_back
from gateway.runtime.watch import AlarmWatch
from gateway.store.database import is_busy

if TYPE_CHECKING:
    from gateway.sync.service import SyncService

log = logging.getLogger(__name__)

HEALTH_LOG_S = 300.0  # a summary of every device's state in the log every five minutes


def check_port_free(host: str, port: int) -> None:
    exc = bind_error(host, port)
    if exc is None:
        return
    # What may come back is started again by systemd; what never will stops it (exit 78).
    error = GatewayError if comes_back(exc) else SetupError
    raise error(f"cannot listen on {host}:{port}: {exc.strerror}", fix=bind_fix(exc, host, port)) from exc


GRACEFUL_STOP_S = 3  # how long a stop waits for open HTTP responses (a live page's stream)


def serve(gw: Gateway, started: float, stop_after: float | None = None) -> None:
    """Start the lanes and the HTTP server; return when told to stop (SIGTERM, Ctrl-C)."""
    http = gw.site.config.http
    check_port_free(http.listen, http.port)
    check_tls_files(http)
    expiry = tls_expiry_warning(http, datetime.now(UTC))
    if expiry is not None:
        log.warning("%s", expiry)
    tls = _tls_options(http) if http.tls else {}
    sync = sync_service(gw)
    config = uvicorn.Config(
        create_app(gw, sync),
        host=http.listen,
        port=http.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        # The guard pages' live streams never end by themselves: uvicorn waited for them at a stop
        # past systemd's TimeoutStopSec, which then killed the gateway before its clean-up ran
        # (records flushed, the centre told `stopped`). They are cut after this; the page reconnects.
        timeout_graceful_shutdown=GRACEFUL_STOP_S,
        http=RequestsWaitedFor,  # a client that sends no whole request is not kept for good
        **tls,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    gw.start()
    watch = AlarmWatch(gw, gw.site.config.alarms)
    watch.start()
    if sync is not None:
        sync.start()
    threading.Thread(target=_announce, args=(gw, server, started), daemon=True).start()
    # A daemon, cancelled at the stop: a stop by signal before it fired otherwise left the
    # process waiting for it after "gateway stopped", for the rest of --stop-after.
    stop_timer = None
    if stop_after is not None:
        stop_timer = threading.Timer(stop_after, lambda: setattr(server, "should_exit", True))
        stop_timer.daemon = True
        stop_timer.start()
    # uvicorn re-raises the stop signal to the handler it found once it has shut down; with these
    # the process then ends normally (exit 0), the way systemd expects a clean stop.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()
    finally:
        if stop_timer is not None:
            stop_timer.cancel()
        systemd.notify("STOPPING=1")
        if sync is not None:
            sync.stop()
        watch.stop()
        gw.stop()


# uvicorn gives OpenSSL no pass phrase callback when it has no password, and OpenSSL then asks on
# the terminal. A key with a pass phrase is refused before (check_tls_files); one put there since
# fails to load with this (an SSL error) rather than wait for a phrase nobody types.
NO_PASS_PHRASE = "estate-gateway: a key with a pass phrase is refused"


def _tls_options(http: Http) -> dict[str, str]:
    return {
        "ssl_certfile": str(http.tls_cert_file),
        "ssl_keyfile": str(http.tls_key_file),
        "ssl_keyfile_password": NO_PASS_PHRASE,
    }


def sync_service(gw: Gateway) -> SyncService | None:
    """The link with the central server when [mqtt] enabled; the lanes never wait for it."""
    if not gw.site.config.mqtt.enabled:
        return None
    from gateway.sync.service import SyncService

    return SyncService(gw)


def _announce(gw: Gateway, server: uvicorn.Server, started: float) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.01)
    http = gw.site.config.http
    log.info(
        "ready in %.2f s: %s://%s:%d/ (guard pages), /api/health",
        time.perf_counter() - started,
        "https" if http.tls else "http",
        http.listen,
        http.port,
    )
    systemd.notify("READY=1")
    watchdog = systemd.watchdog_interval()
    tick = min(watchdog or HEALTH_LOG_S, 5.0)
    worker = WorkerWatch(gw, None if watchdog is None else 2 * watchdog, tick)
    next_health = time.monotonic() + HEALTH_LOG_S
    try:
        while not server.should_exit:
            worker.check()
            if time.monotonic() >= next_health:
                next_health += HEALTH_LOG_S
                log_health(gw)
            time.sleep(tick)
    finally:
        worker.close()


# The watchdog is no longer fed once the decision worker has not looped for most of WatchdogSec,
# and never sooner than this: a database held by another process keeps it up to 20 s in one loop
# (a job's write, then the lane records waiting for storage, each waiting out the busy timeout of
# 10 s, store/database.py), and a restart would not let go of that database. So held, it is said
# as held; a restart is said only when one comes.
STUCK_AT_LEAST_S = 25.0
SLOW_LOOP_S = 5.0  # a worker that has not looped for this long waits on something (Gateway.alive)


class WorkerWatch:
    """Feeds systemd's watchdog while the decision worker moves, and says why it does not: waiting
    on a database another process holds (WARNING once, INFO once let go), or stuck (ERROR once,
    and the watchdog no longer fed, so systemd restarts the gateway)."""

    def __init__(self, gw: Gateway, watchdog_s: float | None, ping_s: float):
        self._gw = gw
        self._watchdog_s = watchdog_s  # WatchdogSec; None: no watchdog
        self._stuck_after = max((watchdog_s or 0) - ping_s, STUCK_AT_LEAST_S)
        self._stuck = FaultLog(log)
        self._held = FaultLog(log, logging.WARNING)
        self._probe: sqlite3.Connection | None = None  # asks whether the write lock is held

    def check(self) -> None:
        """Called every ping interval."""
        since = self._gw.worker.since_last_loop()
        if self._watchdog_s is not None and not self._fed(since):
            return
        self._watch_held(since)

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()

    def _fed(self, since: float | None) -> bool:
        """The watchdog fed, unless the worker has ended or has not looped for `_stuck_after`."""
        if since is not None and since < self._stuck_after:
            systemd.notify("WATCHDOG=1")
            self._stuck.ended("decision worker moves again: the watchdog is fed again")
            return True
        self._stuck.failed(
            "ended" if since is None else "stuck",
            "decision worker %s: the watchdog is no longer fed, so systemd restarts the gateway "
            "within %.0f s (a fault of the gateway, not a held database: keep this journal for the "
            "maintainers)",
            "has ended" if since is None else f"has not moved for {since:.0f} s",
            self._watchdog_s,
        )
        return False

    def _watch_held(self, since: float | None) -> None:
        """A slow worker waiting on a database another process holds, said once; its end once."""
        if since is None or (since < SLOW_LOOP_S and self._held.failing is None):
            return
        if self._held_elsewhere():
            self._held.failed(
                "held",
                "the database is held by another process: decisions wait for it, and one not "
                "stored within the busy timeout (10 s) keeps its gate shut (storage_failed) "
                "(fix: end it, e.g. `fg` a `gateway import` stopped with Ctrl-Z and let it finish)",
            )
        elif since < SLOW_LOOP_S:
            self._held.ended("the database is let go: the decision worker moves again, decisions are stored")

    def _held_elsewhere(self) -> bool:
        """Whether a connection other than the worker's holds the database's write lock: asked by
        taking it, without waiting, and letting it go at once."""
        try:
            if self._probe is None:
                self._probe = sqlite3.connect(self._gw.db_path, timeout=0, isolation_level=None)
            self._probe.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            # Held by the worker itself (it writes): asked after, as it may have just taken it.
            return is_busy(exc) and not self._gw.conn.in_transaction
        self._probe.execute("ROLLBACK")
        return False


def log_health(gw: Gateway) -> None:
    devices = [h.snapshot() for h in gw.devices.health]
    offline = [d["device"] for d in devices if not d["online"]]
    log.info(
        "health devices_online=%d/%d offline=%s decisions=%d queue=%d storage_failures=%d",
        len(devices) - len(offline),
        len(devices),
        ",".join(offline) or "-",
        gw.decisions,
        gw.backlog(),
        gw.storage_failures,
    )
