"""Two RS-485 adapters (an entrance and an exit bus) left unplugged: what the journal says."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.relays.modbus import ModbusBus, ModbusModule
from gateway.runtime.logsetup import setup_logging
from tests.drivers.conftest import health, no_leaked_threads, wait_for  # noqa: F401  (fixtures)

Journal = Callable[[str], Callable[[], list[str]]]


@pytest.fixture
def journal(capsys: pytest.CaptureFixture[str]) -> Iterator[Journal]:
    """Logging set up as `gateway --log-level LEVEL run` does it; the lines it writes to stdout (the
    journal) so far. The test's own logging is put back after."""
    root, library = logging.getLogger(), logging.getLogger("pymodbus")
    handlers, level, library_level = root.handlers[:], root.level, library.level

    def start(log_level: str) -> Callable[[], list[str]]:
        setup_logging(log_level)
        return lambda: capsys.readouterr().out.splitlines()

    yield start
    root.handlers[:] = handlers
    root.setLevel(level)
    library.setLevel(library_level)


def unplugged_buses(tmp_path: Path, seconds: float) -> None:
    """Two buses whose adapters are not there, each with its module, retried for `seconds`."""
    buses = [ModbusBus(str(tmp_path / f"ttyUSB-{n}"), reconnect_max_s=0.2) for n in ("in", "out")]
    modules = [
        ModbusModule(bus, health(f"{n}-module", "relay", lane), 1, coil=0, inputs=[])
        for bus, n, lane in zip(buses, ("in", "out"), ("car-in", "car-out"), strict=True)
    ]
    try:
        wait_for(lambda: all(m.health.last_error for m in modules), "both offline")
        time.sleep(seconds)
    finally:
        for module in modules:
            module.close()
        for bus in buses:
            bus.stop()


def test_two_unplugged_modbus_adapters_are_said_once_in_the_journal_not_at_every_retry(
    tmp_path: Path, journal: Journal
) -> None:
    """The entrance's and the exit's USB-RS485 adapters are unplugged (a loose hub). The gateway
    says each fault once ('device offline', README: repeats only at DEBUG), but pymodbus added an
    ERROR line 'could not open port ...' at every reconnect attempt of either bus, a line a second
    for as long as they stay away (its own repeat filter only drops a line equal to the one before,
    and the two buses alternate). Each fault should be in the journal once, with its fix."""
    lines = journal("INFO")
    unplugged_buses(tmp_path, 4.0)  # retried every 0.2 s here: at the default 2 s, 40 s of a day unplugged
    said = [line for line in lines() if " WARNING " in line or " ERROR " in line]
    assert len(said) <= 4, f"{len(said)} WARNING/ERROR lines for two faults:\n" + "\n".join(said[:8])
    offline = [line for line in said if "device offline" in line]
    assert len(offline) == 2, said
    assert all("is not there (unplugged?): check the cable" in line for line in offline), said


def test_at_debug_the_journal_has_pymodbus_own_lines_again(tmp_path: Path, journal: Journal) -> None:
    """--log-level DEBUG adds the repeats of a fault said once (README): pymodbus's own lines too,
    for a bus that will not open for a reason the gateway does not name."""
    lines = journal("DEBUG")
    unplugged_buses(tmp_path, 0.5)
    assert any("pymodbus" in line and "could not open port" in line for line in lines())
