"""Building each lane's devices from the config. A new driver registers a factory in FACTORIES."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Protocol

from drivers.base import Camera, Display, Relay, Sensor, Source
from drivers.cameras.clips import ClipSettings
from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth
from drivers.simulated import Chooser, SimulatedDisplay, SimulatedRelay, SimulatedSource
from gateway.config import devices as cfgdev
from gateway.config.models import Device, SiteConfig

if TYPE_CHECKING:  # cv2 and the model only where a plate camera is configured
    from gateway.runtime.plate_reading import PlateReader

log = logging.getLogger(__name__)

CLIP_FRAME_AGE_S = 1.0
# A chooser for each simulated source, given the device and its lane; the demo supplies traffic.
ChooserFor = Callable[[Device], Chooser]


class PlateHolder(Protocol):
    """A plate camera's reader (gateway/runtime/plate_reading.py), told of plates decided without it,
    and asked whether its camera sees the lane now and whether a plate is still in its lane."""

    def hold(self, text: str) -> None: ...

    def watching(self) -> bool: ...

    def in_lane(self, text: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ClipCamera:
    """A camera that keeps event clips (gateway/runtime/event_clips.py): its newest frame, asked
    a few times a second, and how its clips are cut."""

    lane: str
    device: str
    latest: Callable[[], Frame | None]
    settings: ClipSettings


@dataclass
class LaneDevices:
    sources: list[Source] = field(default_factory=list)
    relays: list[Relay] = field(default_factory=list)
    displays: list[Display] = field(default_factory=list)
    sensors: list[Sensor] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)  # also in sources
    plate_readers: list[PlateHolder] = field(default_factory=list)  # one per plate camera


@dataclass
class Devices:
    lanes: dict[str, LaneDevices]
    health: list[DeviceHealth]
    patrol: set[str] = field(default_factory=set)  # ids of readers that are patrol checkpoints
    open_grace_s: dict[str, float] = field(default_factory=dict)  # per lane, from its sensors
    held_open_s: dict[str, float] = field(default_factory=dict)  # per lane, from its sensors
    rise_within_s: dict[str, float] = field(default_factory=dict)  # per lane, from its sensors
    barrier_contacts: set[str] = field(default_factory=set)  # lanes whose barrier position is wired
    doors: set[str] = field(default_factory=set)  # pedestrian lanes: their "barrier" is a door
    loop_only: set[str] = field(default_factory=set)  # sensors (device ids) wired to no barrier contact
    snapshot_quality: dict[str, int] = field(default_factory=dict)  # cameras that store snapshots
    clip_cameras: list[ClipCamera] = field(default_factory=list)  # cameras that keep event clips
    shared: list[Callable[[], None]] = field(default_factory=list)  # stopped last (Modbus buses)

    def sources(self) -> list[Source]:
        return [s for lane in self.lanes.values() for s in lane.sources]

    def sees(self, lane: str, plate: str) -> bool:
        """Whether a plate camera of the lane still has `plate` in its lane: of two cars held to pay
        there, the one still at the barrier (ParkingDesk.lane_quote). A camera offline, its picture
        frozen or stalled, sees nothing: not the last car it read, which may have left since."""
        return any(r.in_lane(plate) for r in self._watching(lane))

    def watches(self, lane: str) -> bool:
        """Whether the lane has a plate camera that sees it now, whose `sees` tells whether a car it
        read is still there: a car it read and refused that it sees no more has backed away
        (car_at_barrier). One offline cannot tell, as a lane without a camera cannot."""
        return bool(self._watching(lane))

    def _watching(self, lane: str) -> list[PlateHolder]:
        devices = self.lanes.get(lane)
        return [r for r in devices.plate_readers if r.watching()] if devices is not None else []

    def close(self) -> None:
        """Stop inputs, release relays, close displays, then what they share. Never raises."""
        for lane in self.lanes.values():
            steps: list[Callable[[], None]] = [s.stop for s in lane.sensors]
            steps += [r.close for r in lane.relays] + [d.close for d in lane.displays]
            for step in steps:
                _quietly(step)
        for step in self.shared:
            _quietly(step)


def _quietly(step: Callable[[], None]) -> None:
    try:
        step()
    except Exception:
        log.exception("closing a device failed")


@dataclass
class Build:
    """What factories share while the site's devices are built."""

    cfg: SiteConfig
    devices: Devices
    chooser_for: ChooserFor | None
    ports: dict[str, object] = field(default_factory=dict)  # by real path: a Modbus bus, an LCUS board

    @property
    def lane_types(self) -> dict[str, str]:
        return {lane.id: lane.type for lane in self.cfg.lanes}


