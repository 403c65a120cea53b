"""The order of requests on a shared RS-485 bus, as docs/hardware.md promises it: relay changes
first, a change lost to noise sent once more right after the other modules' changes, polls last,
and a module that does not answer asked at most once a second, counted from the end of its timeout.

The RTU responder of test_modbus_wire answers on the far side of a real pty. The tests assert the
order the modules hear their requests in, never how long anything took (a loaded CI machine makes
every thread late); their waits only bound a hang.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from drivers.relays.modbus import READ_COILS, READ_INPUTS, WRITE_COIL, ModbusBus, ModbusModule
from tests.drivers.conftest import PtyDevice, health, wait_for
from tests.drivers.test_modbus_wire import Modules, adapter, build, module_toml, modules  # noqa: F401

PASS = "pass"  # the bus began a pass over its modules (ModbusBus._service_all)


class Heard:
    """Every request the modules heard, in order, in words ("1 on", "2 off", "1 read" of a coil,
    "3 inputs"), with PASS where the bus began a pass (given the bus, before its first module). The
    next read of unit `hold` is held unanswered until `let_go` is set: the bus waits on it."""

    def __init__(self, responder: Modules, monkeypatch: pytest.MonkeyPatch, bus: ModbusBus | None = None):
        self.hold: int | None = None
        self.held = threading.Event()
        self.let_go = threading.Event()
        self._words: list[str] = []
        self._lock = threading.Lock()
        answer = responder._answer

        def heard(request: bytes) -> bytes | None:
            unit, function = request[0], request[1]
            on = int.from_bytes(request[4:6], "big") == 0xFF00
            word = {WRITE_COIL: "on" if on else "off", READ_COILS: "read", READ_INPUTS: "inputs"}
            with self._lock:
                self._words.append(f"{unit} {word.get(function, function)}")
                held = function != WRITE_COIL and unit == self.hold
                if held:
                    self.hold = None
            if held:
                self.held.set()
                self.let_go.wait(60)  # a bound on a hang: the test lets go at once
            return answer(request)

        monkeypatch.setattr(responder, "_answer", heard)
        if bus is not None:
            one_pass = bus._service_all

            def a_pass() -> bool:
                with self._lock:
                    self._words.append(PASS)
                return one_pass()

            monkeypatch.setattr(bus, "_service_all", a_pass)

    def words(self, since: int = 0) -> list[str]:
        with self._lock:
            return self._words[since:]

    def count(self) -> int:
        with self._lock:
            return len(self._words)


def test_one_lost_on_still_opens_the_barrier_for_its_pulse_on_a_bus_with_one_module(
    adapter: PtyDevice,  # noqa: F811
    modules: Modules,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most lanes have one module on their bus. Noise eats the "on" of an admitted car's pulse: it
    is sent again at once, in the same pass over the bus, so the barrier's controller sees the
    relay closed for most of the 1 s pulse; not when the bus next wakes (the module's read-back a
    second later, or the pulse's "off"), glued a few milliseconds to the "off", which it never
    notices."""
    bus = ModbusBus(adapter.path, timeout_s=0.2, reconnect_max_s=0.2)
    heard = Heard(modules, monkeypatch, bus)
    gate = ModbusModule(bus, health("car-in-barrier", "relay", "car-in"), 1, coil=0, inputs=[])
    try:
        wait_for(lambda: gate.health.online and modules.writes(1) == [False], "the module released")
        # Asked just after a read-back, the module is not due again in the pulse's pass: only the
        # rule of sending a lost change again keeps the bus from resting before it is.
        mark = heard.count()
        wait_for(lambda: "1 read" in heard.words(mark), "the module's read-back")
        with modules.lock:
            modules.drop_coil_writes = 1
        since = heard.count()
        gate.pulse(1.0)  # pulse_seconds' default
        wait_for(lambda: modules.writes(1)[-2:] == [True, False], "the whole pulse")
        words = heard.words(since)
        lost = words.index("1 on")
        assert words[lost : lost + 2] == ["1 on", "1 on"], (
            f"the lost 'on' was not sent again at once, the bus heard {words}"
        )
        assert gate.health.counters["errors"] == 1  # the lost request is counted
    finally:
        gate.close()
        bus.stop()


def test_a_pulse_waits_at_most_for_the_one_request_already_on_the_wire(
    adapter: PtyDevice,  # noqa: F811
    modules: Modules,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The car-in module loses its power just as both lanes open: the car-out barrier waits for
    the car-in "on" sent before it (one timeout_s), not also for its "at once" retry. Both pulses
    are asked while the bus waits on the car-out module's read-back, held by the test, so they
    meet in one pass whatever the machine's load."""
    bus = ModbusBus(adapter.path, timeout_s=0.5, reconnect_max_s=0.2)
    heard = Heard(modules, monkeypatch)
    car_in = ModbusModule(bus, health("car-in-barrier", "relay", "car-in"), 1, coil=0, inputs=[])
    # Its own timeout bounds the hold below (a hang): the test lets go at once.
    car_out = ModbusModule(
        bus, health("car-out-barrier", "relay", "car-out"), 2, coil=0, inputs=[], timeout_s=30.0
    )
    try:
        wait_for(lambda: modules.writes(1) == [False] and modules.writes(2) == [False], "both released")
        heard.hold = 2
        wait_for(heard.held.is_set, "the car-out module's read-back on the wire")
        since = heard.count()
        with modules.lock:
            modules.off.add(1)
        car_in.pulse(1.0)
        car_out.pulse(1.0)
        heard.let_go.set()
        wait_for(lambda: len([w for w in heard.words(since) if w.endswith(" on")]) >= 3, "both sent")
        writes = [w for w in heard.words(since) if w.endswith(" on")][:3]
        assert writes == ["1 on", "2 on", "1 on"], (
            f"the car-out barrier's 'on' waited behind car-in's retry too: the bus heard {heard.words(since)}"
        )
        wait_for(lambda: modules.written_at(2, True), "the car-out barrier opened")
    finally:
        heard.let_go.set()
        car_in.close()
        car_out.close()
        bus.stop()


def test_a_silent_module_with_a_long_timeout_does_not_take_the_whole_bus(
    tmp_path: Path,
    modules: Modules,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A module switched off, given timeout_s = 1.5 (a slow vendor module): the car-in loop
    detector on the same bus is still read several times between its retries, each a second after
    the last one's timeout ended; asked on every pass (due again a second after the request began,
    before its timeout ended), it left the loop one read between them."""
    modules.off = {3}
    heard = Heard(modules, monkeypatch)
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
        since = heard.count()
        wait_for(lambda: heard.words(since).count("3 inputs") >= 3, "the silent module asked 3 times", 60)
        words = heard.words(since)
        asked = [i for i, word in enumerate(words) if word == "3 inputs"][:3]
        between = [words[a:b].count("1 inputs") for a, b in zip(asked, asked[1:], strict=False)]
        # About 10 at poll_s 0.1 in the second after each timeout (8-10 under four busy processes
        # on two cores); 1 when asked on every pass. Several in either gap, not in each: a loaded
        # machine's bus thread may sleep most of a second.
        assert max(between) >= 3, f"the car-in loop detector was read {between} times between the retries"
    finally:
        devices.close()
