"""Raspberry Pi GPIO through gpiozero (the optional `gpio` extra): a relay pin and input pins.

gpiozero is imported only when a gpio device is configured; tests use its MockFactory.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from drivers.base import InputEmit, LaneInput
from drivers.health import DeviceHealth
from drivers.relays.control import PulseControl

log = logging.getLogger(__name__)

# gpiozero drives the pins through one of these (its pin factories, tried in this order): without
# any, it has only its own native pins, which a Pi 5 lacks. pip installs none of them; lgpio is
# Raspberry Pi OS's apt package, seen in a venv made with --system-site-packages only.
PIN_LIBRARIES = ("lgpio", "RPi", "pigpio")
NO_PIN_LIBRARY_FIX = (
    "sudo apt install python3-lgpio (gpiozero's pin library on a Pi 5), and a venv that sees it, "
    "made with --system-site-packages: sudo python3 -m venv --system-site-packages "
    "/opt/estate-gateway/venv (run over the gateway's venv, it keeps what is installed in it); "
    "then restart the gateway (docs/hardware.md, Raspberry Pi GPIO)"
)
# Said alike by check-config and the device's error (journal, /api/health, guard pages): the gateway
# is not on the package index, and pip outside the venv is refused on bookworm (externally managed).
NO_GPIOZERO_FIX = (
    "install the gpio extra into the gateway's venv, sudo /opt/estate-gateway/venv/bin/pip install "
    f"'/opt/estate-gateway[fast,gpio]' (README, Install), and its pin library: {NO_PIN_LIBRARY_FIX}"
)
MISSING = f"the gpio driver needs gpiozero, which is not installed here; fix: {NO_GPIOZERO_FIX}"


def pin_library_found() -> bool:
    """Whether gpiozero can find a pin library here; looked up, not imported (check-config runs
    on boxes where importing one fails without the Pi's hardware)."""
    return any(importlib.util.find_spec(name) is not None for name in PIN_LIBRARIES)


def _pins_fix(exc: Exception, gpiozero: Any) -> str:
    """No pin factory loads without a pin library (a venv without the system's lgpio): the gpio
    group alone would lead nowhere on a Pi whose user is in it already."""
    if isinstance(exc, gpiozero.BadPinFactory) and not pin_library_found():
        return NO_PIN_LIBRARY_FIX
    return "run on a Raspberry Pi with the gateway user in the gpio group"


class GpioDevice:
    """A relay on `pin` and/or inputs on other pins; without its pins the device is offline."""

    def __init__(
        self,
        health: DeviceHealth,
        pin: int | None,
        *,
        active_high: bool = True,
        inputs: list[tuple[LaneInput, int, bool]] | None = None,
        pull_up: bool = True,
        bounce_s: float = 0.05,
        pin_factory: Any = None,
    ):
        self.health = health
        self._output: Any = None
        self._inputs: list[tuple[LaneInput, bool, Any]] = []  # name, inverted, input device
        self._on_input: InputEmit | None = None
        self._control = PulseControl(self._set, health) if pin is not None else None
        try:
            import gpiozero
        except ImportError:
            health.set_offline(MISSING)
            return
        try:
            if pin is not None:
                self._output = gpiozero.DigitalOutputDevice(
                    pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
                )
            for name, number, inverted in inputs or []:
                device = gpiozero.DigitalInputDevice(
                    number, pull_up=pull_up, bounce_time=bounce_s or None, pin_factory=pin_factory
                )
                device.when_activated = self._changed(name, not inverted)
                device.when_deactivated = self._changed(name, inverted)
                self._inputs.append((name, inverted, device))
        except gpiozero.GPIOZeroError as exc:
            health.set_offline(f"cannot use the GPIO pins: {exc}; fix: {_pins_fix(exc, gpiozero)}")
            return
        health.set_online()

    def _changed(self, name: LaneInput, active: bool) -> Any:
        def report() -> None:
            self.health.seen()
            if self._on_input is not None:
                self._on_input(name, active)

        return report

    def _set(self, on: bool) -> None:
        if self._output is None:
            raise RuntimeError(self.health.last_error or "no relay pin")
        self._output.value = on

    # Relay
    def pulse(self, seconds: float, ref: str = "") -> None:
        self._require_control().pulse(seconds)

    def hold(self) -> None:
        self._require_control().hold()

    def release(self) -> None:
        self._require_control().release()

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
        for device in [self._output, *(d for _, _, d in self._inputs)]:
            if device is not None:
                device.close()

    # Sensor
    def watch(self, on_input: InputEmit) -> None:
        """Report each input's state now, then its changes: a barrier already open when the gateway
        starts (a door propped open across a restart) is watched too."""
        self._on_input = on_input
        for name, inverted, device in self._inputs:
            on_input(name, bool(device.is_active) != inverted)

    def stop(self) -> None:
        self._on_input = None

    def _require_control(self) -> PulseControl:
        if self._control is None:
            raise RuntimeError(f"{self.health.device} has no relay pin configured")
        return self._control
