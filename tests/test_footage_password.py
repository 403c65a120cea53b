"""A camera's RTSP password never shows in a config error (docs/hardware.md: "the log, the camera's
health and config errors write the url as rtsp://user:***@host/..."). The url an installer gets
wrong is exactly the one the config error prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.urls import redact_url, redact_urls
from gateway.config import parse_config
from gateway.config.problems import ConfigError
from tests.conftest import site_toml

PASSWORD = "Gate2024Secret"


def _camera(url: str) -> str:
    return f'''
[[devices]]
id = "gate-cam"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "{url}"
'''


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        # one slash lost in typing the scheme
        (f"rtsp:/admin:{PASSWORD}@192.168.1.64:554/Streaming/Channels/101", PASSWORD),
        # the scheme left out, as a Hikvision's web page shows the stream's address
        (f"admin:{PASSWORD}@192.168.1.64:554/Streaming/Channels/101", PASSWORD),
        # a password with a space: the url check refuses it, and the space ended the masked part
        ("rtsp://admin:Gate 2024Secret@192.168.1.64:554/Streaming/Channels/101", "2024Secret"),
    ],
)
def test_a_mistyped_camera_url_does_not_print_its_password_in_the_config_error(
    tmp_path: Path, url: str, secret: str
) -> None:
    """The installer mistypes the camera's url; `gateway check` (and the service's start, into the
    journal) prints the config error with the whole url, password in clear. It should print it
    with the password hidden, as it does for a well-formed rtsp:// url."""
    with pytest.raises(ConfigError) as refused:
        parse_config(site_toml(tmp_path / "data") + _camera(url), "site.toml")
    text = str(refused.value)
    assert "devices[2].url" in text  # the url is the problem named
    assert secret not in text, text
    assert "admin:***@192.168.1.64:554" in text  # the user and the host still say which camera


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp:/admin:pw@192.0.2.10/ch1", "rtsp:/admin:***@192.0.2.10/ch1"),
        ("rtsp:admin:pw@192.0.2.10/ch1", "rtsp:***@192.0.2.10/ch1"),
        ("rtsp:///admin:pw@192.0.2.10/ch1", "rtsp:///admin:***@192.0.2.10/ch1"),
        ("admin:pw@192.0.2.10:554/ch1", "admin:***@192.0.2.10:554/ch1"),
        ("admin:p@ss/w0rd@192.0.2.10/ch1", "admin:***@192.0.2.10/ch1"),
        ("admin:/pw@192.0.2.10/ch1", "admin:***@192.0.2.10/ch1"),
        ("rtsp://admin:my pass@192.0.2.10/ch1", "rtsp://admin:***@192.0.2.10/ch1"),
        ("usb:0", "usb:0"),
        ("/srv/video/gate.mp4", "/srv/video/gate.mp4"),
    ],
)
def test_a_url_without_its_scheme_slashes_still_hides_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_user_and_password_in_a_message_are_hidden_whatever_precedes_them() -> None:
    text = "cannot open 'rtsp:/admin:Adm1n@2024!@192.0.2.10/ch1': also admin:x@h:554/v at 12:30"
    assert (
        redact_urls(text) == "cannot open 'rtsp:/admin:***@192.0.2.10/ch1': also admin:***@h:554/v at 12:30"
    )
