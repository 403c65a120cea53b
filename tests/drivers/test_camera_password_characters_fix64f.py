"""Review 64C: a camera password holding #, ? or / never reaches the camera, and nothing said so.

Hikvision asks for a "special character"; the installer types the password as set, `Abc#1234`, in
`rtsp://admin:Abc#1234@192.168.1.64:554/...`. check-config said ok; at the start the camera was
offline with "check the url, that the camera is on the network and its user name and password",
all of them right: FFmpeg ends the url's user name and password at the first '/', '?' or '#', so it
asks another host and never logs in. Written %23 it works. The config check now refuses such a
url, saying how to write the character, and never shows the password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from tests.conftest import site_toml

ROOT = Path(__file__).resolve().parents[2]
FIX = "write # as %23, ? as %3F, / as %2F"

CAMERA = """
[[devices]]
id = "in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "{url}"
"""


def config(tmp_path: Path, url: str) -> str:
    return site_toml(tmp_path / "data") + CAMERA.format(url=url)


def problems(tmp_path: Path, url: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(config(tmp_path, url), "site.toml")
    return [p.render("site.toml") for p in info.value.problems]


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("rtsp://admin:Abc#1234@192.168.1.64:554/Streaming/Channels/102", "Abc#1234"),
        ("rtsp://admin:Abc?1234@192.168.1.64/Streaming/Channels/102", "Abc?1234"),
        ("rtsp://admin:Abc/1234@192.168.1.64:554/cam/realmonitor?channel=1&subtype=1", "Abc/1234"),
        ("rtsp://admin:12ab#34@cam-east.local/h264", "12ab#34"),
        ("http://admin:/x1?@192.168.1.70/video.mjpg", "/x1?"),
    ],
)
def test_a_password_ffmpeg_cannot_read_is_refused_with_how_to_write_it(
    tmp_path: Path, url: str, password: str
) -> None:
    (found,) = problems(tmp_path, url)
    assert "devices[2].url:" in found
    assert "FFmpeg" in found and "never logs in" in found
    assert FIX in found
    assert password not in found  # never shown, in the message, the value or the fix


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://admin:Abc%231234@192.168.1.64:554/Streaming/Channels/102",  # written as the fix says
        "rtsp://admin:p@ss:w0rd@192.168.1.64:554/Streaming/Channels/102",  # @ and : FFmpeg reads
        "rtsp://192.168.1.64:554/live?user=a@b#frag",  # no password: an '@' in the query
        "rtsp://cam-east.local:554/ch1?u=a@b",
        "rtsp://localhost:8554/ch1?u=a@b",
        "rtsp://admin:Abc1234@192.168.1.64:554/Streaming/Channels/102#x",
        "rtsp://192.168.1.64/user=admin_password=Abc#1234_channel=1_stream=0.sdp",  # XMEye: in the path
        "http://192.168.1.70/videostream.cgi?user=admin&pwd=Abc#1234",
        "usb:0",
    ],
)
def test_urls_ffmpeg_reads_are_taken(tmp_path: Path, url: str) -> None:
    cfg = parse_config(config(tmp_path, url), "site.toml")
    assert cfg.devices[-1].url == url  # type: ignore[union-attr]


def test_check_config_says_it_with_the_line_and_the_password_hidden(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(config(tmp_path, "rtsp://admin:Abc#1234@127.0.0.1:8554/Streaming/Channels/102"), "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 78, done.stdout + done.stderr
    assert "devices[2].url" in done.stderr and FIX in done.stderr
    assert "rtsp://admin:***@127.0.0.1:8554/Streaming/Channels/102" in done.stderr
    assert "Abc" not in done.stdout + done.stderr
