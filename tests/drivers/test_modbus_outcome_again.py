"""A Modbus relay's pulse or hold judged by the outcome of its own coil write, from the review of
7a3c6b3: a pulse judged not taken is not written later on its own; a hold is judged as an opening
is; two cars decided before the module answers are each greeted, the last one last.

The RS-485 line is the fake pymodbus client of test_modbus_pulse_outcome.py, gated where a test
needs one thing to happen before another (no sleeps standing in for an order).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pymodbus.exceptions import ModbusIOException

from drivers.relays.modbus import ModbusBus
from gateway.config import parse_config
from gateway.core import Presented
from gateway.errors import GatewayError
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.conftest import registered_plates_site, site_toml
from tests.drivers.conftest import wait_for
from tests.drivers.test_modbus_pulse_outcome import (
    MODBUS_EXIT,
    MODBUS_EXIT_PTY,
    SILENT_S,
    Client,
    Reply,
    exit_led,
    exit_on_modbus,
)

SIMULATED_LOCK = 'id = "door-lock"\nlane = "door"\nkind = "relay"\ndriver = "simulated"\n'
MODBUS_LOCK = """id = "door-lock"
lane = "door"
kind = "relay"
driver = "modbus"
port = "{port}"
unit = 1
coil = 0

[[devices]]
id = "door-led"
lane = "door"
kind = "display"
driver = "simulated"
"""


class NoisyLine(Client):
    """The RS-485 line, where the next `lost_writes` coil writes are lost to noise; every coil
    write the module took, with when."""

    def __init__(self) -> None:
        super().__init__()
        self.lost_writes = 0
        self.writes_at: list[tuple[float, bool]] = []

    def write_coil(self, address: int, value: bool, device_id: int) -> Reply:
        with self.lock:
            lost, self.lost_writes = self.lost_writes > 0, max(self.lost_writes - 1, 0)
        if lost:
            time.sleep(SILENT_S)
            raise ModbusIOException("no response received")
        reply = super().write_coil(address, value, device_id)
        with self.lock:
            self.writes_at.append((time.monotonic(), value))
        return reply


class HeldAnswer(Client):
    """A module whose answer to the coil write "on" comes only once `answer` is set (a slow
    answer, within the bus's timeout: the fake does not time out)."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = threading.Event()

    def write_coil(self, address: int, value: bool, device_id: int) -> Reply:
        if value:
            assert self.answer.wait(10), "the test never let the module answer"
        return super().write_coil(address, value, device_id)


def _on_the_line(monkeypatch: pytest.MonkeyPatch, client: Client) -> None:
    defaults = dict(ModbusBus.__init__.__kwdefaults__ or {})
    monkeypatch.setattr(ModbusBus.__init__, "__kwdefaults__", {**defaults, "client_factory": client.factory})


@pytest.fixture
def noisy(monkeypatch: pytest.MonkeyPatch) -> Iterator[NoisyLine]:
    client = NoisyLine()
    _on_the_line(monkeypatch, client)
    yield client


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldAnswer]:
    client = HeldAnswer()
    _on_the_line(monkeypatch, client)
    yield client
    client.answer.set()  # a failing test leaves no bus thread waiting


