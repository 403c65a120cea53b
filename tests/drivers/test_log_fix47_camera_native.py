"""A camera switched off or unplugged: what the journal gets while it stays so."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivers.cameras.capture import OpenCvCamera
from tests.drivers.conftest import health, wait_for

OFF_CAMERA = "rtsp://admin:secret1@127.0.0.1:9/Streaming/Channels/102"


def _native(text: str) -> list[str]:
    """OpenCV's and FFmpeg's own lines ("[ WARN:0@0.005] global cap.cpp...", "[tcp @ 0x55...]
    Connection to ...", "[OPENCV:FFMPEG:16] ..."), not Python's (a handler an earlier test left on
    a closed stream writes "--- Logging error ---" there)."""
    return [line for line in text.splitlines() if line.startswith("[")]


def test_a_camera_left_unplugged_does_not_write_to_the_journal_at_every_reconnect(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A camera that is off (nothing answers at its address) is retried every 5 s for as long as
    it is off; each attempt wrote OpenCV/FFmpeg's own two lines to stderr ("Connection to tcp://...
    failed", "VIDEOIO(FFMPEG): backend is generally available but can't be used to capture by
    name"), which the service's journal takes: about 24 lines a minute per camera, for days. The
    installer gets the gateway's one "device offline" line. (cv2 is already imported here, by
    the drivers' conftest, before capture.py is.)"""
    caplog.set_level(logging.INFO)
    camera = OpenCvCamera(
        health("gate-cam", "camera", "car-in"),
        OFF_CAMERA,
        read_timeout_s=1,
        reconnect_max_s=0.2,  # 5 s in the product: 3 s here stand for over a minute of retries
    )
    capfd.readouterr()
    camera.start(lambda kind, value, confidence: None)
    try:
        wait_for(lambda: camera.health.last_error, "the failed open")
        time.sleep(3.0)
    finally:
        camera.stop()
    native = _native(capfd.readouterr().err)
    offline = [r for r in caplog.records if "device offline" in r.getMessage()]
    assert len(offline) == 1  # the gateway's own line: once, as it should
    assert len(native) <= 1, f"{len(native)} native lines on stderr in 3 s, e.g. {native[:2]}"


_OPEN_ONCE = f"""
import cv2
{{first}}
from drivers.cameras.capture import capture_source
source, backend, _ = capture_source({OFF_CAMERA!r})
cap = cv2.VideoCapture(source, backend, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 1000])
print("opened" if cap.isOpened() else "not opened")
"""


@pytest.mark.parametrize(
    ("first", "env", "quiet"),
    [
        ("import plates.recognizer", {}, True),  # cv2 imported by the recognizer before the camera driver
        ("", {"OPENCV_LOG_LEVEL": "WARNING", "OPENCV_FFMPEG_LOGLEVEL": "16"}, False),  # an installer's choice
    ],
)
def test_native_lines_are_quiet_whatever_imported_cv2_first_and_an_installer_can_have_them_back(
    first: str, env: dict[str, str], quiet: bool
) -> None:
    """A fresh process, as the service is: OpenCV's and FFmpeg's own lines are quiet whichever
    module imported cv2 first; set in the environment (docs/hardware.md), they come back."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_ONCE.format(first=first)],
        env={**clean, **env},
        cwd=Path(__file__).resolve().parents[2],  # the repository: drivers/ and plates/ import
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "not opened" in done.stdout.splitlines()
    native = _native(done.stdout + done.stderr)  # OpenCV's own go to either
    assert (native == []) == quiet, native
