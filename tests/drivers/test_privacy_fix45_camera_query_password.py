"""A camera's password written in its url's query (MJPEG-over-HTTP cameras take it as
`?user=admin&pwd=...`) is hidden as one in `user:password@` is: never in its health (served by the
anonymous /api/health) nor in the log (docs/hardware.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from drivers.cameras.capture import OpenCvCamera
from drivers.urls import redact_url, redact_urls
from tests.drivers.conftest import wait_for
from tests.drivers.test_cameras import Emitted, start_camera  # noqa: F401


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "http://192.0.2.10/videostream.cgi?user=admin&pwd=s3cret",
            "http://192.0.2.10/videostream.cgi?user=admin&pwd=***",
        ),
        (
            "http://192.0.2.10/snapshot.cgi?loginuse=admin&loginpas=s3cret&res=0",
            "http://192.0.2.10/snapshot.cgi?loginuse=admin&loginpas=***&res=0",
        ),
        ("http://192.0.2.10/mjpg?PASSWORD=s3cret#top", "http://192.0.2.10/mjpg?PASSWORD=***#top"),
        ("http://192.0.2.10/v.mjpg?token=abc;auth=xyz", "http://192.0.2.10/v.mjpg?token=***;auth=***"),
        (
            "http://192.0.2.10/v.mjpg?api_key=k1&passwd=&x=1",
            "http://192.0.2.10/v.mjpg?api_key=***&passwd=***&x=1",
        ),
        ("http://admin:pw@192.0.2.10/v.cgi?pwd=s3cret", "http://admin:***@192.0.2.10/v.cgi?pwd=***"),
        # Not secrets: a channel, a user name, a resolution stay, they say which camera is meant.
        ("rtsp://192.0.2.10/ch1?user=a@b", "rtsp://192.0.2.10/ch1?user=a@b"),
        ("http://192.0.2.10/v.cgi?channel=1&subtype=0", "http://192.0.2.10/v.cgi?channel=1&subtype=0"),
        ("http://192.0.2.10/v.cgi?keyframe=1", "http://192.0.2.10/v.cgi?keyframe=1"),
    ],
)
def test_a_password_in_the_query_is_hidden_and_the_rest_kept(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_password_in_a_query_inside_a_message_is_hidden() -> None:
    """In a message the value runs to the next space: a quote after the url goes with it, better
    than a password holding a quote shown."""
    text = "cannot open 'http://192.0.2.10/videostream.cgi?user=admin&pwd=s3cret': timed out"
    assert redact_urls(text) == "cannot open 'http://192.0.2.10/videostream.cgi?user=admin&pwd=*** timed out"
    shown = redact_urls("GET /cgi?channel=1&pwd=s3cret&res=0 failed")
    assert shown == "GET /cgi?channel=1&pwd=***&res=0 failed"


def test_a_camera_password_in_the_url_query_never_reaches_the_health_report(
    start_camera: Callable[..., tuple[OpenCvCamera, Emitted]],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An MJPEG camera configured as http://host/videostream.cgi?user=admin&pwd=s3cret that cannot
    be reached: its health (served by the unauthenticated /api/health, and logged) named the url
    with the password in clear; it shows it as *** as it does for rtsp://admin:***@host."""
    caplog.set_level(logging.DEBUG)
    camera, _ = start_camera("http://127.0.0.1:9/videostream.cgi?user=admin&pwd=s3cret", read_timeout_s=1)
    error = wait_for(lambda: camera.health.last_error, "the failed open")
    assert "s3cret" not in error, error
    assert "pwd=***" in error, error
    assert "s3cret" not in caplog.text