@pytest.fixture
def line(monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    client = Client()
    _on_the_line(monkeypatch, client)
    yield client


def door_on_modbus(tmp_path: Path) -> Gateway:
    port = tmp_path / "ttyUSB-rs485"
    port.write_text("")  # the adapter is plugged in
    text = site_toml(tmp_path / "data")
    assert SIMULATED_LOCK in text
    text = text.replace(SIMULATED_LOCK, MODBUS_LOCK.format(port=port))
    # A magnetic lock is released for a few seconds (hardware.md: pulse_seconds per lane).
    text = text.replace('type = "pedestrian"\n', 'type = "pedestrian"\npulse_seconds = 5\n', 1)
    return Gateway(parse_config(text, "site.toml"))


def _audited(gw: Gateway, action: str, lane: str) -> int:
    count: int = gw.on_worker(
        lambda conn: conn.execute(
            "SELECT count(*) FROM audit WHERE action = ? AND target = ?", (action, lane)
        ).fetchone()[0]
    ).result(timeout=10)
    return count


def test_a_door_told_it_did_not_open_does_not_open_a_second_later(
    tmp_path: Path,
    noisy: NoisyLine,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """The guard presses 开闸 for the pedestrian door (a Modbus relay module, pulse 5 s). Both
    tries of the coil write are lost to noise on the RS-485 line: the opening is reported failed
    (GatewayError, lane.open_failed upstream, the board reads 门禁故障 请联系保安), as guard-app.md
    says for a module that did not take the pulse. About a second later the module's next poll
    wrote the coil "on" anyway (the pulse was still 'wanted'), and the door unlocked for the rest
    of the 5 s with nobody told: the page said it failed, the board said the lock is faulty, the
    record said open_failed, the guard pressed again or walked out. A pulse judged not taken is
    not written later on its own."""
    gw = gateways(door_on_modbus(tmp_path))
    relay = gw.devices.lanes["door"].relays[0]
    display = gw.devices.lanes["door"].displays[0]
    wait_for(lambda: relay.health.online, "the module online")
    assert noisy.writes_at == [(noisy.writes_at[0][0], False)]  # its first poll wrote the coil off
    noisy.lost_writes = 2
    with pytest.raises(GatewayError):
        gw.by_hand.open_lane("door", "保安 王", "送快递")
    assert display.shown[-1][0] == "门禁故障 请联系保安"
    assert not relay.health.online
    assert _audited(gw, "lane.open_failed", "door") == 1
    # The module's next poll (a second after the failure, well within the 5 s pulse) answers.
    wait_for(lambda: relay.health.online, "the module to answer its poll again")
    on = [value for _, value in noisy.writes_at if value]
    assert not on, (
        f"the guard and the board were told the door did not open, yet its coil was switched on; "
        f"the board still reads {display.shown[-1]}"
    )
    # The door still opens when the guard presses again.
    gw.by_hand.open_lane("door", "保安 王", "送快递")
    assert display.shown[-1][0] != "门禁故障 请联系保安"
    assert [value for _, value in noisy.writes_at][-1] is True


def test_a_hold_on_an_unplugged_modbus_adapter_does_not_tell_drivers_to_go(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """The exit's Modbus RS-485 adapter is unplugged (the relay module offline, the barrier down).
    A convoy is coming and the guard presses 常开 (hold open). The hold was reported done (no
    lane.hold_failed, the page said held), and the exit's board and voice told every driver
    一路平安 (go ahead) at a barrier that stays down. hardware.md: a held lane shows 一路平安/请通行
    once its relays hold it; a barrier that did not open is told 道闸故障 请联系保安, as an opening
    by hand on the same unplugged adapter is (7a3c6b3)."""
    port = tmp_path / "ttyUSB-rs485"  # not there: unplugged
    gw = gateways(registered_plates_site(tmp_path, "鲁B11111,R1\n", extra=MODBUS_EXIT_PTY.format(port=port)))
    relay = gw.devices.lanes["car-out"].relays[0]
    display = exit_led(gw)
    wait_for(lambda: relay.health.last_error, "the relay module to be missed")
    with pytest.raises(GatewayError, match="car-out-barrier"):
        gw.by_hand.hold_lane("car-out", "保安 王", "车队通过")
    told = [lines for lines in display.shown if lines and lines[0] == "一路平安"]
    assert not relay.health.online  # the barrier cannot be up
    assert not told, f"the board told drivers {told} at a barrier held by no relay; held: {gw.by_hand.held}"
    assert display.shown[-1] == ["道闸故障 请联系保安"]
    assert "car-out" not in gw.by_hand.held
    assert _audited(gw, "lane.hold_failed", "car-out") == 1


def test_a_hold_the_module_takes_is_held_and_greets(
    tmp_path: Path,
    line: Client,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """The same hold on a module that answers: held once the coil is on as written, and the board
    tells drivers to go."""
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    display = exit_led(gw)
    wait_for(lambda: relay.health.online, "the module online")
    gw.by_hand.hold_lane("car-out", "保安 王", "车队通过")
    assert line.coil[-1] is True
    assert gw.by_hand.held == {"car-out": "保安 王"}
    assert display.shown[-1] == ["一路平安"]
    assert _audited(gw, "lane.hold_failed", "car-out") == 0


def test_the_car_now_at_the_barrier_is_the_one_greeted(
    tmp_path: Path,
    slow: HeldAnswer,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """One read-back of the exit's module is lost to noise, so it reads offline for a second; two
    residents' cars leave nose to tail, both decided before the module answers the coil write. The
    barrier rose and both were let through, yet the board only ever greeted the first car
    (一路平安 鲁B11111) and then stayed on it: the second driver, now at the barrier, was never
    greeted (nor told anything), reading another car's plate. Each admitted car is greeted, and
    what the car now at the barrier is told is not replaced by the car before."""
    port = tmp_path / "ttyUSB-rs485"
    port.write_text("")  # the adapter is plugged in
    gw = gateways(
        registered_plates_site(tmp_path, "鲁B11111,R1\n鲁B22222,R2\n", extra=MODBUS_EXIT.format(port=port))
    )
    relay = gw.devices.lanes["car-out"].relays[0]
    display = exit_led(gw)
    display.shown.clear()  # the start's idle line (Review 66L)
    acted: list[AccessEvent] = []

    def decided(ev: AccessEvent) -> None:  # called once the lane was pulsed and told (Gateway._after)
        acted.append(ev)
        if len(acted) == 2:
            slow.answer.set()  # the module answers the write once both cars were decided

    gw.subscribe(decided)
    wait_for(lambda: relay.health.online, "the module online")
    slow.lost_reads = 1
    wait_for(lambda: not relay.health.online, "the lost poll to put the module offline")
    gw.present(Presented("car-out", "plate", "鲁B11111", 0.99, gw.now(), "cam"))
    gw.present(Presented("car-out", "plate", "鲁B22222", 0.99, gw.now(), "cam"))
    wait_for(lambda: True in slow.coil, "the coil to be written")
    assert [ev.admitted for ev in acted] == [True, True]  # both let through
    wait_for(lambda: display.shown[-1:] == [["一路平安", "鲁B22222"]], "the second car greeted")
    assert display.shown == [["一路平安", "鲁B11111"], ["一路平安", "鲁B22222"]], (
        f"both cars let through, the board read {display.shown}"
    )


# Within the bus's bound on a hold's answer (ModbusBus.answer_within_s: 1.4 s with these timeouts).
LATE_S = 0.5


class LateOn(Client):
    """A module that answers the write of its coil "on" a little late: once `answer` is set, or
    LATE_S after the write went on the wire; `writing` is set as it goes on the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.answer = threading.Event()

    def write_coil(self, address: int, value: bool, device_id: int) -> Reply:
        if value:
            self.writing.set()
            self.answer.wait(LATE_S)
        return super().write_coil(address, value, device_id)


@pytest.fixture
def late(monkeypatch: pytest.MonkeyPatch) -> Iterator[LateOn]:
    client = LateOn()
    _on_the_line(monkeypatch, client)
    yield client
    client.answer.set()


def test_a_lane_released_while_its_hold_is_being_written_is_not_left_held(
    tmp_path: Path, late: LateOn, gateways: Callable[[Gateway], Gateway]
) -> None:
    """Guard 王 presses 常开 (hold open) on the exit, a Modbus barrier; the module answers its
    coil write a little late. Meanwhile guard 李 (or the centre's set_lane_mode normal) presses
    恢复 (release): the convoy was called off. Both presses succeeded; the release was the last
    word on record (lane.release after lane.hold) and the barrier ended down (the coil written
    "off"). Yet the gateway kept the lane as held: the guard pages showed 常开中 · 保安 王 for a
    lane whose barrier is shut and whose record says released, the exit board read 一路平安 to the
    next driver at a shut barrier, and a barrier forced up was taken for the hold. Once released,
    the lane is not held, on the pages as on record and on the relay."""
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    display = exit_led(gw)
    wait_for(lambda: relay.health.online, "the module online")
    errors: dict[str, BaseException] = {}

    def press(name: str, action: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - asserted below
                errors[name] = exc

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    holding = press("hold", lambda: gw.by_hand.hold_lane("car-out", "保安 王", "车队通过"))
    assert late.writing.wait(5), "the hold's coil write never went on the wire"

    def release() -> None:
        gw.by_hand.release_lane("car-out", "保安 李", "车队取消")
        late.answer.set()  # the module answers once the release is done, if it is done that soon

    # Pressed while the module has not answered the hold. Done at once, the release left the hold's
    # late answer the last word; taken in turn, it waits for that answer (LATE_S at most). Either
    # way the hold and the release each end whatever the machine's speed: no order left to chance.
    releasing = press("release", release)
    holding.join(10)
    releasing.join(10)
    assert not holding.is_alive() and not releasing.is_alive()
    # The hold takes (LATE_S is within its bound), or, on a machine too slow for that, fails as
    # lane.hold_failed; the release, the last thing asked, is done either way.
    assert "release" not in errors, errors
    assert isinstance(errors.get("hold", GatewayError("")), GatewayError), errors
    wait_for(lambda: late.coil[-1:] == [False], "the coil written off after the release")
    actions: list[str] = gw.on_worker(
        lambda conn: [
            row[0]
            for row in conn.execute(
                "SELECT action FROM audit WHERE target = 'car-out' AND action LIKE 'lane.%' ORDER BY id"
            )
        ]
    ).result(timeout=10)
    assert actions[0] == "lane.hold" and actions[-1] == "lane.release", actions
    # The release was the last thing asked: the barrier is down, and the lane is not held.
    assert late.coil[-1] is False
    assert "car-out" not in gw.by_hand.held, (
        f"the barrier is down and the lane released on record, yet held by {gw.by_hand.held}; "
        f"the board reads {display.shown[-1:]}"
    )
