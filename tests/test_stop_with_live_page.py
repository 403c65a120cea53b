"""systemctl stop / restart while a guard tablet has its live page open."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx2

from tests.test_process import api_token, messages_until, notify_socket, port_of, start, write_site  # noqa: F401


def test_sigterm_with_a_live_page_open_stops_promptly(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]  # noqa: F811
) -> None:
    """The booth's tablet always has the live page open (its event stream). On `systemctl stop`
    (an upgrade, a reboot) the gateway must stop within seconds, run its clean-up (records
    flushed, 'gateway stopped'), and exit 0. Instead uvicorn waits for the endless stream to end:
    the process never exits by itself, so systemd kills it after TimeoutStopSec (SIGKILL), with
    none of the stop's clean-up run."""
    sock, path = notify_socket
    config = write_site(tmp_path)
    token = api_token(tmp_path / "data")
    proc = start(config, {"NOTIFY_SOCKET": path})
    client = None
    try:
        messages_until(sock, "READY=1")
        base = f"http://127.0.0.1:{port_of(config)}"
        client = httpx2.Client(timeout=60)
        stream = client.stream("GET", f"{base}/api/live/stream", headers={"Authorization": f"Bearer {token}"})
        response = stream.__enter__()
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines).startswith("retry")  # the page is connected
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < 20:
            time.sleep(0.2)
        took = time.monotonic() - t0
        assert proc.poll() is not None, f"still running {took:.0f} s after SIGTERM with a live page open"
    finally:
        if proc.poll() is None:
            proc.kill()
        out, _ = proc.communicate(timeout=20)
        if client is not None:
            client.close()
    assert proc.returncode == 0
    assert b"gateway stopped" in out
