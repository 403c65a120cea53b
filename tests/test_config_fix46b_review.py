"""Review of fix 46's config messages (ab008ad): cases next to the ones it fixed, where its fix
said the wrong thing or refused what worked before."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, parse_config
from tests.conftest import site_toml


def _rendered(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    return info.value.render()


def _fix_line(said: str) -> str:
    return next(line.strip() for line in said.splitlines() if line.strip().startswith("fix:"))


def test_https_cert_file_typed_without_tls_prefix_is_told_tls_cert_file_not_moved_to_mqtt(
    tmp_path: Path,
) -> None:
    """An installer writes `[http] cert_file = ...` for the HTTPS certificate. check-config used to
    say "did you mean 'tls_cert_file'?"; after ab008ad it said "cert_file is a key of [mqtt]: move it
    under that header", which would make the guard pages' certificate the MQTT client certificate.
    A close match in the table it is under comes first."""
    text = site_toml(tmp_path / "data").replace(
        "[http]\n", '[http]\ncert_file = "/etc/estate-gateway/gw.crt"\n', 1
    )
    fix = _fix_line(_rendered(text))
    assert "[mqtt]" not in fix and "tls_cert_file" in fix, fix


def test_a_key_is_not_sent_to_a_table_that_already_sets_it(tmp_path: Path) -> None:
    """`[http] host = "0.0.0.0"` (for listen) was told to move under [mqtt], which already sets host:
    followed, the file has a duplicate key and does not load at all."""
    text = (
        site_toml(tmp_path / "data").replace("[http]\n", '[http]\nhost = "0.0.0.0"\n', 1)
        + '\n[mqtt]\nhost = "mqtt.example.cn"\n'
    )
    fix = _fix_line(_rendered(text))
    assert "[mqtt]" not in fix and "listen" in fix, fix


def test_a_key_under_the_wrong_header_is_still_sent_to_its_table(tmp_path: Path) -> None:
    """The case ab008ad fixed stays fixed: host under [http] with no [mqtt] host in the file belongs
    to [mqtt] (no [http] key is close to it)."""
    text = site_toml(tmp_path / "data").replace("[http]\n", '[http]\nhost = "mqtt.example.cn"\n', 1)
    fix = _fix_line(_rendered(text))
    assert "[mqtt]" in fix, fix


@pytest.mark.parametrize("host", ["消息.物业.中国", "mqtt_broker", "mqtt_broker.estate.lan", "例子.cn."])
def test_a_broker_host_the_resolver_looks_up_is_accepted(tmp_path: Path, host: str) -> None:
    """`[mqtt] host = "消息.物业.中国"` (an internationalised domain name, which Python looks up as
    xn--...) connected before ab008ad and was then refused; so was a Docker Compose v1 service name
    with `_`, which the system resolver looks up."""
    text = site_toml(tmp_path / "data") + f'\n[mqtt]\nhost = "{host}"\n'
    assert parse_config(text, "site.toml").mqtt.host == host


@pytest.mark.parametrize(
    "host",
    ["mqtt://mqtt.example.cn", "mqtt.example.cn:8883", "192.168.1.300", "mqtt broker", "a..b", "-mqtt"],
)
def test_a_broker_host_that_is_no_host_is_still_refused(tmp_path: Path, host: str) -> None:
    text = site_toml(tmp_path / "data") + f'\n[mqtt]\nhost = "{host}"\n'
    assert "mqtt.host" in _rendered(text)


def _https_config(tmp_path: Path, cert: Path, key: Path) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data").replace(
            "[http]\n", f'[http]\ntls_cert_file = "{cert}"\ntls_key_file = "{key}"\n', 1
        ),
        encoding="utf-8",
    )
    return config


def test_check_config_says_of_an_https_key_that_is_a_folder_what_the_start_stops_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`[http] tls_key_file = "/etc/estate-gateway/tls"` (the folder the key is in, not the key):
    check-config said "ok" with no warning, and exit 0, while the start stops on it (exit 78)."""
    from gateway.config.filecheck import check_tls_files
    from gateway.errors import SetupError
    from tests.sync.sync_helpers import make_certs

    tls = make_certs(tmp_path / "tls")
    folder = tmp_path / "keys"
    folder.mkdir()
    config = _https_config(tmp_path, tls.server_cert, folder)
    with pytest.raises(SetupError):  # what the start does with it (runtime.serve)
        check_tls_files(parse_config(config.read_text(), "site.toml", config.parent).http)
    status = main(["check-config", str(config)])
    said = capsys.readouterr().err
    assert status != 0, f"check-config exit {status}: {said.strip()!r}"
    assert "tls_key_file" in said and "folder" in said, said


def test_an_https_certificate_that_is_a_folder_is_refused_though_the_key_is_not_copied_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The folder is refused whatever the other file is: a missing key alone stays a warning."""
    folder = tmp_path / "certs"
    folder.mkdir()
    config = _https_config(tmp_path, folder, tmp_path / "gw.key")
    status = main(["check-config", str(config)])
    said = capsys.readouterr().err
    assert status != 0 and "tls_cert_file" in said and "folder" in said, f"exit {status}: {said!r}"