Factory = Callable[[Device, DeviceHealth, LaneDevices, Build], None]


def _nothing() -> None:
    return None


def _simulated(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    assert isinstance(device, cfgdev.SimulatedDevice)
    if device.kind in ("reader", "camera"):
        choose = build.chooser_for(device) if build.chooser_for else _nothing
        slot.sources.append(SimulatedSource(h, device.per_minute, choose))
    elif device.kind == "relay":
        slot.relays.append(SimulatedRelay(h, device.pulse_log))
    else:
        slot.displays.append(SimulatedDisplay(h))


def _serial_reader(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    from drivers.readers.frames import scanner, wiegand_misfit
    from drivers.readers.serial_reader import SerialReader

    assert isinstance(device, cfgdev.SerialReaderDevice)
    scan = scanner(device.format, device.em4100_number, device.wiegand_bits, device.wiegand_encoding)
    # A converter's line that is no frame as set is said with the setting that reads it, if any.
    misfit = (
        partial(wiegand_misfit, bits=device.wiegand_bits, encoding=device.wiegand_encoding)
        if device.format == "wiegand"
        else None
    )
    slot.sources.append(
        SerialReader(
            h,
            device.port,
            device.baudrate,
            scan,
            debounce_s=device.debounce_s,
            reconnect_max_s=device.reconnect_max_s,
            misfit=misfit,
        )
    )
    if device.role == "patrol":
        build.devices.patrol.add(device.id)


def _lcus(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    from drivers.relays.lcus import LcusBoard, LcusRelay

    assert isinstance(device, cfgdev.LcusRelayDevice)
    board = _on_port(build, device, lambda wait: LcusBoard(device.port, device.baudrate, wait))
    assert isinstance(board, LcusBoard)
    slot.relays.append(LcusRelay(h, board, device.channel))


def _modbus(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    from drivers.relays.modbus import ModbusBus, ModbusModule, input_map

    assert isinstance(device, cfgdev.ModbusDevice)

    def new_bus(reconnect_max_s: float) -> ModbusBus:
        bus = ModbusBus(
            device.port,
            baudrate=device.baudrate,
            parity=device.parity,
            stopbits=device.stopbits,
            timeout_s=device.timeout_s,
            reconnect_max_s=reconnect_max_s,
        )
        build.devices.shared.append(bus.stop)
        return bus

    bus = _on_port(build, device, new_bus)
    assert isinstance(bus, ModbusBus)
    wired = device.inputs
    inputs = input_map(wired.car_present, wired.barrier_open, wired.barrier_closed, wired.exit_button)
    module = ModbusModule(bus, h, device.unit, device.coil, inputs, device.poll_s, device.timeout_s)
    _place(module, device.coil is not None, bool(inputs), device, slot, build)


def _on_port(build: Build, device: cfgdev.SerialDevice, make: Callable[[float], object]) -> object:
    """What the devices on one port share (the config check allows a Modbus bus and an LCUS
    board), made for the first of them. Each device's reconnect_max_s promises the longest wait
    for its port: the port keeps the shortest."""
    key = os.path.realpath(device.port)
    if key not in build.ports:
        users = [
            d
            for d in build.cfg.devices
            if isinstance(d, cfgdev.SerialDevice) and os.path.realpath(d.port) == key
        ]
        build.ports[key] = make(min(d.reconnect_max_s for d in users))
    return build.ports[key]


def _gpio(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    from drivers.relays.gpio import GpioDevice

    assert isinstance(device, cfgdev.GpioDevice)
    inputs = [
        (name, pin, inverted)
        for name, pin, inverted in (
            ("car_present", device.inputs.car_present, False),
            ("exit_button", device.inputs.exit_button, False),  # before the contact, as Modbus's
            ("barrier_open", device.inputs.barrier_open, False),
            ("barrier_open", device.inputs.barrier_closed, True),
        )
        if pin is not None
    ]
    gpio = GpioDevice(
        h,
        device.pin,
        active_high=device.active_high,
        inputs=inputs,  # type: ignore[arg-type]
        pull_up=device.pull_up,
        bounce_s=device.bounce_s,
    )
    _place(gpio, device.pin is not None, bool(inputs), device, slot, build)


def _place(
    obj: object,
    relay: bool,
    inputs: bool,
    device: cfgdev.ModbusDevice | cfgdev.GpioDevice,
    slot: LaneDevices,
    build: Build,
) -> None:
    if relay:
        slot.relays.append(obj)  # type: ignore[arg-type]
    if not inputs:
        return
    slot.sensors.append(obj)  # type: ignore[arg-type]
    if device.inputs.barrier_open is None and device.inputs.barrier_closed is None:
        # A loop detector (or an exit button) alone cannot report the barrier: its windows
        # (defaults included) are not the lane's, or they would cut those of the lane's barrier
        # contact module.
        build.devices.loop_only.add(device.id)
        return
    build.devices.barrier_contacts.add(device.lane)
    # A lane with two barrier contacts keeps the shorter of each window.
    for windows, seconds in (
        (build.devices.open_grace_s, device.open_grace_s),
        (build.devices.held_open_s, device.held_open_s),
        (build.devices.rise_within_s, device.rise_within_s),
    ):
        windows[device.lane] = min(windows.get(device.lane, seconds), seconds)


def _serial_display(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    from drivers.displays.serial_text import SerialTextDisplay

    assert isinstance(device, cfgdev.SerialDisplayDevice)
    slot.displays.append(
        SerialTextDisplay(
            h,
            device.port,
            device.baudrate,
            device.encoding,
            device.line_ending,
            device.width,
            device.reconnect_max_s,
        )
    )


def _voice(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    from drivers.displays.voice import VoicePrompt

    assert isinstance(device, cfgdev.VoiceDevice)
    slot.displays.append(VoicePrompt(h, device.command, device.timeout_s))


# What to do about a plate model that does not load (plates/model.py ModelError), as the journal,
# the camera's health and `gateway check-config` say it.
MODEL_FIX = (
    "reinstall the package (sudo /opt/estate-gateway/venv/bin/pip install --force-reinstall --no-deps "
    "'/opt/estate-gateway[fast,gpio]', README, Install) or restore plates/models/plate_rec.onnx from "
    "a copy of the same version, then restart the gateway"
)


def plate_model_problem(backend: str) -> str | None:
    """Why the plate model does not load on `backend` (a plate camera's plate_backend), or None."""
    from plates.model import ModelError, PlateModel

    try:
        PlateModel(backend=backend)
    except ModelError as exc:
        return str(exc)
    return None


def _opencv(device: Device, h: DeviceHealth, slot: LaneDevices, build: Build) -> None:
    from drivers.cameras.capture import OpenCvCamera

    assert isinstance(device, cfgdev.CameraDevice)
    reader = None
    frames = h  # the health the camera's stream tells of its frames
    if device.plates and build.lane_types.get(device.lane) == "vehicle":
        reader = _plate_reader(device, h)
        if reader is None:
            # Offline with the model's error, its alarm raised at start: the camera goes on without
            # reading plates, its snapshots and clips (the evidence of each opening by hand) with it.
            # Dropped, its lane kept none (Review 67 H2). Its stream tells a health of its own, which
            # its frames would otherwise bring online, the model's alarm cleared.
            frames = DeviceHealth(h.device, h.kind, h.lane, h.driver, logged=False)
    camera = OpenCvCamera(
        frames,
        device.url,
        max_frame_age_s=device.max_frame_age_s,
        read_mode=device.read_mode,
        trigger_frames=device.trigger_frames,
        debounce_s=device.debounce_s,
        read_timeout_s=device.read_timeout_s,
        reconnect_max_s=device.reconnect_max_s,
        fps=device.fps,
    )
    h.details = lambda: (
        {
            "frame_age_s": _rounded(camera.frame_age()),
            "read_age_s": _rounded(camera.read_age()),
        }
        | _stream(frames, h)
    )
    if reader is not None:
        camera.attach(reader, reader.annotate)
        reader.watched_by(camera)
        slot.plate_readers.append(reader)
    slot.sources.append(camera)
    slot.cameras.append(camera)
    if device.snapshots:
        build.devices.snapshot_quality[device.id] = device.snapshot_quality
    if device.clips:  # a frame up to a second old still shows the lane (a clip is no decision)
        settings = ClipSettings(fps=device.clip_fps, seconds=device.clip_seconds)
        build.devices.clip_cameras.append(
            ClipCamera(device.lane, device.id, partial(camera.latest, CLIP_FRAME_AGE_S), settings)
        )


def _stream(frames: DeviceHealth, h: DeviceHealth) -> dict[str, object]:
    """A camera that reads no plates for want of its model, in its health: its stream's own state
    and counts (frames, drops), the health itself saying the model's error."""
    if frames is h:
        return {}
    report = frames.snapshot()
    return {"stream": {k: report[k] for k in ("online", "last_seen", "last_error", "counters")}}


def _plate_reader(device: cfgdev.CameraDevice, h: DeviceHealth) -> PlateReader | None:
    """The camera's plate reader, or None where the plate model does not load (lost to fsck on a
    failing card, a package half installed): the camera is marked offline with the model's error
    (its device_offline alarm, on the pages and at the centre), reads no plates, and keeps its
    snapshots and clips (_opencv); the gateway runs without the reader. Raised, ModelError stopped
    the whole gateway, cards, typed plates and relays with it, and systemd restarted it every 2 s
    for ever."""
    from gateway.runtime.plate_reading import PlateReader
    from plates.model import ModelError
    from plates.recognizer import Recognizer

    try:
        # One recognizer per camera: cameras read in parallel.
        return PlateReader(device.roi, Recognizer(backend=device.plate_backend))
    except ModelError as exc:
        log.error(
            "camera %s reads no plates: %s; it stays offline until the model loads (its snapshots and "
            "clips, cards, typed plates, relays and the guard pages work) fix=%s",
            device.id,
            exc,
            MODEL_FIX,
        )
        h.set_offline(f"plate model: {exc}")
        return None


def _rounded(age: float | None) -> float | None:
    return None if age is None else round(age, 3)


FACTORIES: dict[str, Factory] = {
    "simulated": _simulated,
    "serial-reader": _serial_reader,
    "lcus": _lcus,
    "modbus": _modbus,
    "gpio": _gpio,
    "serial-display": _serial_display,
    "voice": _voice,
    "opencv": _opencv,
}


def build_devices(
    cfg: SiteConfig,
    chooser_for: ChooserFor | None = None,
    on_change: Callable[[DeviceHealth, bool], None] | None = None,
) -> Devices:
    """Every configured device, built; `on_change` hears each going online or offline, from the
    start (a reader unplugged while the gateway was down raises its alarm at once)."""
    doors = {lane.id for lane in cfg.lanes if lane.type == "pedestrian"}
    devices = Devices({lane.id: LaneDevices() for lane in cfg.lanes}, [], doors=doors)
    build = Build(cfg, devices, chooser_for)
    for device in cfg.devices:
        h = DeviceHealth(
            device=device.id, kind=device.kind, lane=device.lane, driver=device.driver, on_change=on_change
        )
        devices.health.append(h)
        FACTORIES[device.driver](device, h, devices.lanes[device.lane], build)
    return devices
