"""Device config: each snippet in docs/hardware.md validates; wrong wiring is caught, with a fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from gateway.config.devices import DRIVERS
from gateway.runtime.devices import FACTORIES, build_devices
from tests.conftest import site_toml

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hardware.md"
SNIPPETS = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def problems(tmp_path: Path, devices: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(site_toml(tmp_path) + devices, "site.toml")
    return [p.render("site.toml") for p in info.value.problems]


def test_every_driver_has_a_factory_and_a_documented_snippet() -> None:
    assert set(FACTORIES) == set(DRIVERS)
    documented = {d for s in SNIPPETS for d in re.findall(r'driver = "([a-z-]+)"', s)}
    assert documented == set(DRIVERS) - {"simulated"}


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: re.findall(r'id = "(.*?)"', s)[0])
def test_hardware_page_snippets_validate(tmp_path: Path, snippet: str) -> None:
    cfg = parse_config(site_toml(tmp_path) + "\n" + snippet, "site.toml")
    assert len(cfg.devices) > 2


def test_one_serial_port_for_two_devices_is_an_error_with_the_fix(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB0"
format = "em4100"

[[devices]]
id = "door-relay"
lane = "door"
kind = "relay"
driver = "lcus"
port = "/dev/ttyUSB0"
""",
    )
    assert len(found) == 1
    assert "devices[3].port: this serial port is also used by device 'door-reader'" in found[0]
    assert "fix: give each device its own port" in found[0]


def test_modbus_modules_share_a_bus_but_not_its_line_settings_or_coils(tmp_path: Path) -> None:
    module = """
[[devices]]
id = "m{n}"
lane = "car-in"
kind = "relay"
driver = "modbus"
port = "/dev/ttyUSB1"
baudrate = {baud}
unit = {unit}
coil = 0
"""
    ok = module.format(n=1, baud=9600, unit=1) + module.format(n=2, baud=9600, unit=2)
    cfg = parse_config(site_toml(tmp_path) + ok, "site.toml")
    assert len(cfg.devices) == 4
    bad = module.format(n=1, baud=9600, unit=1) + module.format(n=2, baud=19200, unit=1)
    found = "\n".join(problems(tmp_path, bad))
    assert "devices[3].baudrate: one RS-485 bus has one line setting" in found
    assert "devices[3].coil: unit 1 coil 0 already drives device 'm1'" in found


LCUS_CHANNEL = """
[[devices]]
id = "{id}"
lane = "{lane}"
kind = "relay"
driver = "lcus"
port = "/dev/ttyUSB0"
channel = {channel}
baudrate = {baud}
"""


def lcus(device: str, lane: str, channel: int, baud: int = 9600) -> str:
    return LCUS_CHANNEL.format(id=device, lane=lane, channel=channel, baud=baud)


def test_two_channels_of_one_lcus_board_drive_two_lanes(tmp_path: Path) -> None:
    """docs/hardware.md lists LCUS-2/4/8 boards: an entrance and an exit barrier on the two channels
    of one LCUS-2 (one USB port) is a valid site."""
    cfg = parse_config(
        site_toml(tmp_path) + lcus("entry-barrier", "car-in", 1) + lcus("exit-barrier", "car-out", 2),
        "site.toml",
    )
    assert [d.id for d in cfg.devices if d.driver == "lcus"] == ["entry-barrier", "exit-barrier"]


def test_one_lcus_channel_twice_or_two_speeds_on_one_board_is_an_error(tmp_path: Path) -> None:
    found = "\n".join(
        problems(
            tmp_path,
            lcus("entry-barrier", "car-in", 1)
            + lcus("exit-barrier", "car-out", 1)
            + lcus("door", "door", 2, 19200),
        )
    )
    assert "devices[3].channel: channel 1 of this board already drives device 'entry-barrier'" in found
    assert "fix: wire the barrier to another channel of the board and set that channel here" in found
    assert "devices[4].baudrate: one LCUS board has one line setting" in found


def test_a_gpio_pin_wired_twice(tmp_path: Path) -> None:
    devices = """
[[devices]]
id = "io-a"
lane = "car-in"
kind = "relay"
driver = "gpio"
pin = 17
inputs = { car_present = 22 }

[[devices]]
id = "io-b"
lane = "car-out"
kind = "sensor"
driver = "gpio"
inputs = { barrier_open = 22 }
"""
    line = (site_toml(tmp_path) + devices).splitlines().index("inputs = { barrier_open = 22 }") + 1
    assert problems(tmp_path, devices) == [
        f"site.toml:{line}: devices[3].inputs.barrier_open: GPIO22 is already used by device "
        "'io-a' (inputs.car_present) (found 22)\n    fix: wire it to a free pin and give that "
        "pin's BCM number here"
    ]


