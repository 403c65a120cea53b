"""Checks across devices: a serial port, a GPIO pin or a USB camera belongs to one device (as in
ESPHome), but for the modules of one Modbus bus and the channels of one LCUS board."""

from __future__ import annotations

import importlib.util
import os
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from drivers.relays.gpio import NO_GPIOZERO_FIX, NO_PIN_LIBRARY_FIX, pin_library_found
from drivers.urls import userinfo_cut, userinfo_maybe_cut
from gateway.config.devices import (
    CameraDevice,
    GpioDevice,
    LcusRelayDevice,
    ModbusDevice,
    SerialDisplayDevice,
    SerialReaderDevice,
)
from gateway.config.models import SiteConfig
from gateway.config.problems import Loc, Problem

_Serial = SerialReaderDevice | LcusRelayDevice | ModbusDevice | SerialDisplayDevice
PASSWORD_CHARACTERS_FIX = (
    "write # as %23, ? as %3F, / as %2F in the url's password (P#ss is written P%23ss); the camera's "
    "password stays as it is"
)


def check_devices(cfg: SiteConfig) -> list[Problem]:
    return (
        _serial_ports(cfg)
        + _usb_cameras(cfg)
        + _camera_logins(cfg)
        + _gpio_pins(cfg)
        + _checkpoints(cfg)
        + _plate_backends(cfg)
    )


@dataclass(frozen=True, slots=True)
class _Use:
    """A device's use of something only one device may have: a camera, a coil, a channel, a pin."""

    thing: Hashable
    name: str  # the thing in a problem's words: "GPIO22"
    owner: str  # this device in a later use's problem: "device 'entry-barrier'"
    path: Loc  # the config key of the use
    value: object


def _used_once(uses: Iterable[_Use], verb: str, fix: str) -> list[Problem]:
    """The first device listed keeps each thing; every later use of it is a problem that names
    the first ("GPIO22 is already used by device 'x' (pin)")."""
    owners: dict[Hashable, str] = {}
    problems: list[Problem] = []
    for use in uses:
        if use.thing in owners:
            problems.append(Problem(use.path, f"{use.name} {verb} {owners[use.thing]}", use.value, fix=fix))
        else:
            owners[use.thing] = use.owner
    return problems


def _usb_cameras(cfg: SiteConfig) -> list[Problem]:
    """A V4L2 camera streams to one reader at a time: a second device on it never gets a frame."""
    uses = []
    for i, device in enumerate(cfg.devices):
        if not isinstance(device, CameraDevice):
            continue
        url = device.url
        if url.startswith("usb:"):
            url = f"/dev/video{int(url[4:])}"  # usb:0 is /dev/video0
        elif not url.startswith("/dev/"):
            continue
        node = os.path.realpath(url)  # /dev/v4l/by-id/... is a link to a /dev/videoN
        uses.append(_Use(node, "this USB camera", f"device {device.id!r}", ("devices", i, "url"), device.url))
    return _used_once(
        uses,
        "is also used by",
        fix="a USB (V4L2) camera streams to one reader only: give each lane its own camera",
    )


def _camera_logins(cfg: SiteConfig) -> list[Problem]:
    """A camera url whose password holds '#', '?' or '/' (Hikvision asks for a special character,
    and it is typed as set): FFmpeg never logs in with it, and the camera is offline saying to
    check the password, which is right. Written percent-encoded (%23), FFmpeg reads it."""
    problems = []
    for i, device in enumerate(cfg.devices):
        if not isinstance(device, CameraDevice):
            continue
        cut = userinfo_cut(device.url)
        if not cut:
            continue
        held = " and ".join(f"'{c}'" for c in cut)
        problems.append(
            Problem(
                ("devices", i, "url"),
                f"the user name or password holds {held}: FFmpeg, which opens the camera, ends "
                "them at the first '/', '?' or '#', so it never logs in (the camera stays "
                "offline, as if the password were wrong)",
                device.url,
                fix=PASSWORD_CHARACTERS_FIX,
            )
        )
    return problems


