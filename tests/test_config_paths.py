"""Files a site config names by a relative path are read beside the config, wherever the gateway
runs from: `gateway check-config site.toml` in /etc/estate-gateway and the service (systemd starts
it in /) must read the same files."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from gateway.bench.common import free_port
from gateway.config import load_config
from tests.conftest import site_toml


def site_with_files_beside_it(tmp_path: Path, port: int = 8080) -> Path:
    etc = tmp_path / "etc"
    (etc / "tls").mkdir(parents=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "90", "-subj", "/CN=localhost"]
        + ["-keyout", str(etc / "tls" / "key.pem"), "-out", str(etc / "tls" / "cert.pem")],
        check=True,
        capture_output=True,
    )
    text = site_toml(Path("../data"), port=port, pulse_log="pulse_log = 'log/pulses.txt'").replace(
        "[http]\n", '[http]\ntls_cert_file = "tls/cert.pem"\ntls_key_file = "tls/key.pem"\n', 1
    )
    config = etc / "site.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_relative_tls_and_pulse_log_files_are_read_beside_the_config(tmp_path: Path) -> None:
    """The TLS files were read from the working directory, unlike data_dir and the [mqtt] files."""
    config = site_with_files_beside_it(tmp_path)
    cfg = load_config(config)
    etc = config.parent
    assert cfg.site.data_dir == tmp_path / "data"
    assert (cfg.http.tls_cert_file, cfg.http.tls_key_file) == (etc / "tls/cert.pem", etc / "tls/key.pem")
    pulse_logs = [getattr(device, "pulse_log", None) for device in cfg.devices]
    assert etc / "log" / "pulses.txt" in pulse_logs


def test_the_service_starts_where_check_config_in_the_config_folder_said_ok(tmp_path: Path) -> None:
    """check-config in the config's folder said ok; the service then exited 78 "cannot load
    tls/cert.pem"."""
    port = free_port()
    config = site_with_files_beside_it(tmp_path, port)
    checked = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", "site.toml"],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Only that pytest's tmp_path is under /tmp, which the unit's PrivateTmp hides from the service.
    warned = [line for line in checked.stdout.splitlines() if "warning" in line and "PrivateTmp" not in line]
    assert checked.returncode == 0 and not warned, checked.stdout
    # As systemd runs it: in / (no WorkingDirectory= in systemd/estate-gateway.service).
    service = [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)]
    with subprocess.Popen(
        service, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline and not listening(port):
            time.sleep(0.2)
        running = proc.poll() is None
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert running, f"the service exited {proc.returncode}: {err[-400:]}"


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True
