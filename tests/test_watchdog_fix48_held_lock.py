"""systemd's watchdog while the decision worker waits on a database another process holds (a
`gateway import` stopped with Ctrl-Z, README), and while it is truly stuck."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from gateway.runtime import serve
from gateway.runtime.gateway import Gateway
from tests.conftest import locked_by_another_process
from tests.test_process import write_site

RESTART_PROMISE = "systemd restarts the gateway"


def _pings(sock: socket.socket, seconds: float, until: Path | None = None, said: str = "") -> list[float]:
    """The watchdog pings heard for `seconds`, or until the journal `until` says `said`."""
    pings: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until is not None and said in until.read_text(encoding="utf-8")):
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            continue
        if "WATCHDOG=1" in message:
            pings.append(time.monotonic())
    return pings


def _first_ping(sock: socket.socket, within: float) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        with contextlib.suppress(TimeoutError):
            if "WATCHDOG=1" in sock.recv(4096).decode():
                return True
    return False


def _gaps(pings: list[float]) -> list[float]:
    return [b - a for a, b in zip(pings, pings[1:], strict=False)]


def test_a_held_database_is_said_once_as_held_and_never_as_a_stuck_worker(tmp_path: Path) -> None:
    """Held past the busy timeout (10 s), the worker spends 10 s in each write: it used to be told
    as stuck, "systemd restarts us", each time a 5 s check fell in the wait, while the watchdog was
    fed and nothing restarted. It is the database that is held: said once, with the fix, and its
    end once; the watchdog is fed all along (WatchdogSec=30)."""
    config = write_site(tmp_path, per_minute=600)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.5)
    journal = tmp_path / "gw.log"
    with open(journal, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "30000000"},
        )
    try:
        assert _first_ping(sock, 30), "precondition: the gateway starts, the watchdog fed"
        with locked_by_another_process(tmp_path / "data" / "gateway.db") as let_go:
            held = _pings(sock, 16)  # a check at 5 s intervals lands in a 10 s wait at least once
            let_go()
        after = _pings(sock, 20, journal, "moves again")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        sock.close()
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert held and max(_gaps(held), default=0) < 10, f"fed while the database is held: {held}"
    assert not [line for line in lines if RESTART_PROMISE in line or "systemd restarts us" in line]
    warned = [line for line in lines if "held by another process" in line]
    assert len(warned) == 1 and " WARNING " in warned[0], warned
    assert "`fg` a `gateway import` stopped with Ctrl-Z" in warned[0]
    moving = [line for line in lines if "moves again" in line]
    assert len(moving) == 1 and " INFO " in moving[0] and after, moving


@pytest.fixture
def announcing(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Gateway, socket.socket]]:
    """`serve._announce` feeding a real notify socket for WatchdogSec=1, the worker judged stuck
    after 2.5 s without a loop (rather than STUCK_AT_LEAST_S, longer than a held database's waits;
    not 1 s: an idle worker loops each second, and a busy CI machine stretched that past 1 s, said
    stuck before the test's task)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.setattr(serve, "STUCK_AT_LEAST_S", 2.5)
    server = SimpleNamespace(started=True, should_exit=False)
    gateway.worker.start()
    announce = threading.Thread(target=serve._announce, args=(gateway, server, time.perf_counter()))
    announce.start()
    yield gateway, sock
    server.should_exit = True
    announce.join(timeout=5)
    gateway.worker.stop()
    sock.close()


def test_a_stuck_worker_is_no_longer_fed_and_said_so_once(
    announcing: tuple[Gateway, socket.socket], caplog: pytest.LogCaptureFixture
) -> None:
    """A task that never returns: the watchdog stops being fed, so systemd restarts the gateway,
    and the journal says so once; a worker that moves again before that is fed again."""
    gw, sock = announcing
    caplog.set_level(logging.INFO, logger="gateway.runtime.serve")
    assert _pings(sock, 2), "precondition: fed while the worker moves"
    release = threading.Event()
    gw.worker.submit(lambda conn: release.wait(30))
    time.sleep(3.0)  # stuck after 2.5 s
    _pings(sock, 0.6)  # the last ping sent before it was judged stuck
    withheld = _pings(sock, 2.5)
    release.set()
    again = _pings(sock, 2)
    assert not withheld, "a stuck worker must not feed the watchdog"
    assert again, "fed again once the worker moves"
    said = [r for r in caplog.records if RESTART_PROMISE in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.ERROR, said
    assert not [r for r in caplog.records if "held by another process" in r.getMessage()]
    assert [r for r in caplog.records if "moves again" in r.getMessage() and r.levelno == logging.INFO]
