"""A config error shows the value found for a setting that is no secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.urls import is_secret_parameter
from gateway.config import ConfigError, parse_config
from gateway.config.problems import names_a_secret
from tests.conftest import site_toml


def test_a_bad_auth_retry_delay_is_shown_not_called_a_secret(tmp_path: Path) -> None:
    """An installer sets [mqtt] auth_retry_s = 0: the check says "(value not shown: it may be a
    secret)" for a retry delay, since `auth` was added to the secret words of urls and config keys;
    it should say (found 0), as it does for keepalive_s and did before."""
    mqtt = '\n[mqtt]\nhost = "127.0.0.1"\nauth_retry_s = 0\n'
    with pytest.raises(ConfigError) as err:
        parse_config(site_toml(tmp_path / "data") + mqtt, "site.toml")
    text = err.value.render()
    line = next(line for line in text.splitlines() if "mqtt.auth_retry_s" in line)
    assert "(found 0)" in line, f"the retry delay is hidden as a secret: {line}"


@pytest.mark.parametrize(
    ("key", "secret"),
    [("auth_retry_s", False), ("auth", True), ("auth_token", True), ("mqtt_auth_key", True)],
)
def test_auth_names_a_secret_key_only_as_the_whole_name(key: str, secret: bool) -> None:
    assert names_a_secret(("mqtt", key)) is secret


@pytest.mark.parametrize("name", ["auth", "basic_auth", "AUTH", "pwd", "api_key"])
def test_auth_in_a_url_parameter_still_names_a_secret(name: str) -> None:
    assert is_secret_parameter(name)
