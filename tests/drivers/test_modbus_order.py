"""The order of requests on a shared RS-485 bus, as docs/hardware.md promises it: relay changes
first, a change lost to noise sent once more right after the other modules' changes, polls last,
and a module that does not answer asked at most once a second, counted from the end of its timeout.

The RTU responder of test_modbus_wire answers on the far side of a real pty. Timings have wide
margins (a loaded CI machine): each limit sits about halfway between what the bus does and what it
did before these rules.
"""

from __future__ import annotations

import time
from pathlib import Path

from drivers.relays.modbus import ModbusBus, ModbusModule
from tests.drivers.conftest import PtyDevice, health, wait_for
from tests.drivers.test_modbus_wire import Modules, adapter, build, module_toml, modules  # noqa: F401


def test_one_lost_on_still_opens_the_barrier_for_its_pulse_on_a_bus_with_one_module(
    adapter: PtyDevice,  # noqa: F811
    modules: Modules,  # noqa: F811
) -> None:
    """Most lanes have one module on their bus. Noise eats the "on" of an admitted car's pulse: it
    is sent again at once, so the barrier's controller sees the relay closed for most of the 1 s
    pulse; not for a few milliseconds glued to the "off" a second later, which it never notices."""
    bus = ModbusBus(adapter.path, timeout_s=0.2, reconnect_max_s=0.2)
    gate = ModbusModule(bus, health("car-in-barrier", "relay", "car-in"), 1, coil=0, inputs=[])
    try:
        wait_for(lambda: gate.health.online and modules.writes(1) == [False], "the module released")
        with modules.lock:
            modules.drop_coil_writes = 1
        gate.pulse(1.0)  # pulse_seconds' default
        wait_for(lambda: modules.writes(1)[-2:] == [True, False], "the whole pulse")
        closed = modules.written_at(1, False)[-1] - modules.written_at(1, True)[-1]
        # About 0.8 s: the pulse less one 0.2 s timeout. Retried a second later, 0.01 s.
        assert closed > 0.5, f"the relay was closed for {closed:.3f} s of a 1 s pulse"
        assert gate.health.counters["errors"] == 1  # the lost request is counted
    finally:
        gate.close()
        bus.stop()


def test_a_pulse_waits_at_most_for_the_one_request_already_on_the_wire(
    adapter: PtyDevice,  # noqa: F811
    modules: Modules,  # noqa: F811
) -> None:
    """The car-in module loses its power just as both lanes open: the car-out barrier waits for
    the car-in "on" already on the wire (one timeout_s), not also for its "at once" retry."""
    bus = ModbusBus(adapter.path, timeout_s=0.5, reconnect_max_s=0.2)
    car_in = ModbusModule(bus, health("car-in-barrier", "relay", "car-in"), 1, coil=0, inputs=[])
    car_out = ModbusModule(bus, health("car-out-barrier", "relay", "car-out"), 2, coil=0, inputs=[])
    try:
        wait_for(lambda: modules.writes(1) == [False] and modules.writes(2) == [False], "both released")
        with modules.lock:
            modules.off.add(1)
        car_in.pulse(1.0)
        time.sleep(0.02)  # car-in's "on" is on the wire
        asked = time.monotonic()
        car_out.pulse(1.0)
        wait_for(lambda: modules.written_at(2, True), "the car-out barrier opened")
        waited = modules.written_at(2, True)[0] - asked
        # About 0.5 s: car-in's timeout. Behind car-in's retry too, 1 s.
        assert waited < 0.75, f"the car-out barrier waited {waited:.2f} s (one timeout_s is 0.5 s)"
    finally:
        car_in.close()
        car_out.close()
        bus.stop()


def test_a_silent_module_with_a_long_timeout_does_not_take_the_whole_bus(
    tmp_path: Path,
    modules: Modules,  # noqa: F811
) -> None:
    """A module switched off, given timeout_s = 1.5 (a slow vendor module): the car-in loop
    detector on the same bus is still read several times a second between its retries."""
    modules.off = {3}
    devices = build(
        tmp_path,
        module_toml("car-in-io", "car-in", modules.adapter.path, 1, "inputs = { car_present = 0 }")
        + module_toml(
            "car-out-io", "car-out", modules.adapter.path, 3, "inputs = { car_present = 0 }\ntimeout_s = 1.5"
        ),
    )
    try:
        loop = next(h for h in devices.health if h.device == "car-in-io")
        silent = next(h for h in devices.health if h.device == "car-out-io")
        wait_for(lambda: loop.online and silent.last_error, "one module up, one silent")
        with modules.lock:
            before = modules.heard.count(1)
        time.sleep(5.0)
        with modules.lock:
            reads = modules.heard.count(1) - before
        # Asked a second after each 1.5 s timeout, the silent module leaves the bus free 40% of
        # the time: about 20 reads at poll_s 0.1. Asked on every pass, 3 or 4.
        assert reads >= 10, f"the car-in loop detector was read {reads} times in 5 s (poll_s = 0.1)"
    finally:
        devices.close()