def camera_login_warnings(cfg: SiteConfig) -> list[str]:
    """A camera url that begins `name:digits` and names a host after a later '@'
    (userinfo_maybe_cut): a LAN host, its port and an '@' in the path, which FFmpeg opens, or a user
    name and a password begun with digits holding '#', '?' or '/', which it never logs in with. A
    warning, where _camera_logins refuses: refused, a camera that works would stop the start. The
    url is not shown, not even with the password hidden: either reading's password would show."""
    return [
        f"devices[{i}].url (device {device.id!r}): what comes before its first '/', '?' or '#' reads "
        "as a host name and port, and a host is named again after a later '@': if it is a user name "
        "and a password instead, FFmpeg, which opens the camera, ends the password at that '/', '?' "
        "or '#' and never logs in (the camera offline, as if the password were wrong); fix: "
        f"{PASSWORD_CHARACTERS_FIX} (a url with no user name or password there is right as it is)"
        for i, device in enumerate(cfg.devices)
        if isinstance(device, CameraDevice) and userinfo_maybe_cut(device.url)
    ]


def _plate_backends(cfg: SiteConfig) -> list[Problem]:
    """A camera asking for onnxruntime on a box without it would fail at start, not at check."""
    if importlib.util.find_spec("onnxruntime") is not None:
        return []
    return [
        Problem(
            ("devices", i, "plate_backend"),
            "onnxruntime is not installed on this box",
            device.plate_backend,
            fix="run `pip install 'estate-gateway[fast]'`, or set plate_backend = \"opencv\"",
        )
        for i, device in enumerate(cfg.devices)
        if isinstance(device, CameraDevice) and device.plates and device.plate_backend == "onnxruntime"
    ]


def gpio_library_warnings(cfg: SiteConfig) -> list[str]:
    """gpio devices on a box without gpiozero (the `gpio` extra), or without a pin library for it
    (lgpio from apt, which a venv sees when made with --system-site-packages): each starts offline
    and its barrier never opens. A warning, unlike onnxruntime's problem above: the config may be
    checked on another machine than the Pi, and a box without GPIO devices needs neither."""
    gpio = [d.id for d in cfg.devices if isinstance(d, GpioDevice)]
    if not gpio:
        return []
    devices = f"devices: {', '.join(gpio)} (driver gpio)"
    if importlib.util.find_spec("gpiozero") is None:
        return [
            f"{devices} need gpiozero, which is not installed here: the gateway starts and shows "
            f"them offline, and their relays never pulse; fix: {NO_GPIOZERO_FIX}"
        ]
    if not pin_library_found():
        return [
            f"{devices}: gpiozero finds no pin library here (lgpio, RPi.GPIO, pigpio): the gateway "
            "starts and shows them offline (Unable to load any default pin factory), and their "
            f"relays never pulse; fix: {NO_PIN_LIBRARY_FIX}"
        ]
    return []


def _checkpoints(cfg: SiteConfig) -> list[Problem]:
    """A patrol route's checkpoint must be a reader that records taps, not one that opens a door."""
    door_readers = {d.id for d in cfg.devices if isinstance(d, SerialReaderDevice) and d.role == "access"}
    return [
        Problem(
            ("patrol", "routes", i, "checkpoints", j),
            "this reader opens a door; its reads are access requests, never patrol taps",
            checkpoint,
            fix=f'set role = "patrol" on device {checkpoint!r}, or list a patrol reader here',
        )
        for i, route in enumerate(cfg.patrol.routes)
        for j, checkpoint in enumerate(route.checkpoints)
        if checkpoint in door_readers
    ]


