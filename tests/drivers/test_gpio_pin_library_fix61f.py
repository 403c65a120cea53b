"""Review 61f: an installer following README's Install made the venv without
--system-site-packages, so gpiozero (the `gpio` extra, from pip) found no pin library (lgpio is
Raspberry Pi OS's apt package). check-config said nothing of the example's gpio barrier, and after
the start it was offline with a fix (the gpio group) that led nowhere on a Pi whose user is in it.
Now check-config warns, and the offline reason names python3-lgpio and --system-site-packages."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from gateway.config import filecheck, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example-estate.toml"
PIN_LIBRARIES = ("lgpio", "RPi", "pigpio")  # gpiozero's pin factories but its own native one

needs_gpiozero = pytest.mark.skipif(
    importlib.util.find_spec("gpiozero") is None, reason="needs gpiozero (the gpio extra)"
)


def _gpio_lines(monkeypatch: pytest.MonkeyPatch, library: str | None) -> list[str]:
    """check-config's warnings of the example config with only `library` among the pin libraries."""
    for name in PIN_LIBRARIES:
        monkeypatch.setitem(sys.modules, name, None)  # not found, as on a venv without them
    if library is not None:
        module = types.ModuleType(library)
        module.__spec__ = importlib.machinery.ModuleSpec(library, None)
        monkeypatch.setitem(sys.modules, library, module)
    return [w for w in filecheck.warnings(load_config(EXAMPLE)) if "gpio" in w]


@needs_gpiozero
def test_check_config_warns_of_a_gpio_barrier_without_a_pin_library(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _gpio_lines(monkeypatch, None)
    assert len(lines) == 1, lines
    assert "south-in-barrier" in lines[0]
    assert "sudo apt install python3-lgpio" in lines[0]
    assert "--system-site-packages" in lines[0]


@needs_gpiozero
@pytest.mark.parametrize("library", ["lgpio", "RPi"])
def test_no_warning_where_gpiozero_has_a_pin_library(monkeypatch: pytest.MonkeyPatch, library: str) -> None:
    assert _gpio_lines(monkeypatch, library) == []


@needs_gpiozero
def test_a_barrier_without_a_pin_library_says_how_to_install_one() -> None:
    """The offline reason the journal and /api/health show, in a process of its own: gpiozero
    keeps the pin factory it loaded, and no other test's may stand in."""
    code = textwrap.dedent(f"""
        import sys
        for name in {PIN_LIBRARIES!r}:
            sys.modules[name] = None
        from drivers.health import DeviceHealth
        from drivers.relays.gpio import GpioDevice
        health = DeviceHealth(device="south-in-barrier", kind="relay", lane="south-car-in", driver="gpio")
        GpioDevice(health, 17, active_high=False)
        print("online" if health.online else health.last_error)
    """)
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    said = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert said.startswith("cannot use the GPIO pins: Unable to load any default pin factory"), said
    assert "sudo apt install python3-lgpio" in said, said
    assert "--system-site-packages" in said, said
    assert "gpio group" not in said, said
