"""The small interfaces every device kind implements. Real drivers and simulated ones both fit them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from drivers.health import DeviceHealth

# A source (card reader, camera) hands each credential it sees to the runtime through this:
# kind ("card", "plate", "qr"), the normalized value, and a confidence from 0 to 1.
Emit = Callable[[str, str, float], None]


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
