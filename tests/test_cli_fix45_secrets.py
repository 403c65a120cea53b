"""Secrets typed into the site config never reach the terminal or the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG
from gateway.config.problems import Problem
from tests.conftest import site_toml

BROKER_PASSWORD = "Sup3rS3cret!broker"

MQTT_WITH_PASSWORD = f"""
[mqtt]
enabled = true
host = "broker.example"
username = "gw"
password = "{BROKER_PASSWORD}"
"""


def test_check_config_does_not_print_an_mqtt_password_typed_into_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An installer types the broker password into [mqtt] as `password = "..."` (the key the
    gateway refuses, wanting password_file): check-config, and the failed start into the systemd
    journal, print the password in clear ("(found 'Sup3rS3cret!...')"). It should name the key and
    the fix (password_file) without echoing the secret, as a camera url's password is hidden."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data") + MQTT_WITH_PASSWORD, encoding="utf-8")
    assert main(["check-config", str(config)]) == EX_CONFIG
    out = capsys.readouterr()
    assert "mqtt.password" in out.err  # the key is still named, with its fix
    assert BROKER_PASSWORD not in out.out + out.err, f"the broker password is printed: {out.err}"


def test_the_refused_key_is_still_named_with_its_did_you_mean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data") + MQTT_WITH_PASSWORD, encoding="utf-8")
    assert main(["check-config", str(config)]) == EX_CONFIG
    err = capsys.readouterr().err
    assert "did you mean 'password_file'?" in err, err
    assert "(value not shown: it may be a secret)" in err, err


@pytest.mark.parametrize("key", ["pw", "pass_word", "mqttpasswd", "brokerPassword"])
def test_an_unknown_key_under_mqtt_is_not_shown_whatever_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    """[mqtt] holds the broker's credentials: a key unknown there may be the password under a name
    that does not say so (pw); its value is not shown either."""
    config = tmp_path / "site.toml"
    typed = MQTT_WITH_PASSWORD.replace("password =", f"{key} =")
    config.write_text(site_toml(tmp_path / "data") + typed, encoding="utf-8")
    assert main(["check-config", str(config)]) == EX_CONFIG
    err = capsys.readouterr().err
    assert f"mqtt.{key}" in err, err
    assert BROKER_PASSWORD not in err, err


def test_a_secret_key_anywhere_is_not_shown() -> None:
    """A secret's key refused at the top level, or in a table without credentials, is not shown."""
    for path in [("api_token",), ("site", "secret"), ("devices", 0, "private_key"), ("mqtt", "password")]:
        text = Problem(path, "Extra inputs are not permitted", BROKER_PASSWORD).render("site.toml")
        assert BROKER_PASSWORD not in text and "value not shown" in text, text


@pytest.mark.parametrize("path", [("lanes", 0, "anti_passback"), ("http", "port"), ("mqtt", "keepalive_s")])
def test_values_of_other_keys_are_still_shown(path: tuple[str | int, ...]) -> None:
    assert "(found 'x')" in Problem(path, "bad", "x").render("site.toml")


def test_an_unknown_key_elsewhere_still_shows_its_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data") + '\n[storage]\nsnyc = "full"\n', encoding="utf-8")
    assert main(["check-config", str(config)]) == EX_CONFIG
    assert "(found 'full')" in capsys.readouterr().err
