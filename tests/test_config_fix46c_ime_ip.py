"""94f5534 checks a host name in its IDNA form, but the "dots and digits are no host name" check
still on the text as typed: an IP address typed with a Chinese input method's 。 or full-width
digits, and mistyped, passes check-config again and is left to a restart loop (ab008ad's bug)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, parse_config
from gateway.errors import SetupError
from gateway.runtime.serve import check_port_free
from tests.conftest import site_toml


@pytest.mark.parametrize("typed", ["192。168。1。300", "１９２.１６８.１.３００"])
def test_a_mistyped_listen_ip_typed_with_a_chinese_input_method_is_refused_by_check_config(
    tmp_path: Path, typed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`[http] listen = "192。168。1。300"` (192.168.1.300 typed with the IME's full stop): check-config
    says ok, exit 0, and the start fails "cannot listen ... Name or service not known" as a passing
    error, so systemd restarts it for ever. 192.168.1.300 typed in ASCII is refused at check-config;
    so should this be (it was, before 94f5534)."""
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data").replace("[http]\n", f'[http]\nlisten = "{typed}"\n', 1), encoding="utf-8"
    )
    with pytest.raises(Exception) as start:  # what the start does with it (runtime.serve)
        check_port_free(typed, 18089)
    assert not isinstance(start.value, SetupError)  # a passing error: restarted, never fixed
    status = main(["check-config", str(config)])
    said = capsys.readouterr()
    assert status != 0, f"check-config exit {status} for listen {typed!r}: {(said.out + said.err).strip()!r}"


def test_a_mistyped_broker_ip_typed_with_a_chinese_input_method_is_refused(tmp_path: Path) -> None:
    """`[mqtt] host = "192。168。1。300"`: accepted, the gateway never reaches its broker and every
    record waits in the outbox; 192.168.1.300 is refused with "not an IP address"."""
    text = site_toml(tmp_path / "data") + '\n[mqtt]\nhost = "192。168。1。300"\n'
    with pytest.raises(ConfigError):
        parse_config(text, "site.toml")


def test_the_refusal_says_how_the_address_was_read(tmp_path: Path) -> None:
    """The 。 is hard to see as other than a dot: the message shows the address as the resolver reads it."""
    text = site_toml(tmp_path / "data") + '\n[mqtt]\nhost = "192。168。1。300"\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    assert "read as 192.168.1.300" in info.value.render(), info.value.render()


def test_an_ip_address_typed_with_the_input_methods_full_stop_still_connects(tmp_path: Path) -> None:
    """192。168。1。30 is looked up as 192.168.1.30 (Python's socket functions read 。 as a dot): it is
    an IP address there, and the broker is reached, so it is not refused."""
    text = site_toml(tmp_path / "data") + '\n[mqtt]\nhost = "192。168。1。30"\n'
    assert parse_config(text, "site.toml").mqtt.host == "192。168。1。30"
