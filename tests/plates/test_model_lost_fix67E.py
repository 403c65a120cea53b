"""The plate model lost or damaged (fsck on a failing card, a package half installed; Review 67 E3):
ModelError stopped the whole gateway at start, its cards, typed plates, relays and guard pages with
it, and systemd restarted it every 2 s for ever; `gateway check-config` said ok. The camera is
offline, with the model's error and an alarm, and the rest runs; check-config says what to do."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG
from plates.model import DEFAULT_MODEL
from tests.conftest import site_toml
from tests.ui.conftest import CARD, decided, make_config, start_site, stored, wait_for

CAMERA = textwrap.dedent(
    """
    [[devices]]
    id = "car-in-lpr"
    lane = "car-in"
    kind = "camera"
    driver = "opencv"
    url = "rtsp://127.0.0.1:9/none"
    """
)


def test_a_lost_plate_model_leaves_its_camera_offline_and_the_rest_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("plates.model.DEFAULT_MODEL", tmp_path / "lost" / "plate_rec.onnx")
    site = start_site(make_config(tmp_path / "data", CAMERA))
    try:
        [camera] = [h for h in site.gw.devices.health if h.device == "car-in-lpr"]
        assert not camera.online and "plate model" in camera.last_error, camera.last_error
        wait_for(
            lambda: (
                stored(site, "SELECT kind FROM alarms WHERE source = 'car-in-lpr'") == [("device_offline",)]
            )
        )
        assert decided(site, "door-reader", "card", CARD)["admitted"] == 1
    finally:
        site.gw.stop()


def test_check_config_loads_the_model_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "cut" / "plate_rec.onnx"
    damaged.parent.mkdir()
    damaged.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])  # cut short
    monkeypatch.setattr("plates.model.DEFAULT_MODEL", damaged)
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data") + CAMERA, encoding="utf-8")
    assert main(["check-config", str(config)]) == EX_CONFIG
    said = capsys.readouterr()
    assert "ok (" not in said.out
    assert "car-in-lpr cannot read plates" in said.err and "reinstall the package" in said.err, said.err
