"""Running the gateway as a service: runtime + HTTP server in one process, systemd-aware."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from gateway.api.app import create_app
from gateway.errors import GatewayError
from gateway.runtime import systemd
from gateway.runtime.gateway import Gateway

if TYPE_CHECKING:
    from gateway.sync.service import SyncService

log = logging.getLogger(__name__)


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise GatewayError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                fix="another program uses the port (an older gateway still running?): stop it, "
                "or set another [http] port in the site config",
            ) from exc


class _Server(uvicorn.Server):
    """uvicorn (0.29 and later) raises SIGTERM again once it has shut down, which ended the process
    before serve() stopped the lanes, the relays and the MQTT link (whose clean stop publishes the
    retained 'offline, stopped' status). Forget the signal: serve() stops everything, then returns."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def serve(gw: Gateway, started: float, stop_after: float | None = None) -> None:
    """Start the lanes and the HTTP server; return when told to stop (SIGTERM, Ctrl-C)."""
    http = gw.site.config.http
    check_port_free(http.listen, http.port)
    sync = sync_service(gw)
    config = uvicorn.Config(
        create_app(gw, sync), host=http.listen, port=http.port, log_config=None, access_log=False,
        lifespan="off",
    )
    server = _Server(config)
    gw.start()
    if sync is not None:
        sync.start()
    threading.Thread(target=_announce, args=(gw, server, started), daemon=True).start()
    if stop_after is not None:
        threading.Timer(stop_after, lambda: setattr(server, "should_exit", True)).start()
    try:
        server.run()
    finally:
        systemd.notify("STOPPING=1")
        if sync is not None:
            sync.stop()
        gw.stop()


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
        "ready in %.2f s: http://%s:%d/api/health", time.perf_counter() - started, http.listen, http.port
    )
    systemd.notify("READY=1")
    interval = systemd.watchdog_interval()
    while interval is not None and not server.should_exit:
        if gw.alive():
            systemd.notify("WATCHDOG=1")
        else:
            log.error("decision worker is stuck; not feeding the watchdog so systemd restarts us")
        time.sleep(interval)
