"""Review 66 G: a broker's port that takes each connection and resets it (a broker that crashes on
every CONNECT, a firewall that resets) wrote an ERROR line of paho's, "failed to receive on socket:
[Errno 104] Connection reset by peer", at every reconnect attempt, for as long as it lasted: a
journal full of ERRORs that made an installer think the box was broken, though the gateway says the
link is down once, in its own words, and keeps every record. paho's lines for a connection that
fails go to DEBUG; its other errors stay ERROR."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest
from conftest import running
from sync_helpers import wait_for

from gateway.config import SiteConfig


@pytest.fixture
def resetting_port() -> Iterator[tuple[int, list[int]]]:
    """A port that reads each connection's CONNECT and resets it; the count of connections taken."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.1)
    taken = [0]
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(1024)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            taken[0] += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1], taken
    done.set()
    thread.join(5)
    srv.close()


def test_a_port_that_resets_each_connection_is_said_once_with_no_paho_errors(
    resetting_port: tuple[int, list[int]],
    sync_cfg: Callable[..., SiteConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, taken = resetting_port
    cfg = sync_cfg(port, reconnect_min_s=0.02, reconnect_max_s=0.05)
    with caplog.at_level(logging.INFO), running(cfg) as (_, service):
        wait_for("four attempts reset", lambda: taken[0] >= 4 and service.link.attempts >= 5)
    paho_lines = [r.getMessage() for r in caplog.records if r.name == "paho"]
    assert not paho_lines, paho_lines
    said = [
        r for r in caplog.records if r.name == "gateway.sync.link" and "mqtt link offline" in r.getMessage()
    ]
    words = [r.getMessage() for r in said]
    # Said once as WARNING, not once per attempt; a loaded machine may time an attempt out before
    # the reset comes ("no answer from the broker"), which is said once more, as its own reason.
    assert {r.levelname for r in said} == {"WARNING"}, words
    assert len(words) == len(set(words)), words
    assert sum("before the broker answered" in w for w in words) == 1, words


def test_paho_errors_that_are_no_failed_connection_stay_errors(caplog: pytest.LogCaptureFixture) -> None:
    paho = logging.getLogger("paho")
    with caplog.at_level(logging.INFO):
        # As paho writes it once a connection is gone (a broker that never answers CONNECT).
        paho.error("Client is not connected. Socket: None). Last known Connection State: MQTT_CS_CONNECTING")
        paho.error("Caught exception in on_message: %s", ValueError("a bug of ours"))
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "paho"] == [
        ("ERROR", "Caught exception in on_message: a bug of ours")
    ]