def _serial_ports(cfg: SiteConfig) -> list[Problem]:
    by_port: dict[str, list[tuple[int, _Serial]]] = defaultdict(list)
    for i, device in enumerate(cfg.devices):
        if isinstance(device, _Serial):
            # /dev/serial/by-id/... and /dev/ttyUSB0 may name the same adapter.
            by_port[os.path.realpath(device.port)].append((i, device))
    problems: list[Problem] = []
    for users in by_port.values():
        first = users[0][1]
        if all(isinstance(d, ModbusDevice) for _, d in users):
            problems += _modbus_bus(users)  # several modules on one RS-485 bus is how Modbus works
            continue
        if all(isinstance(d, LcusRelayDevice) for _, d in users):
            problems += _lcus_board(users)  # an LCUS-2/4/8 board's channels may serve several lanes
            continue
        for i, device in users[1:]:
            problems.append(
                Problem(
                    ("devices", i, "port"),
                    f"this serial port is also used by device {first.id!r}",
                    device.port,
                    fix="give each device its own port (a serial port opens for one program only); "
                    "only the modules of one Modbus bus (each its own unit id) and the channels of "
                    "one LCUS board (each its own channel) share a port",
                )
            )
    return problems


def _one_line(users: list[tuple[int, _Serial]], keys: tuple[str, ...], what: str, fix: str) -> list[Problem]:
    """Devices sharing a port share its line settings: the first one listed sets them."""
    first = users[0][1]
    line = [getattr(first, key) for key in keys]
    return [
        Problem(
            ("devices", i, keys[0]),
            f"{what} has one line setting; device {first.id!r} on this port uses {' '.join(map(str, line))}",
            getattr(device, keys[0]),
            fix=fix,
        )
        for i, device in users
        if [getattr(device, key) for key in keys] != line
    ]


def _modbus_bus(users: list[tuple[int, _Serial]]) -> list[Problem]:
    problems = _one_line(
        users,
        ("baudrate", "parity", "stopbits"),
        "one RS-485 bus",
        "set the same baudrate, parity and stopbits on every module of the bus",
    )
    coils = [
        _Use(
            (device.unit, device.coil),
            f"unit {device.unit} coil {device.coil}",
            f"device {device.id!r}",
            ("devices", i, "coil"),
            device.coil,
        )
        for i, device in users
        if isinstance(device, ModbusDevice) and device.coil is not None
    ]
    problems += _used_once(coils, "already drives", fix="use another coil or unit")
    # A discrete input read for two roles or by two lanes (a block copied with its loop's input
    # kept) reads one contact as both: the loop's "no car" is the barrier's "not down", 强行开门 at
    # an idle lane. Refused, as a GPIO pin wired twice is; a lane's loop is its own.
    inputs = [
        _Use(
            (device.unit, address),
            f"unit {device.unit} input {address}",
            f"device {device.id!r} (inputs.{name})",
            ("devices", i, "inputs", name),
            address,
        )
        for i, device in users
        if isinstance(device, ModbusDevice)
        for name, address in device.inputs.model_dump().items()
        if address is not None
    ]
    return problems + _used_once(
        inputs,
        "is already read by",
        fix="wire it to a free input of the module and give that input's number here",
    )


def _lcus_board(users: list[tuple[int, _Serial]]) -> list[Problem]:
    problems = _one_line(
        users, ("baudrate",), "one LCUS board", "set the same baudrate on every channel of the board"
    )
    channels = [
        _Use(
            device.channel,
            f"channel {device.channel} of this board",
            f"device {device.id!r}",
            ("devices", i, "channel"),
            device.channel,
        )
        for i, device in users
        if isinstance(device, LcusRelayDevice)
    ]
    return problems + _used_once(
        channels,
        "already drives",
        fix="wire the barrier to another channel of the board and set that channel here",
    )


def _gpio_pins(cfg: SiteConfig) -> list[Problem]:
    uses = []
    for i, device in enumerate(cfg.devices):
        if not isinstance(device, GpioDevice):
            continue
        pins: list[tuple[tuple[str, ...], int | None]] = [(("pin",), device.pin)]
        pins += [(("inputs", name), pin) for name, pin in device.inputs.model_dump().items()]
        uses += [
            _Use(pin, f"GPIO{pin}", f"device {device.id!r} ({'.'.join(key)})", ("devices", i, *key), pin)
            for key, pin in pins
            if pin is not None
        ]
    return _used_once(
        uses, "is already used by", fix="wire it to a free pin and give that pin's BCM number here"
    )
