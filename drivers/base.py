"""The small interfaces every device kind implements. Real drivers and simulated ones both fit them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from drivers.health import DeviceHealth

if TYPE_CHECKING:
    from drivers.cameras.frame import Frame, FrameConsumer

# A source (card reader, camera) hands each credential it sees to the runtime through this:
# kind ("card", "plate", "qr"), the normalized value, and a confidence from 0 to 1.
Emit = Callable[[str, str, float], None]

# Lane inputs: a loop detector says a car is over it, barrier feedback says the arm is up (or the
# door open), a door's exit button (出门按钮) says someone inside presses it.
LaneInput = Literal["car_present", "barrier_open", "exit_button"]
# A sensor reports each change of an input: (input, active).
InputEmit = Callable[[LaneInput, bool], None]


class Source(Protocol):
    """A device that presents credentials: card readers, cameras, QR scanners."""

    health: DeviceHealth

    def start(self, emit: Emit) -> None: ...

    def stop(self) -> None: ...


class Relay(Protocol):
    """A barrier or door lock. pulse() returns at once; the driver releases by itself."""

    health: DeviceHealth

    def pulse(self, seconds: float, ref: str = "") -> None:
        """Open for `seconds`; `ref` names the decision behind it (an event id) for the driver's log."""

    def hold(self) -> None: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


class Display(Protocol):
    """A lane's LED text display or voice prompt."""

    health: DeviceHealth

    def show(self, lines: list[str]) -> None: ...

    def close(self) -> None: ...


class Sensor(Protocol):
    """Lane inputs (loop detector, barrier feedback); reports each state once watched, then changes."""

    health: DeviceHealth

    def watch(self, on_input: InputEmit) -> None: ...

    def stop(self) -> None: ...


class Camera(Source, Protocol):
    """A camera keeps its newest frame; consumers (a plate recognizer) read frames it hands them."""

    def latest(self, max_age_s: float | None = None) -> Frame | None:
        """The newest frame if it is younger than `max_age_s` (default: the configured limit)."""

    def snapshot_frame(self) -> Frame | None:
        """The frame to store with an event now: the one last read, else the newest fresh one."""

    def request_read(self) -> None:
        """A car has arrived: read the next fresh frames even if the plate was just seen."""

    def loop_cleared(self) -> None:
        """The lane's loop detector no longer sees a car (a loop stuck on is read once a second)."""

    def loop_still_on(self) -> None:
        """The lane's loop, cleared as its module went offline, is on once back: the same car."""

    def opened_by_hand(self) -> None:
        """A guard opened the camera's lane by hand: a car it never read may be pulling away."""

    def attach(self, consumer: FrameConsumer) -> None: ...
