"""A camera password in its url is never shown (docs/hardware.md: "The password is never shown: the
log, the camera's health (/api/health) and config errors"), also where the camera takes it outside a
`?name=value` query."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.cameras.capture import OpenCvCamera
from drivers.urls import redact_url, redact_urls
from gateway.config import ConfigError, parse_config
from tests.conftest import site_toml
from tests.drivers.conftest import wait_for
from tests.drivers.test_cameras import Emitted, start_camera  # noqa: F401

# Xiongmai (XMEye) cameras and NVRs, common on Chinese sites, take the login in the path, parted by _.
XMEYE = "rtsp://127.0.0.1:9/user=admin_password=tlJwpbo6_channel=1_stream=0.sdp?real_stream"


def test_a_xmeye_camera_password_in_the_path_is_hidden() -> None:
    """An installer configures a Xiongmai camera as its manual says (user=admin_password=..._channel=1):
    the url as the gateway shows it keeps the password in clear; it should show password=***."""
    shown = redact_url(XMEYE)
    assert "tlJwpbo6" not in shown, f"the camera password is shown: {shown}"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (XMEYE, "rtsp://127.0.0.1:9/user=admin_password=***_channel=1_stream=0.sdp?real_stream"),
        # A password holding '_' or a space is hidden whole, up to the next `_name=`.
        ("rtsp://h/user=admin_password=a_b c_channel=1", "rtsp://h/user=admin_password=***_channel=1"),
        ("rtsp://h/user=admin_pwd=x&channel=1", "rtsp://h/user=admin_pwd=***&channel=1"),
        # A whole url's query value runs across spaces to the next '&', ';' or '#'.
        ("http://h/v.cgi?user=admin&pwd=tiger lily&channel=1", "http://h/v.cgi?user=admin&pwd=***&channel=1"),
        ("http://h/v.cgi?user=admin&pwd=tiger lily;x=1", "http://h/v.cgi?user=admin&pwd=***;x=1"),
        # Names that are no secret are kept: the camera is still told apart.
        ("rtsp://h/user=admin_channel=1_stream=0.sdp", "rtsp://h/user=admin_channel=1_stream=0.sdp"),
    ],
)
def test_a_url_shown_hides_the_secrets_in_its_path_and_query(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_message_hides_a_xmeye_password_up_to_the_next_space() -> None:
    said = redact_urls(f"cannot open {XMEYE}: timed out")
    shown = "rtsp://127.0.0.1:9/user=admin_password=***_channel=1_stream=0.sdp?real_stream"
    assert said == f"cannot open {shown}: timed out"


def test_a_xmeye_camera_password_never_reaches_the_health_report(
    start_camera: Callable[..., tuple[OpenCvCamera, Emitted]],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The camera cannot be reached: its health, served by the anonymous /api/health and logged,
    names the url with the password in clear; it should be hidden as for rtsp://admin:***@host."""
    caplog.set_level(logging.DEBUG)
    camera, _ = start_camera(XMEYE, read_timeout_s=1)
    error = wait_for(lambda: camera.health.last_error, "the failed open")
    assert "tlJwpbo6" not in error, f"the camera password is in /api/health: {error}"
    assert "tlJwpbo6" not in caplog.text, "the camera password is in the journal"


def test_a_query_password_holding_a_space_is_hidden_whole_in_a_config_error(tmp_path: Path) -> None:
    """An MJPEG camera's password with a space typed into its url's query: the config check refuses
    the url and prints it with the password's second word in clear (pwd=*** secret); the url taken
    as one value, the password should be hidden whole, as one with a space in user:password@ is."""
    camera = """
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "http://192.0.2.10/videostream.cgi?user=admin&pwd=tiger lily"
"""
    with pytest.raises(ConfigError) as err:
        parse_config(site_toml(tmp_path / "data") + camera, "site.toml")
    text = err.value.render()
    assert "devices[2].url" in text, text
    assert "lily" not in text, f"part of the camera password is printed: {text}"
