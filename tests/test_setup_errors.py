"""What an installer meets when the box is set up wrong: one clear line, and an exit status that
tells systemd whether starting again can help (78: no, fix it first; 1: yes)."""

from __future__ import annotations

import configparser
import errno
import os
import socket
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

from gateway.bench.common import free_port
from gateway.cli import main
from gateway.config import EX_CONFIG, parse_config
from gateway.errors import GatewayError, StorageError
from gateway.parking.retention import make_room
from gateway.privacy import Secrets
from gateway.store.database import open_database
from tests.conftest import site_toml

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "estate-gateway.service"
Usage = namedtuple("Usage", "total used free")


def write_site(tmp_path: Path, http_extra: str = "") -> Path:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data", port=free_port()) + http_extra, encoding="utf-8")
    return config


def test_a_bad_config_stops_the_service_instead_of_restarting_it_for_ever(tmp_path: Path) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(UNIT.read_text())
    service = unit["Service"]
    assert "78" in service["RestartPreventExitStatus"].split()
    # systemd applies RestartPreventExitStatus to the main process only: a config check that
    # fails in ExecStartPre would be started again every RestartSec, for ever.
    assert "ExecStartPre" not in service
    bad = tmp_path / "bad.toml"
    bad.write_text(site_toml(tmp_path / "data") + "\n[http]\nport = 'eighty'\n", encoding="utf-8")
    assert main(["run", "-c", str(bad)]) == EX_CONFIG  # run checks the config itself


def test_a_missing_tls_certificate_names_the_file_and_stops(tmp_path: Path) -> None:
    config = write_site(tmp_path)
    text = config.read_text().replace(
        "[http]\n",
        f'[http]\ntls_cert_file = "{tmp_path}/tls/cert.pem"\ntls_key_file = "{tmp_path}/tls/key.pem"\n',
        1,
    )
    config.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EX_CONFIG, done.stderr[-500:]
    assert "Traceback" not in done.stderr
    assert "cert.pem" in done.stderr and "tls_cert_file" in done.stderr


def test_a_port_below_1024_stops_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_site(tmp_path)

    def refuse(self: socket.socket, address: object) -> None:  # as for a service without privileges
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refuse)
    assert main(["run", "-c", str(config)]) == EX_CONFIG


def test_a_site_key_the_service_may_not_read_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secret.key").mkdir()  # unreadable as a file, whoever runs the test
    with pytest.raises(StorageError) as error:
        Secrets.load_or_create(tmp_path)
    assert "secret.key" in str(error.value) and "chown estate-gateway" in error.value.fix


def test_a_full_data_disk_is_not_called_a_damaged_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gateway.db").mkdir()  # SQLite cannot open it, as on a full disk
    monkeypatch.setattr("gateway.store.database.shutil.disk_usage", lambda _: Usage(10**9, 10**9, 0))
    with pytest.raises(GatewayError) as error:
        open_database(tmp_path / "gateway.db")
    assert not isinstance(error.value, StorageError)  # exit 1: systemd tries again once there is room
    assert "disk is full" in str(error.value) and "do not replace the database" in error.value.fix


def snapshots(day: Path, first: float, apart: float, count: int = 10) -> Path:
    """`count` snapshots of 1,000 bytes in `day`, the oldest taken at `first`, `apart` seconds apart."""
    day.mkdir(parents=True)
    for i in range(count):
        shot = day / f"{i}.jpg"
        shot.write_bytes(b"x" * 1000)
        os.utime(shot, (first + i * apart, first + i * apart))
    return day


def test_the_oldest_snapshots_make_room_for_the_gateway_to_start(tmp_path: Path) -> None:
    day = snapshots(tmp_path / "snapshots" / "2025-03-01", first=1_700_000_000, apart=1)
    full = Usage(total=100_000, used=99_000, free=1_000)  # 1 % free; prune below 10 %, keep 10 %
    room = make_room(tmp_path, tmp_path / "snapshots", 10, 5, usage=lambda _: full)
    assert (room.deleted, room.failed) == (9, 0)
    assert sorted(p.name for p in day.iterdir()) == ["9.jpg"]  # the newest is kept


def test_the_gateway_makes_room_before_it_opens_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    shots = tmp_path / "data" / "snapshots" / "2025-03-01"
    shots.mkdir(parents=True)
    (shots / "old.jpg").write_bytes(b"x" * 1000)
    monkeypatch.setattr("gateway.parking.retention.shutil.disk_usage", lambda _: Usage(100_000, 99_900, 100))
    from gateway.runtime.gateway import Gateway

    gw = Gateway(cfg)
    gw.conn.close()
    assert not (shots / "old.jpg").exists()


def test_check_config_warns_of_what_this_box_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_site(tmp_path)
    text = config.read_text().replace("port = ", "port = 80  # was ", 1)
    text = text.replace(
        "[http]\n", f'[http]\ntls_cert_file = "{tmp_path}/c.pem"\ntls_key_file = "{tmp_path}/k.pem"\n', 1
    )
    config.write_text(
        text
        + """
[[devices]]
id = "gate-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/serial/by-id/usb-no-such-converter"
format = "em4100"
"""
    )
    assert main(["check-config", str(config)]) == 0  # a config written before the hardware is in
    out = capsys.readouterr().out
    assert "ok (" in out
    assert "http.tls_cert_file" in out and "c.pem does not exist" in out
    assert "usb-no-such-converter is not on this box" in out
    assert "http.port: 80 is below 1024" in out


def test_an_address_not_up_yet_at_boot_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a power cut the switch or DHCP may come up after the gateway: systemd must retry."""
    config = write_site(tmp_path)
    config.write_text(config.read_text().replace("[http]\n", '[http]\nlisten = "192.168.1.10"\n', 1))

    def not_yet(self: socket.socket, address: object) -> None:
        raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")

    monkeypatch.setattr(socket.socket, "bind", not_yet)
    assert main(["run", "-c", str(config)]) == 1


def test_footage_deleted_at_start_is_reported_to_the_centre(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots deleted to make room at start are footage lost, as when the disk guard deletes them."""
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    day = snapshots(tmp_path / "data" / "snapshots" / "d", first=time.time() - 20 * 3600, apart=3600)
    monkeypatch.setattr(
        "gateway.parking.retention.shutil.disk_usage", lambda _: Usage(100_000, 99_000, 1_000)
    )
    from gateway.runtime.gateway import Gateway

    gw = Gateway(cfg)
    try:
        assert len(list(day.iterdir())) < 10
        monkeypatch.setattr(
            "gateway.parking.retention.shutil.disk_usage", lambda _: Usage(100_000, 10_000, 90_000)
        )
        gw.operations._run = lambda run: run(gw.conn)  # no worker thread here
        gw.operations.disk_guard(gw.now())
        assert [k for (k,) in gw.conn.execute("SELECT kind FROM alarms")] == ["retention_short"]
    finally:
        gw.conn.close()
