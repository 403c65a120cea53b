"""A USB-RS485 adapter on a bad hub, gone and back while a poll waits for its answer."""

from __future__ import annotations

from drivers.relays.modbus import ModbusBus, ModbusModule, input_map
from tests.drivers.conftest import health, wait_for
from tests.drivers.test_modbus import Bus, modbus_bus, rs485  # noqa: F401  (fixtures)


def test_an_adapter_replugged_while_a_poll_waits_says_it_was_replugged_not_to_check_the_wiring(
    rs485: Bus,  # noqa: F811
    modbus_bus: ModbusBus,  # noqa: F811
) -> None:
    """The poll under way loses its adapter, not its unit: the alarm says the adapter was
    replugged and to check its cable and USB plug, never to check the module's address and wiring
    ('does not answer', which a late answer from the unit itself says)."""
    gate = ModbusModule(
        modbus_bus, health("gate", "relay", "car-in"), 1, coil=4, inputs=input_map(0, None, 1), poll_s=0.2
    )
    said: list[str] = []
    gate.health.on_change = lambda h, online: said.append(h.last_error) if not online else None
    module = rs485.modules[1]
    try:
        wait_for(lambda: gate.health.online, "the module online")
        module.answering.clear()
        wait_for(module.asked.is_set, "a poll under way")
        rs485.adapter.replug()  # gone and back before the bus looks again
        module.answering.set()
        wait_for(lambda: said, "the module offline")
        wait_for(lambda: gate.health.online, "the module back")
        assert "was unplugged and plugged back: check the cable and its USB plug" in said[0], said[0]
        assert "wiring" not in said[0], said[0]
    finally:
        module.answering.set()
        gate.close()
