"""Review 64Rg (93cc7233): check-config and the start refused a working camera url with no password
in its address. XiongMai/XMEye cameras take their login in the path,
rtsp://cam1:554/user=admin&password=p@ss2026&channel=1&stream=0.sdp: with a LAN host name with no
dot (cam1, east-cam: a hosts entry or the router's DNS), a port and an '@' in the path it was refused
"the user name or password holds '/'" (exit 78 at the start: an upgrade stopped the whole site for a
camera that worked), the value shown with the password's end (***@ss2026&...). FFmpeg takes the
authority up to the first '/' (cam1:554, no login in it) and opens it. The same url with an IP
address or cam1.local was taken, but its password's end was shown in the journal all the same.

Now a `name:digits` authority is a host and its port. Only where the text after the url's last '@'
names a host (`admin:1234#ab@cam-east.local/h264`: a user and a password begun with digits, or a LAN
host, its port and an '@' in the path) is it said, as a warning, with nothing of the url shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drivers.urls import redact_url, redact_urls
from gateway.config import parse_config
from tests.conftest import site_toml

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ["192.168.1.10", "cam1.local", "cam1", "east-cam"]
XM = [
    "rtsp://{host}:554/user=admin&password=p@ss2026&channel=1&stream=0.sdp",
    "rtsp://{host}:554/user=admin_password=p@ss2026_channel=1_stream=0.sdp",
    "rtsp://{host}:554/user=admin&password=p@ss2026",
]

CAMERA = """
[[devices]]
id = "in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "{url}"
"""


def check_config(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data") + CAMERA.format(url=url), "utf-8")
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("form", XM)
def test_a_login_in_the_path_is_taken_without_a_word(tmp_path: Path, host: str, form: str) -> None:
    url = form.format(host=host)
    cfg = parse_config(site_toml(tmp_path / "data") + CAMERA.format(url=url), "site.toml")
    assert cfg.devices[-1].url == url  # type: ignore[union-attr]
    done = check_config(tmp_path, url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in-camera" not in done.stdout + done.stderr  # no warning of it either


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("form", XM)
def test_no_part_of_the_password_in_the_path_is_shown(host: str, form: str) -> None:
    url = form.format(host=host)
    for shown in (redact_url(url), redact_urls(f"camera offline: cannot open {url} (timeout)")):
        assert "ss2026" not in shown and "p@" not in shown, shown
        assert f"rtsp://{host}:" in shown  # which camera it is


def test_a_password_begun_with_digits_is_warned_of_not_refused(tmp_path: Path) -> None:
    """admin:1234 reads as a host and its port as well: refusing it would stop the start for a LAN
    camera named admin. The warning says what to do in either case, showing nothing of the url."""
    done = check_config(tmp_path, "rtsp://admin:1234#ab9x@cam-east.local/h264")
    assert done.returncode == 0, done.stdout + done.stderr
    (warning,) = [line for line in done.stdout.splitlines() if "in-camera" in line]
    assert "devices[2]" in warning and "%23" in warning
    assert "1234" not in done.stdout + done.stderr and "ab9x" not in done.stdout + done.stderr