def test_driver_mistakes_are_explained_with_the_driver_s_own_keys(tmp_path: Path) -> None:
    found = "\n".join(
        problems(
            tmp_path,
            """
[[devices]]
id = "a"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "ttyUSB0"
format = "em4100"
baud = 9600

[[devices]]
id = "b"
lane = "door"
kind = "relay"
driver = "lcuss"

[[devices]]
id = "c"
lane = "car-in"
kind = "sensor"
driver = "modbus"
port = "/dev/ttyUSB3"

[[devices]]
id = "d"
lane = "car-in"
kind = "display"
driver = "voice"
command = ["espeak-ng"]

[[devices]]
id = "e"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "192.168.1.64"

[[devices]]
id = "f"
lane = "car-in"
kind = "relay"
driver = "gpio"
pin = 40
inputs = { barrier_open = 5, barrier_closed = 6 }
""",
        )
    )
    assert "devices[2].port: a serial port is a device path" in found
    assert "devices[2].baud: Extra inputs are not permitted" in found
    assert "did you mean 'baudrate'?" in found and "wiegand_bits" in found  # its own keys
    assert "devices[3].driver: unknown driver (found 'lcuss')" in found
    assert "did you mean 'lcus'?" in found
    assert "devices[4]: a sensor needs at least one input" in found
    assert 'add "{text}"' in found
    assert "devices[6].url: use rtsp://" in found
    assert "devices[7].pin: Input should be less than or equal to 27" in found
    assert "wire barrier_open or barrier_closed, not both" in found


def test_modules_on_one_bus_share_one_connection(tmp_path: Path) -> None:
    cfg = parse_config(
        site_toml(tmp_path)
        + """
[[devices]]
id = "m1"
lane = "car-in"
kind = "relay"
driver = "modbus"
port = "/nonexistent/ttyUSB-bus"
coil = 0
inputs = { car_present = 1 }
reconnect_max_s = 0.2

[[devices]]
id = "m2"
lane = "car-out"
kind = "sensor"
driver = "modbus"
port = "/nonexistent/ttyUSB-bus"
unit = 2
inputs = { barrier_open = 0 }
open_grace_s = 4
""",
        "site.toml",
    )
    devices = build_devices(cfg)
    try:
        assert len(devices.shared) == 1  # one bus, one thread, one port
        assert [r.health.device for r in devices.lanes["car-in"].relays] == ["car-in-barrier", "m1"]
        assert [s.health.device for s in devices.lanes["car-in"].sensors] == ["m1"]
        assert [s.health.device for s in devices.lanes["car-out"].sensors] == ["m2"]
        assert devices.lanes["car-out"].relays == []
        assert devices.open_grace_s == {"car-out": 4.0}  # m1 wires no barrier contact: no window
    finally:
        devices.close()


def test_a_patrol_route_through_a_door_reader_is_an_error(tmp_path: Path) -> None:
    reader = """
[[devices]]
id = "{id}"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB{n}"
format = "em4100"
role = "{role}"
"""
    route = """
[[patrol.routes]]
id = "night"
checkpoints = ["cp-gate", "door-reader"]
hours = "22:00-06:00"
"""
    devices = reader.format(id="cp-gate", n=1, role="patrol") + reader.format(
        id="door-reader", n=2, role="access"
    )
    found = problems(tmp_path, route + devices)
    assert len(found) == 1
    assert "patrol.routes[0].checkpoints[1]: this reader opens a door" in found[0]
    assert """set role = "patrol" on device 'door-reader'""" in found[0]
    ok = devices.replace('role = "access"', 'role = "patrol"')
    assert parse_config(site_toml(tmp_path) + route + ok, "site.toml").patrol.routes[0].id == "night"


def test_a_qr_scanner_as_a_patrol_checkpoint_is_an_error_with_the_fix(tmp_path: Path) -> None:
    """Patrol taps are guards' cards: a checkpoint set to read QR passes would record nothing."""
    found = problems(
        tmp_path,
        """
[[devices]]
id = "cp-gate"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB1"
format = "qr"
role = "patrol"
""",
    )
    assert len(found) == 1
    assert "a patrol checkpoint reads guards' cards, not QR passes" in found[0]
    assert 'or role = "access" for a QR scanner at a door' in found[0]


CAMERA_ON_ONNXRUNTIME = """
[[devices]]
id = "gate-cam"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "rtsp://192.168.1.64/stream1"
plate_backend = "onnxruntime"
"""


def test_faster_plate_runtime_is_checked_before_the_gateway_starts(
    tmp_path: Path, hide_onnxruntime: Callable[[], None]
) -> None:
    cfg = parse_config(site_toml(tmp_path) + CAMERA_ON_ONNXRUNTIME, "site.toml")
    assert [d.plate_backend for d in cfg.devices if d.id == "gate-cam"] == ["onnxruntime"]
    hide_onnxruntime()
    found = problems(tmp_path, CAMERA_ON_ONNXRUNTIME)
    assert len(found) == 1
    assert "plate_backend: onnxruntime is not installed on this box" in found[0]
    assert "fix: run `pip install 'estate-gateway[fast]'`" in found[0]


def test_one_usb_camera_for_two_devices_is_an_error_with_the_fix(tmp_path: Path) -> None:
    camera = """
[[devices]]
id = "{id}"
lane = "{lane}"
kind = "camera"
driver = "opencv"
url = "{url}"
"""
    found = problems(
        tmp_path,
        camera.format(id="in-camera", lane="car-in", url="usb:0")
        + camera.format(id="out-camera", lane="car-out", url="/dev/video0"),
    )
    assert len(found) == 1
    assert "devices[3].url: this USB camera is also used by device 'in-camera'" in found[0]
    assert "fix: a USB (V4L2) camera streams to one reader only" in found[0]
    two = camera.format(id="in-camera", lane="car-in", url="usb:0")
    two += camera.format(id="out-camera", lane="car-out", url="usb:1")
    assert len(parse_config(site_toml(tmp_path) + two, "site.toml").devices) > 2
