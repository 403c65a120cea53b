"""A USB-RS485 adapter on a bad hub, gone and back between two polls: what its alarm says."""

from __future__ import annotations

from pathlib import Path

from drivers.relays.modbus import ModbusBus, ModbusModule, input_map
from tests.drivers.conftest import health, wait_for
from tests.drivers.test_modbus import Bus, modbus_bus, rs485  # noqa: F401  (fixtures)
from tests.drivers.test_modbus_faults import Client


def test_an_adapter_replugged_between_two_polls_says_what_happened_and_what_to_check(
    rs485: Bus,  # noqa: F811
    modbus_bus: ModbusBus,  # noqa: F811
) -> None:
    """The hub drops the adapter and brings it back (the by-id link in place again) between two
    polls. The module goes offline, and its device_offline alarm, on the guard's page and at the
    centre, read '/dev/...: Modbus Error: [Connection] ModbusSerialClient /dev/...:0': no fault
    named, no fix. It says, as an LCUS board's does, that the adapter was unplugged (and plugged
    back) and to check its cable and USB plug."""
    gate = ModbusModule(
        modbus_bus, health("gate", "relay", "car-in"), 1, coil=4, inputs=input_map(0, None, 1), poll_s=2.0
    )
    said: list[str] = []
    gate.health.on_change = lambda h, online: said.append(h.last_error) if not online else None
    try:
        wait_for(lambda: gate.health.online, "the module online")
        # Between two polls: just after one was answered, 2 s before the next. Done at any moment
        # (polls 0.5 s apart), a loaded box once had a poll under way as the adapter went: that
        # poll timed out ("does not answer"), a drop in the middle of a request, not between two.
        polled = gate.health.last_seen
        wait_for(lambda: gate.health.last_seen != polled, "a poll answered")
        # What the replug made it say: a CI run on an overloaded machine had a poll before it
        # answered later than the bus's 1 s timeout ("does not answer"), said first.
        said.clear()
        rs485.adapter.unplug()
        rs485.adapter.plug()  # back before the next poll
        wait_for(lambda: said, "the module offline")
        wait_for(lambda: gate.health.online, "the module back")
        assert "was unplugged and plugged back: check the cable and its USB plug" in said[0], said[0]
    finally:
        gate.close()


def test_an_adapter_still_there_that_fails_its_requests_says_what_to_check(tmp_path: Path) -> None:
    """An adapter whose every request fails, its path and device unchanged (a hub browning out):
    pymodbus's ConnectionException names no fault, so the alarm says what to check."""
    adapter = tmp_path / "ttyUSB-rs485"
    adapter.write_text("")  # the bus checks the adapter's path is there
    client = Client()
    client.broken = True
    bus = ModbusBus(str(adapter), reconnect_max_s=0.2, client_factory=client.factory)
    gate = ModbusModule(bus, health("gate", "relay", "car-in"), 1, coil=0, inputs=[])
    try:
        why = wait_for(lambda: gate.health.last_error, "the bus to fail")
        assert why.startswith(f"{adapter}: the adapter stopped answering (")
        assert why.endswith("): check its USB plug and hub"), why
    finally:
        gate.close()
        bus.stop()
