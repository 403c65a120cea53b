"""A camera's password never shows: not in its health (read by the anonymous /api/health), not in
the log. Camera passwords often hold '@' or ':'; FFmpeg ends the user information at the last '@'."""

from __future__ import annotations

import logging

import pytest

from drivers.cameras.capture import OpenCvCamera
from drivers.urls import redact_url, redact_urls
from tests.drivers.conftest import health, wait_for


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:s3cret@192.0.2.10:554/ch1", "rtsp://admin:***@192.0.2.10:554/ch1"),
        ("rtsp://admin:Adm1n@2024!@192.0.2.10:554/ch1", "rtsp://admin:***@192.0.2.10:554/ch1"),
        ("rtsp://admin:a:b@c@192.0.2.10/ch1?x=1", "rtsp://admin:***@192.0.2.10/ch1?x=1"),
        ("http://admin:p%40ss@192.0.2.10/video.mjpg", "http://admin:***@192.0.2.10/video.mjpg"),
        ("rtsp://admin:p@ss@[fe80::1/ch1", "rtsp://admin:***@[fe80::1/ch1"),  # urlsplit refuses it
        ("rtsp://192.0.2.10/ch1?user=a@b", "rtsp://192.0.2.10/ch1?user=a@b"),
        ("rtsp://admin@192.0.2.10/ch1", "rtsp://admin@192.0.2.10/ch1"),
        # '/', '?' and '#' end FFmpeg's authority, but a password may hold them all the same.
        ("rtsp://admin:Gate/2024x@192.0.2.10/ch1", "rtsp://admin:***@192.0.2.10/ch1"),
        ("rtsp://admin:Gate?2024x@192.0.2.10:554/ch1?a=1", "rtsp://admin:***@192.0.2.10:554/ch1?a=1"),
        ("rtsp://admin:Gate#2024x@192.0.2.10", "rtsp://admin:***@192.0.2.10"),
        ("rtsp://admin:G/a?t#e@2024x@192.0.2.10/ch1", "rtsp://admin:***@192.0.2.10/ch1"),
        # ... after an '@': FFmpeg's authority ends with an '@' in it, but not the password.
        ("rtsp://admin:Pa@ss/w0rd@192.0.2.10:554/ch1", "rtsp://admin:***@192.0.2.10:554/ch1"),
        ("rtsp://admin:Gate@2024#x9@192.0.2.10", "rtsp://admin:***@192.0.2.10"),
        # An '@' past the authority: the host and port stay when nothing there can be a password.
        ("rtsp://192.0.2.10:554/ch1?u=a@b", "rtsp://192.0.2.10:554/ch1?u=a@b"),
        ("rtsp://[2001:db8::5]:554/ch1?u=a@b", "rtsp://[2001:db8::5]:554/ch1?u=a@b"),
        ("rtsp://admin@192.0.2.10:554/ch1?u=a@b", "rtsp://admin@192.0.2.10:554/ch1?u=a@b"),
        # ... else the path is hidden with it: a password may be "1234/ch1?u=a" or "pw@host:554/ch1?u=a".
        ("rtsp://gate-cam:554/ch1?u=a@b", "rtsp://gate-cam:***@b"),
        ("rtsp://admin:pw@192.0.2.10:554/ch1?u=a@b", "rtsp://admin:***@b"),
        ("usb:0", "usb:0"),
        ("/srv/video/gate.mp4", "/srv/video/gate.mp4"),
    ],
)
def test_a_shown_url_keeps_the_user_and_hides_the_whole_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_urls_inside_a_message_are_redacted() -> None:
    text = "cannot open 'rtsp://admin:Adm1n@2024!@192.0.2.10/ch1': also http://u:x:y@h/v"
    assert redact_urls(text) == "cannot open 'rtsp://admin:***@192.0.2.10/ch1': also http://u:***@h/v"


@pytest.mark.parametrize(
    "password",
    ["Adm1n@2024!", "Gate/2024x", "Gate#2024x", "Gate?2024x", "Gate@2024/x", "Gate@2024#x", "Gate@2024?x"],
)
def test_an_unreachable_camera_never_shows_its_password(
    password: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on port 9: the open fails at once, as for a camera that is switched off.
    Hikvision asks for a "special character" in a password: an '@', '/', '#' or '?' must not end
    the part that is hidden, or the rest of the password shows in /api/health and the log
    (Gate@2024/x showed as admin:***@2024/x@...)."""
    caplog.set_level(logging.DEBUG)
    camera = OpenCvCamera(
        health("cam", "camera", "car-in"),
        f"rtsp://admin:{password}@127.0.0.1:9/Streaming/Channels/102",
        read_timeout_s=1,
        reconnect_max_s=0.3,
    )
    camera.start(lambda kind, value, confidence: None)
    try:
        error = wait_for(lambda: camera.health.last_error, "the failed open")
    finally:
        camera.stop()
    assert "rtsp://admin:***@127.0.0.1:9/Streaming/Channels/102" in error
    secret = password[-6:]
    assert secret not in error and secret not in caplog.text
