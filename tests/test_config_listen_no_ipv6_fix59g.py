"""Review 59g: [http] listen = "::" on a box with IPv6 turned off (ipv6.disable=1 in a Pi's
cmdline.txt is common; the config's own help suggests `::`). check-config's listen check
(c136802) created the AF_INET6 socket outside its try, so the kernel's EAFNOSUPPORT ("Address
family not supported by protocol") escaped as a traceback instead of the warning, and `gateway run`
ended the same way. The kernel without IPv6 is stood in for by a socket() that refuses AF_INET6 as
such a kernel does. Proof by reviewer 59g."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest

from gateway.cli import main
from tests.conftest import site_toml

EX_CONFIG = 78  # never restarted by systemd: only the installer fixes it
_real_socket = socket.socket


class _NoIPv6Kernel(_real_socket):
    def __init__(self, family: int = socket.AF_INET, *args: object, **kwargs: object) -> None:
        if family == socket.AF_INET6:
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        super().__init__(family, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def ipv6_listen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "site.toml"
    text = site_toml(tmp_path / "data", port=18091).replace("[http]\n", '[http]\nlisten = "::"\n')
    config.write_text(text, encoding="utf-8")
    monkeypatch.setattr(socket, "socket", _NoIPv6Kernel)
    return config


def test_check_config_warns_of_an_ipv6_listen_on_a_box_without_ipv6(
    ipv6_listen: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        rc = main(["check-config", str(ipv6_listen)])
    except OSError as exc:  # what the installer saw: a traceback
        pytest.fail(f"check-config crashed: {exc!r}")
    out = capsys.readouterr().out
    assert rc == 0, out  # a warning, as for any address this box does not have
    assert "warning: http.listen: cannot listen on :::18091" in out, out
    assert "this box has no IPv6" in out and "set [http] listen to 0.0.0.0" in out, out
    assert "stop until fixed" in out and "restarted every 2 s" not in out, out


def test_run_says_the_same_and_is_not_restarted_for_ever(
    ipv6_listen: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        rc = main(["run", "-c", str(ipv6_listen)])
    except OSError as exc:
        pytest.fail(f"gateway run crashed: {exc!r}")
    err = capsys.readouterr().err
    assert rc == EX_CONFIG, err
    assert "cannot listen on :::18091" in err and "this box has no IPv6" in err, err
    assert "set [http] listen to 0.0.0.0" in err, err
