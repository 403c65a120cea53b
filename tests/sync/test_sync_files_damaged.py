"""The sync link's own SQLite files (sync-inbox.db, sync-staging.db) left damaged on the SD card by
a power cut, or owned by root by a `sudo gateway run`: the gateway still starts its lanes and says
in one line which file and what to do; and the centre's directory changes do not stop being applied
without a word."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import SITE, SITE_TOML, mqtt_section, running
from fastapi.testclient import TestClient
from sync_helpers import Central, Mosquitto, free_port, wait_for, wait_listening
from test_sync_downlink import directory_v1

from gateway.api.app import create_app
from gateway.config import SiteConfig, load_config, parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.database import DB_NAME
from gateway.sync.inbox import INBOX_NAME
from gateway.sync.messages import encode_snapshot
from gateway.sync.service import SyncService
from gateway.sync.staging import STAGING_NAME, open_staging

SERVICE_UID = 65534  # nobody: stands for the estate-gateway user


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    yield sock, path
    sock.close()


def test_a_damaged_sync_inbox_does_not_stop_the_gateway_with_a_traceback(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    """The installer saw `gateway run` die with a Python traceback ("database disk image is
    malformed"), exit 1, and systemd restart it every 2 s for ever: no lane opened for anyone
    because the sync link's inbox file was cut short by a power cut. Now the gateway starts (the
    lanes never wait for the centre), says which file it set aside and what was lost with it, and
    asks the centre for a snapshot to make up for the directory changes it held."""
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "site.toml"
    config.write_text(
        SITE_TOML.format(data_dir=data, http_port=free_port(), site_id=SITE)
        + "\n"
        + mqtt_section(free_port()),  # no broker: the link just keeps trying
        encoding="utf-8",
    )
    gw = Gateway(load_config(config))
    SyncService(gw).inbox.close()
    gw.conn.close()
    inbox = data / INBOX_NAME
    inbox.write_bytes(inbox.read_bytes()[:100])  # the power cut: the file cut short
    sock, path = notify_socket
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
        env={**os.environ, "NOTIFY_SOCKET": path, "PYTHONPATH": os.getcwd()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        said = ""
        while "READY=1" not in said:  # the lanes and the HTTP server are up
            said += sock.recv(4096).decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out[-2000:]
    assert "Traceback" not in out, out[-2000:]
    damaged = [line for line in out.splitlines() if f"{INBOX_NAME} was damaged" in line]
    assert damaged and "set aside" in damaged[0], out[-2000:]
    assert len(list(data.glob(f"{INBOX_NAME}.damaged-*"))) == 1
    with sqlite3.connect(data / DB_NAME) as conn:
        asked = [
            json.loads(p) for (p,) in conn.execute("SELECT payload FROM outbox WHERE topic = 'sync_request'")
        ]
    assert any(INBOX_NAME in a["reason"] for a in asked), asked


def test_a_damaged_sync_staging_file_does_not_silently_stop_the_centres_changes(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """With sync-staging.db (a work file for snapshots being applied) damaged by a power cut, the
    gateway started and connected, but its directory thread died on opening the file: the centre's
    snapshot (new residents, and a card it blocked) was never applied, and nothing but one thread
    traceback in the log said so - the health still showed the link connected. Now the damaged
    work file is set aside, the log says so, and what the centre sends is applied."""
    cfg = sync_cfg(broker.port)
    (cfg.site.data_dir / STAGING_NAME).write_bytes(os.urandom(8192))  # not a database any more
    central = Central(broker, SITE)
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            for part in encode_snapshot(1, directory_v1(), 4):
                central.publish("sync/snapshot", part)
            wait_for("snapshot 1 applied", lambda: service.directory.versions.applied == 1, timeout=15)
            assert "stopped" not in service.status()["directory"]
    finally:
        central.close()
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"{STAGING_NAME} was damaged" in m and "set aside" in m for m in said), said
    assert len(list(cfg.site.data_dir.glob(f"{STAGING_NAME}.damaged-*"))) == 1


def test_a_directory_thread_that_must_stop_says_so_in_the_health(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """A staging file the gateway cannot open at all (here a folder in its place): the directory
    thread cannot work. It used to die with one traceback while /api/health said "ok" and the link
    "connected"; now the log says the centre's changes are not applied and why, and the health says
    so too (degraded, mqtt.directory.stopped)."""
    cfg = sync_cfg(broker.port)
    (cfg.site.data_dir / STAGING_NAME).mkdir()
    with running(cfg) as (gw, service):
        wait_for("the directory stopped", lambda: service.status()["directory"].get("stopped"))
        health = TestClient(create_app(gw, service)).get("/api/health").json()
    assert health["status"] == "degraded", health
    stopped = [r.getMessage() for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert stopped and "not applied" in stopped[0], stopped


def test_sync_files_left_owned_by_root_are_named_with_the_chown_not_a_full_disk(
    broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """An installer trying the link by hand with `sudo gateway run` leaves sync-inbox.db and
    sync-staging.db owned by root; the service (its own user) then opened them read-only without a
    word at start. Every snapshot from the centre failed ("directory: snapshot not handled",
    tracebacks), so new residents and blocks never arrived, and the only fix the log gave was "free
    disk space if the disk is full" (the disk is not full). Now the start names each file with the
    fix that works (chown it to the gateway's user), and no log tells them to free disk space."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to stand for both root and the service's user (os.seteuid)")
    base = Path(tempfile.mkdtemp(prefix="gateway-sync-files-"))  # the service's user must reach it
    os.chmod(base, 0o755)
    data = base / "data"
    data.mkdir()
    cfg = parse_config(
        SITE_TOML.format(data_dir=data, http_port=free_port(), site_id=SITE)
        + "\n"
        + mqtt_section(broker.port),
        "site.toml",
    )
    try:
        Gateway(cfg).conn.close()
        for path in [data, *data.rglob("*")]:
            os.chown(path, SERVICE_UID, SERVICE_UID)  # the service ran: its files
        gw = Gateway(cfg)  # then root's run by hand makes the sync files
        SyncService(gw).inbox.close()
        open_staging(data / STAGING_NAME).close()
        gw.conn.close()
        central = Central(broker, SITE)
        os.setegid(SERVICE_UID)
        os.seteuid(SERVICE_UID)
        try:
            with running(cfg) as (gw, service):
                wait_listening(service)
                for part in encode_snapshot(1, directory_v1(), 4):
                    central.publish("sync/snapshot", part)
                wait_for(
                    "the snapshot tried", lambda: any("not handled" in r.getMessage() for r in caplog.records)
                )
        finally:
            os.seteuid(0)
            os.setegid(0)
            central.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    for name in (INBOX_NAME, STAGING_NAME):
        assert any(name in m and "chown estate-gateway:estate-gateway" in m for m in said), said
    refused = [m for m in said if "snapshot not handled" in m]
    assert refused and "chown estate-gateway:estate-gateway" in refused[0], said
    assert not any("free disk space" in m for m in said), said
