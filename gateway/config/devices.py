"""Device settings: one model per driver, told apart by the `driver` key of each [[devices]] table.

docs/hardware.md shows the wiring and a config snippet for each driver.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from gateway.config.common import Identifier, Strict
from gateway.config.problems import register_union_tags

Baudrate = Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]
# BCM numbering, as gpiozero uses it: GPIO17 is 17 (header pin 11).
GpioPin = Annotated[int, Field(ge=0, le=27)]
ModbusAddress = Annotated[int, Field(ge=0, le=65535)]


class _Device(Strict):
    id: Identifier = Field(title="Device id", description="Unique on the site; named in health.")
    lane: str = Field(title="Lane", description="The id of the lane the device serves.")


class SimulatedDevice(_Device):
    kind: Literal["reader", "camera", "relay", "display"] = Field(
        title="Kind", description="reader, camera, relay or display."
    )
    driver: Literal["simulated"] = Field(
        title="Driver", description="simulated: a stand-in that generates demo traffic."
    )
    per_minute: float = Field(
        6.0,
        ge=0,
        le=6000,
        title="Traffic per minute",
        description="Simulated readers and cameras: presentations generated per minute.",
    )
    pulse_log: Path | None = Field(
        None,
        strict=False,  # a string: common.Strict
        title="Pulse log",
        description="Simulated relays: append every pulse to this file (for tests and demos).",
    )


class _Serial(_Device):
    port: str = Field(
        title="Serial port",
        description="Device path; prefer the stable /dev/serial/by-id/... name to /dev/ttyUSB0, "
        "whose number changes when USB devices come back in another order.",
    )
    baudrate: Baudrate = Field(9600, title="Baud rate", description="Line speed; 8 data bits.")
    reconnect_max_s: float = Field(
        2.0,
        gt=0,
        le=60,
        title="Longest reconnect wait",
        description="A vanished port is retried with growing waits, never longer than this.",
    )

    @field_validator("port")
    @classmethod
    def _a_device_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(
                "a serial port is a device path such as /dev/ttyUSB0 or /dev/serial/by-id/usb-..."
            )
        return value


class SerialReaderDevice(_Serial):
    kind: Literal["reader"] = Field(title="Kind", description="reader.")
    driver: Literal["serial-reader"] = Field(
        title="Driver",
        description="serial-reader: a card reader or QR scanner on RS-232, RS-485 or USB serial.",
    )
    format: Literal["em4100", "wiegand", "line", "qr"] = Field(
        title="Wire format",
        description="em4100: STX, 10 hex, 2 hex XOR checksum, ETX (RDM6300, ID-12); wiegand: a "
        "Wiegand-to-serial converter, one frame per line; line: one card number per line; qr: a QR "
        "scanner at a door, one visitor's or contractor's pass per line, read as printed.",
    )
    role: Literal["access", "patrol"] = Field(
        "access",
        title="Role",
        description="access: reads ask to open the lane; patrol: the reader is a guard-patrol "
        "checkpoint (电子巡更) and its reads are recorded as patrol taps.",
    )
    debounce_s: float = Field(
        3.0,
        ge=0,
        le=600,
        title="Debounce window",
        description="The same card read again before it has been away this long is one "
        "presentation (readers repeat a card while it is held).",
    )
    em4100_number: Literal["hex", "decimal"] = Field(
        "hex",
        title="EM4100 card number",
        description="hex: the 10 hex digits (0A1B2C3D4E); decimal: the low 32 bits as the 10 "
        "digits printed on most cards (0372588878). Use the form your card list has; a card read in "
        "another form is still found (docs/hardware.md, *Card numbers: one card, every reader*), and "
        "the site's EM4100 readers should be set alike.",
    )
    wiegand_bits: Literal[26, 34] = Field(
        26, title="Wiegand length", description="26 (8-bit facility) or 34 (16-bit facility)."
    )
    wiegand_encoding: Literal["hex", "decimal", "bits"] = Field(
        "hex",
        title="Wiegand line encoding",
        description="How the converter writes the whole frame, parity bits included: hex digits, "
        "decimal digits, or 0/1 characters.",
    )

    @model_validator(mode="after")
    def _patrol_reads_cards(self) -> SerialReaderDevice:
        if self.role == "patrol" and self.format == "qr":
            raise ValueError(
                "a patrol checkpoint reads guards' cards, not QR passes: set its card format "
                '(em4100, wiegand or line), or role = "access" for a QR scanner at a door'
            )
        return self


class LcusRelayDevice(_Serial):
    kind: Literal["relay"] = Field(title="Kind", description="relay.")
    driver: Literal["lcus"] = Field(
        title="Driver", description="lcus: a CH340 USB relay board (LCUS-1/2/4/8) taking A0 frames."
    )
    channel: int = Field(
        1,
        ge=1,
        le=8,
        title="Relay channel",
        description="Relay number on the board. A board's other channels may drive other lanes' "
        "barriers: give those devices the same port and baudrate, each its own channel.",
    )


class ModbusInputs(Strict):
    car_present: ModbusAddress | None = Field(
        None, title="Loop detector", description="Discrete input: on while a car is over the loop."
    )
    barrier_open: ModbusAddress | None = Field(
        None, title="Barrier open", description="Discrete input: on while the barrier is open."
    )
    barrier_closed: ModbusAddress | None = Field(
        None,
        title="Barrier closed",
        description="Discrete input: on while the barrier is down (when it has no open contact).",
    )
    exit_button: ModbusAddress | None = Field(
        None,
        title="Exit button",
        description="Discrete input: on while a door's exit button (出门按钮) is pressed; each press "
        "lets the person inside out, on record. Pedestrian lanes only.",
    )

    @model_validator(mode="after")
    def _one_barrier_contact(self) -> ModbusInputs:
        if self.barrier_open is not None and self.barrier_closed is not None:
            raise ValueError("wire barrier_open or barrier_closed, not both: one contact says it")
        return self


class _LaneInputs(_Device):
    kind: Literal["relay", "sensor"] = Field(
        title="Kind", description="relay (it may also have inputs) or sensor (inputs only)."
    )
    open_grace_s: float = Field(
        10.0,
        gt=0,
        le=120,
        title="Expected-opening window",
        description="A barrier that opens later than this after the last decision or manual "
        "command on its lane raises a forced_open alarm; at a vehicle lane whose rise_within_s is "
        "longer, that is the window instead (an arm the rise check waits for is not forced). Set on "
        "the device that wires barrier_open or barrier_closed; ignored on a loop-only sensor.",
    )
    held_open_s: float = Field(
        120.0,
        gt=0,
        le=86400,
        title="Held-open alarm",
        description="A barrier or door still open this long after it opened, or after the last "
        "decision or manual command on its lane, raises a held_open alarm (a door propped open, an "
        "arm stuck up); it clears when it closes. A lane a guard holds open raises none. Set on the "
        "device that wires barrier_open or barrier_closed; ignored on a loop-only sensor.",
    )
    rise_within_s: float = Field(
        8.0,
        gt=0,
        le=30,
        title="Barrier rise check",
        description="At a vehicle lane, a pulse the relay took counts as opening the barrier only if "
        "its contact opens within this many seconds; else the arm never rose (its controller without "
        "power, jammed): a barrier_no_response alarm, the display says 道闸故障 请联系保安 and a car let "
        "out at an exit is put back inside, as when the relay does not take the pulse. The default "
        "covers the usual arm, which takes 1-6 s to reach the barrier_open limit switch (on only once "
        "fully up); longer for a slower one (a fence barrier, a heavy or long arm): one that reaches "
        "it later clears the alarm, but the car it let out stays put back. Longer than open_grace_s, "
        "it is the lane's expected-opening window too (forced_open, tailgating). Not waited for while a "
        "sensor with the lane's contact is offline. Set on the device that wires barrier_open or "
        "barrier_closed; ignored on a loop-only sensor.",
    )


class ModbusDevice(_Serial, _LaneInputs):
    driver: Literal["modbus"] = Field(
        title="Driver", description="modbus: a Modbus RTU relay/input module on RS-485."
    )
    parity: Literal["N", "E", "O"] = Field("N", title="Parity", description="N, E or O.")
    stopbits: Literal[1, 2] = Field(1, title="Stop bits", description="1 or 2.")
    unit: int = Field(1, ge=1, le=247, title="Unit id", description="The module's Modbus address.")
    coil: ModbusAddress | None = Field(
        None, title="Relay coil", description="Coil address (from 0) of the relay opening the lane."
    )
    inputs: ModbusInputs = Field(
        default_factory=ModbusInputs, title="Inputs", description="Discrete inputs (from 0)."
    )
    poll_s: float = Field(
        0.1, ge=0.02, le=5, title="Input poll interval", description="How often inputs are read."
    )
    timeout_s: float = Field(
        0.3, ge=0.05, le=5, title="Reply timeout", description="How long to wait for the module."
    )

    @model_validator(mode="after")
    def _outputs_and_inputs(self) -> ModbusDevice:
        _check_kind(self.kind, self.coil, self.inputs, "coil")
        return self


class GpioInputs(Strict):
    car_present: GpioPin | None = Field(
        None, title="Loop detector", description="Input pin: active while a car is over the loop."
    )
    barrier_open: GpioPin | None = Field(
        None, title="Barrier open", description="Input pin: active while the barrier is open."
    )
    barrier_closed: GpioPin | None = Field(
        None, title="Barrier closed", description="Input pin: active while the barrier is down."
    )
    exit_button: GpioPin | None = Field(
        None,
        title="Exit button",
        description="Input pin: active while a door's exit button (出门按钮) is pressed; each press "
        "lets the person inside out, on record. Pedestrian lanes only.",
    )

    @model_validator(mode="after")
    def _one_barrier_contact(self) -> GpioInputs:
        if self.barrier_open is not None and self.barrier_closed is not None:
            raise ValueError("wire barrier_open or barrier_closed, not both: one contact says it")
        return self


class GpioDevice(_LaneInputs):
    driver: Literal["gpio"] = Field(
        title="Driver", description="gpio: Raspberry Pi pins through gpiozero (the gpio extra)."
    )
    pin: GpioPin | None = Field(
        None, title="Relay pin", description="BCM number of the output driving the relay module."
    )
    active_high: bool = Field(
        True,
        title="Relay active high",
        description="false for the common low-level-trigger relay modules.",
    )
    inputs: GpioInputs = Field(
        default_factory=GpioInputs, title="Inputs", description="BCM numbers of input pins."
    )
    pull_up: bool = Field(
        True,
        title="Inputs pulled up",
        description="true: an input is active when its dry contact closes to ground.",
    )
    bounce_s: float = Field(
        0.05, ge=0, le=2, title="Input debounce", description="Contact bounce to ignore, seconds."
    )

    @model_validator(mode="after")
    def _outputs_and_inputs(self) -> GpioDevice:
        _check_kind(self.kind, self.pin, self.inputs, "pin")
        return self


def _check_kind(kind: str, output: int | None, inputs: Strict, output_key: str) -> None:
    if kind == "relay" and output is None:
        raise ValueError(f'a relay needs its {output_key}: set {output_key}, or kind = "sensor"')
    if kind == "sensor" and output is not None:
        raise ValueError(f'a sensor has no relay: remove {output_key}, or set kind = "relay"')
    if kind == "sensor" and all(v is None for v in inputs.model_dump().values()):
        raise ValueError(
            "a sensor needs at least one input: set inputs.car_present, a barrier contact or exit_button"
        )


class SerialDisplayDevice(_Serial):
    kind: Literal["display"] = Field(title="Kind", description="display.")
    driver: Literal["serial-display"] = Field(
        title="Driver", description="serial-display: an LED text display taking plain lines."
    )
    encoding: Literal["gb18030", "gbk", "gb2312", "utf-8"] = Field(
        "gb18030",
        title="Text encoding",
        description="Chinese LED controllers mostly take GB2312/GBK (gb18030 covers both).",
    )
    line_ending: Literal["crlf", "lf", "cr"] = Field(
        "crlf", title="Line ending", description="What ends each line on the wire."
    )
    width: int = Field(
        0,
        ge=0,
        le=200,
        title="Line width",
        description=(
            "Chinese characters a line holds (16-dot characters: a 64-dot panel holds 4); a letter,"
            " digit or space counts half of one. 0: no limit."
        ),
    )


class VoiceDevice(_Device):
    kind: Literal["display"] = Field(title="Kind", description="display.")
    driver: Literal["voice"] = Field(
        title="Driver", description="voice: a command speaking the lane's message (a TTS player)."
    )
    command: list[str] = Field(
        min_length=1,
        title="Command",
        description="Program and arguments, run without a shell; {text} is replaced by the "
        'message, e.g. ["espeak-ng", "-v", "cmn", "{text}"].',
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, title="Time limit", description="A prompt running longer is stopped."
    )

    @field_validator("command")
    @classmethod
    def _has_text(cls, value: list[str]) -> list[str]:
        if not any("{text}" in arg for arg in value):
            raise ValueError('the command must say where the message goes: add "{text}" to it')
        return value


_CAMERA_URL = re.compile(r"^(rtsps?|https?)://\S+$|^usb:\d{1,2}$|^/\S+$")


class CameraDevice(_Device):
    kind: Literal["camera"] = Field(title="Kind", description="camera.")
    driver: Literal["opencv"] = Field(
        title="Driver", description="opencv: RTSP, MJPEG over HTTP, USB (V4L2) or a video file."
    )
    url: str = Field(
        title="Stream",
        description="rtsp://user:pass@host/..., http://host/video.mjpg, a USB camera (V4L2): "
        "/dev/v4l/by-id/usb-...-video-index0 (a name that stays the same on replug), usb:0 or "
        "/dev/video0 (any path under /dev/ is a V4L2 device), or the absolute path of a video file. "
        "A password holding #, ? or / is written %23, %3F, %2F (FFmpeg never logs in with it "
        "otherwise: refused).",
    )
    max_frame_age_s: float = Field(
        0.5,
        gt=0,
        le=10,
        title="Oldest usable frame",
        description="A frame older than this is never read or stored with an event, and what was "
        "read from one that grew older while it was read is dropped: a recognizer slower than this "
        "decides no plate (the camera's last_error says so; read_mode trigger does not help).",
    )
    read_mode: Literal["continuous", "trigger"] = Field(
        "continuous",
        title="When frames are read",
        description="continuous: every newest frame goes to the recognizer; trigger: only after "
        "the lane's loop detector sees a car (trigger_frames frames, then one a second until a plate "
        "is read, for up to a minute). Either way a car at the loop asks for a fresh read.",
    )
    trigger_frames: int = Field(
        10, ge=1, le=200, title="Frames per trigger", description="Frames read after a trigger."
    )
    debounce_s: float = Field(
        10.0,
        ge=0,
        le=600,
        title="Debounce window",
        description="For a frame reader that reports every frame: the same value seen again before "
        "it has been away this long is one presentation, unless the loop detector asked for the read. "
        "Plates are not filtered by it: the lane voter decides them once per passage (docs/plates.md).",
    )
    snapshots: bool = Field(
        True, title="Snapshots", description="Store a JPEG with each event on the camera's lane."
    )
    snapshot_quality: int = Field(85, ge=30, le=100, title="JPEG quality", description="30 to 100.")
    clips: bool = Field(
        True,
        title="Event clips",
        description="Keep a short video (WebM, 640 px wide, the time burnt in) of each barrier or "
        "door forced, held open, not rising, each car through on another's opening, and each "
        "opening by hand at the camera's lane, from clip_seconds before to clip_seconds after; "
        "kept as long as snapshots. About 2.3 MB of memory per camera, about 1 MB of disk per clip.",
    )
    clip_seconds: float = Field(
        10.0, ge=2, le=60, title="Clip length", description="Seconds kept before the event, and after it."
    )
    clip_fps: int = Field(5, ge=1, le=15, title="Clip frames per second", description="1 to 15.")
    plates: bool = Field(
        True,
        title="Read plates",
        description="Run the plate recognizer on this camera's frames (vehicle lanes only).",
    )
    plate_backend: Literal["auto", "opencv", "onnxruntime"] = Field(
        "auto",
        title="Plate model runtime",
        description="opencv: OpenCV's DNN module, always installed; onnxruntime: about three times "
        "as fast per plate, needs the fast extra (pip install 'estate-gateway[fast]'); auto: "
        "onnxruntime where it is installed, else opencv. Both read alike.",
    )
    # A TOML array is a list, which a strict tuple refuses; its numbers stay strict.
    roi: list[Annotated[tuple[int, int], Field(strict=False)]] | None = Field(
        None,
        title="Lane region",
        description="The lane in the picture, as a polygon of [x, y] frame points, e.g. "
        "[[300, 200], [1000, 200], [1200, 700], [100, 700]]: plates outside (a car parked beside "
        "the lane) are ignored. None: the whole frame.",
        min_length=3,
        max_length=32,
    )
    read_timeout_s: float = Field(
        5.0,
        ge=1,
        le=60,
        title="Stream timeout",
        description="A stream silent this long has dropped.",
    )
    reconnect_max_s: float = Field(
        5.0, gt=0, le=120, title="Longest reconnect wait", description="Backoff limit after a drop."
    )
    fps: float | None = Field(
        None,
        gt=0,
        le=120,
        title="File playback rate",
        description="Video files only: frames a second; none plays at the file's own rate.",
    )

    @field_validator("url")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if not _CAMERA_URL.match(value):
            raise ValueError(
                "use rtsp://..., http://.../video.mjpg, usb:0, /dev/video0 or an absolute file path"
            )
        return value


Device = Annotated[
    SimulatedDevice
    | SerialReaderDevice
    | LcusRelayDevice
    | ModbusDevice
    | GpioDevice
    | SerialDisplayDevice
    | VoiceDevice
    | CameraDevice,
    Field(discriminator="driver"),
]
SerialDevice = SerialReaderDevice | LcusRelayDevice | ModbusDevice | SerialDisplayDevice
DRIVERS = ("simulated", "serial-reader", "lcus", "modbus", "gpio", "serial-display", "voice", "opencv")
register_union_tags(*DRIVERS)
