"""A config error shows a camera url's password in its query (?user=admin&pwd=...) as ***, as it
does one in `user:password@`; the words that say a key or a parameter is a secret are one list
(drivers.urls), shared by the config's names_a_secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from gateway.config.problems import Problem, names_a_secret
from tests.conftest import site_toml

CAMERA = """
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "htp://192.0.2.10/videostream.cgi?user=admin&pwd=S3cret"
"""


def test_a_mistyped_camera_url_is_reported_without_the_password_in_its_query(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(site_toml(tmp_path / "data") + CAMERA, "site.toml")
    text = err.value.render()
    assert "devices[2].url" in text, text
    assert "htp://192.0.2.10/videostream.cgi?user=admin&pwd=***" in text, text
    assert "S3cret" not in text


def test_a_value_shown_keeps_the_query_parameters_that_are_no_secret() -> None:
    problem = Problem(("devices", 2, "url"), "bad url", "http://192.0.2.10/v.cgi?channel=1&token=abc")
    assert "(found 'http://192.0.2.10/v.cgi?channel=1&token=***')" in problem.render("site.toml")


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password_file", True),
        ("api_key", True),
        ("mqttpassword", True),
        ("auth", True),
        ("pwd", True),
        ("anti_passback", False),
        ("username", False),
        ("keyframe", False),
    ],
)
def test_a_config_key_names_a_secret_by_the_words_a_url_query_is_hidden_by(key: str, secret: bool) -> None:
    assert names_a_secret(("mqtt", key)) is secret
