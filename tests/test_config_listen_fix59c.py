"""[http] listen an address this box does not have (review 59c, found by reviewer c): check-config
said ok, while `gateway run` cannot listen ("this box has no address ...", exit 1) and systemd
restarts it every 2 s, for good, the guard pages down. check-config tries the same bind; a port
in use is no warning (during an upgrade the running gateway holds it)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from gateway.errors import GatewayError
from gateway.runtime.serve import check_port_free
from tests.conftest import site_toml

NOT_HERE = "192.0.2.77"  # TEST-NET-1: on no interface of this box


def _site(tmp_path: Path, listen: str, port: int) -> Path:
    config = tmp_path / "site.toml"
    text = site_toml(tmp_path / "data", port=port).replace("[http]\n", f'[http]\nlisten = "{listen}"\n')
    config.write_text(text, encoding="utf-8")
    return config


def test_check_config_warns_of_a_listen_address_this_box_does_not_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _site(tmp_path, NOT_HERE, 18089)
    cfg = load_config(config)
    with pytest.raises(GatewayError, match="no address") as start:  # what the start meets
        check_port_free(cfg.http.listen, cfg.http.port)
    assert main(["check-config", str(config)]) == 0  # a warning: the address may come up (DHCP)
    out = capsys.readouterr().out
    assert f"warning: http.listen: cannot listen on {NOT_HERE}:18089" in out, out
    assert "restarted every 2 s" in out
    assert start.value.fix is not None and start.value.fix in out  # the start's own fix


def test_no_listen_warning_for_a_port_the_running_gateway_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as running:
        running.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        running.bind(("127.0.0.1", 0))
        running.listen()
        port = running.getsockname()[1]
        config = _site(tmp_path, "127.0.0.1", port)
        assert main(["check-config", str(config)]) == 0
    assert "http.listen" not in capsys.readouterr().out
