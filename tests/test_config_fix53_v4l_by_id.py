"""A USB camera named by its stable path, /dev/v4l/by-id/usb-...-video-index0, was taken for a video
file (only usb:N and /dev/video* were V4L2): opened with FFmpeg, looped as a recording, never judged
frozen, and the check of one USB camera configured twice skipped it. Any /dev/ path is a V4L2
device, and the check compares the device each names (links followed)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest

from drivers.cameras.capture import capture_source
from gateway.config import ConfigError, devicecheck, parse_config
from tests.conftest import site_toml

BY_ID = "/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_ABC-video-index0"


def _cameras(tmp_path: Path, *urls: str) -> str:
    lanes = ["car-in", "car-out"]
    return site_toml(tmp_path / "data") + "".join(
        f'\n[[devices]]\nid = "cam-{i}"\nlane = "{lanes[i]}"\nkind = "camera"\ndriver = "opencv"\n'
        f'url = "{url}"\n'
        for i, url in enumerate(urls)
    )


@pytest.mark.parametrize(
    "url", [BY_ID, "/dev/v4l/by-path/platform-xhci-hcd.0-usb-0:1:1.0-video-index0", "/dev/video2"]
)
def test_a_device_path_is_opened_as_a_v4l2_camera(url: str) -> None:
    assert capture_source(url) == (url, cv2.CAP_V4L2, False)


def test_usb_numbers_and_files_are_as_before() -> None:
    assert capture_source("usb:1") == (1, cv2.CAP_V4L2, False)
    assert capture_source("/srv/replay/gate.mp4") == ("/srv/replay/gate.mp4", cv2.CAP_FFMPEG, True)
    assert capture_source("rtsp://cam/1") == ("rtsp://cam/1", cv2.CAP_FFMPEG, False)


def test_one_by_id_camera_configured_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_cameras(tmp_path, BY_ID, BY_ID), "site.toml")
    assert "devices[3].url: this USB camera is also used by device 'cam-0'" in info.value.render()


def test_a_by_id_link_and_the_usb_number_it_points_at_are_one_camera(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.path.realpath
    # As udev makes it: the by-id name is a link to ../../video0.
    monkeypatch.setattr(devicecheck.os.path, "realpath", lambda p: "/dev/video0" if p == BY_ID else real(p))
    with pytest.raises(ConfigError) as info:
        parse_config(_cameras(tmp_path, "usb:0", BY_ID), "site.toml")
    assert "this USB camera is also used by device 'cam-0'" in info.value.render()
