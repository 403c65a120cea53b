"""The gateway as a process: systemd readiness and watchdog, HTTP API, kill -9 safety, port errors."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from gateway.bench.common import free_port
from gateway.config import parse_config
from gateway.store.accounts import create_token
from gateway.store.admin import import_csv
from gateway.store.database import open_database
from tests.conftest import site_toml, write_csv

READER = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "simulated"
per_minute = {per_minute}
"""


def write_site(tmp_path: Path, per_minute: int = 0, pulse_log: Path | None = None) -> Path:
    port = free_port()
    text = site_toml(tmp_path / "data", port=port).replace(
        'id = "door-lock"',
        f'id = "door-lock"\n{f"pulse_log = {str(pulse_log)!r}" if pulse_log else ""}',
    ) + READER.format(per_minute=per_minute)
    config = tmp_path / "site.toml"
    config.write_text(text, encoding="utf-8")
    cfg = parse_config(text, "site.toml")
    people = "ref,building,unit,name\n" + "".join(f"R{i},1栋,1单元,住户{i}\n" for i in range(50))
    cards = "card,resident_ref\n" + "".join(f"C{i:06d},R{i % 50}\n" for i in range(200))
    import_csv(cfg, [write_csv(tmp_path / "r.csv", people), write_csv(tmp_path / "c.csv", cards)])
    return config


def api_token(data_dir: Path) -> str:
    conn = open_database(data_dir / "gateway.db").conn
    try:
        _, token = create_token(conn, datetime.now(UTC), "test", "monitor", "guard", None)
    finally:
        conn.close()
    return token


def port_of(config: Path) -> int:
    return int(
        next(line for line in config.read_text().splitlines() if line.startswith("port")).split("=")[1]
    )


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    yield sock, path
    sock.close()


def start(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def messages_until(sock: socket.socket, wanted: str) -> list[str]:
    seen = []
    while wanted not in seen:
        seen += sock.recv(4096).decode().split("\n")
    return seen


def test_ready_watchdog_api_and_clean_stop(tmp_path: Path, notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    config = write_site(tmp_path, per_minute=600)
    token = api_token(tmp_path / "data")
    auth = {"Authorization": f"Bearer {token}"}
    proc = start(config, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
    try:
        messages_until(sock, "READY=1")
        messages_until(sock, "WATCHDOG=1")  # fed while the decision worker runs
        base = f"http://127.0.0.1:{port_of(config)}"
        deadline = time.monotonic() + 15
        events: list[dict[str, object]] = []
        while not events and time.monotonic() < deadline:
            events = httpx2.get(f"{base}/api/events?limit=5", headers=auth).json()
            time.sleep(0.2)
        assert events and events[0]["lane"] == "door"
        assert str(events[0]["value"]).startswith("***")  # card numbers masked on the API
        health = httpx2.get(f"{base}/api/health").json()
        assert health["status"] == "ok" and health["decisions"] >= 1
        assert {d["device"]: d["online"] for d in health["devices"]} == {
            "car-in-barrier": True,
            "door-lock": True,
            "door-reader": True,
        }
        assert httpx2.get(f"{base}/api/events").status_code == 401  # decisions are for logged-in eyes
        bad = httpx2.get(f"{base}/api/events?limit=0", headers=auth)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
        lane = httpx2.get(f"{base}/api/events?lane=nowhere", headers=auth)
        assert lane.status_code == 404 and "door" in lane.json()["error"]["fix"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert b"gateway stopped" in out
    assert "STOPPING=1" in messages_until(sock, "STOPPING=1")


def test_kill_9_never_loses_a_decision_that_opened_the_gate(tmp_path: Path) -> None:
    pulses = tmp_path / "pulses.log"
    config = write_site(tmp_path, per_minute=3000, pulse_log=pulses)
    rng = random.Random(5)
    for _ in range(4):
        before = len(_pulse_refs(pulses))
        proc = start(config)
        deadline = time.monotonic() + 20
        while len(_pulse_refs(pulses)) < before + 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.5))
        proc.kill()  # SIGKILL: no clean-up of any kind
        proc.wait(timeout=10)
    refs = _pulse_refs(pulses)
    assert len(refs) >= 80
    conn = sqlite3.connect(tmp_path / "data" / "gateway.db")
    logged = {r[0] for r in conn.execute("SELECT event_id FROM access_log WHERE admitted = 1")}
    queued = {r[0] for r in conn.execute("SELECT event_id FROM outbox")}
    conn.close()
    assert refs <= logged and refs <= queued


def _pulse_refs(path: Path) -> set[str]:
    if not path.exists():
        return set()
    lines = path.read_text().split("\n")[:-1]  # the last line may be cut by the kill
    return {line.split()[2] for line in lines if len(line.split()) == 3}


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    config = write_site(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port_of(config)))
        taken.listen()
        proc = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port_of(config)}" in proc.stderr
    assert "set another [http] port" in proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (Path(__file__).parent.parent / "systemd" / "estate-gateway.service").read_text()
    gateway_bin = Path(sys.executable).parent / "gateway"
    assert gateway_bin.exists()
    for needed in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "RestartPreventExitStatus=78",
        "SupplementaryGroups=dialout",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/estate-gateway",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
    ):
        assert needed in unit
    path = tmp_path / "estate-gateway.service"
    path.write_text(unit.replace("/opt/estate-gateway/venv/bin/gateway", str(gateway_bin)))
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "estate-gateway.service" not in result.stderr, result.stderr


def test_demo_seeds_a_site_and_makes_decisions(tmp_path: Path) -> None:
    # The demo's simulated devices present credentials at random moments (about 42 a minute, fewer
    # at the exit while few cars are inside). The test waits for the first admission, up to a
    # minute on a busy machine, then stops the demo as systemd would.
    data = tmp_path / "demo"
    port = str(free_port())
    command = [sys.executable, "-m", "gateway.cli", "demo", "--data-dir", str(data), "--port", port]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    decided: tuple[int, int | None] = (0, None)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not decided[1]:
            time.sleep(0.5)
            db = data / "gateway.db"
            if not db.exists():
                continue
            with closing(sqlite3.connect(db, timeout=5)) as conn, suppress(sqlite3.OperationalError):
                decided = conn.execute("SELECT count(*), sum(admitted) FROM access_log").fetchone()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, out
    assert "demo data seeded: 250 residents" in out, out
    assert "ready in" in out, out
    assert decided[0] >= 1 and decided[1], (decided, out[-3000:])
