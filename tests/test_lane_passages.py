"""Passages at a plate lane: the camera driver, the plate reader and its lane voter together, with a
clock the test sets, and a recognizer that reports what the test says is in view (the only fake:
where the model would be): tests/lane_helpers.py's Lane. One presentation per passage whatever the
camera's settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from drivers.cameras.capture import TRIGGER_RETRY_FOR_S
from gateway.config import parse_config
from gateway.config.models import Alarms
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.runtime.watch import AlarmWatch
from plates.lane import LaneVoter
from plates.reading import Reading
from tests.conftest import site_toml
from tests.lane_helpers import AT_BARRIER, BEHIND, Lane, P


def test_two_cars_queued_in_view_are_presented_once_each_even_with_no_debounce(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lane = Lane(monkeypatch, debounce_s=0)
    behind = Reading("皖B67890", "blue", 0.99, BEHIND)
    lane.frames(0.0, 0.1, [P])
    lane.frames(0.1, 5.0, [P, behind])
    assert [value for _, value in lane.presented] == [P, "皖B67890"]


def test_a_standing_car_misread_for_a_moment_is_presented_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone walks past: for 1.2 s the camera reads the last character wrong."""
    lane = Lane(monkeypatch)
    lane.frames(0.0, 5.0, [P])
    lane.frames(5.0, 6.2, ["皖A1234S"])
    lane.frames(6.2, 10.0, [P])
    assert [value for _, value in lane.presented] == [P]


def test_the_queued_car_is_read_when_it_reaches_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults. A at the barrier, B behind; A drives off at 3 s, B rolls onto the loop at 4 s."""
    lane = Lane(monkeypatch)
    behind = Reading("皖B67890", "blue", 0.99, BEHIND)
    lane.frames(0.0, 0.1, [P])
    lane.frames(0.1, 3.0, [P, behind])
    lane.frames(3.0, 4.0, ["皖B67890"])
    lane.loop(4.0)
    lane.frames(4.0, 10.0, ["皖B67890"])
    assert lane.times("皖B67890") == [0.1, 4.0]


def test_a_car_that_comes_back_onto_the_loop_within_the_debounce_is_presented_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lane = Lane(monkeypatch)  # debounce_s = 10
    lane.frames(0.0, 1.0, [P])  # read at the barrier
    lane.frames(1.0, 6.0, [])  # reversed out of view
    lane.frames(6.0, 7.0, [P])  # back
    lane.loop(7.0)  # on the loop: read as it came, a moment ago, so not decided twice
    lane.frames(7.0, 14.0, [P])  # waiting at the barrier
    assert lane.times() == [0.0, 6.0]


@pytest.mark.parametrize("debounce_s", [10.0, 20.0, 600.0])
def test_a_car_left_standing_without_a_loop_is_presented_again_whatever_the_debounce(
    monkeypatch: pytest.MonkeyPatch, debounce_s: float
) -> None:
    lane = Lane(monkeypatch, debounce_s=debounce_s)
    lane.frames(0.0, 50.0, [P], step=0.5)
    assert len(lane.times()) == 4  # again every repeat_after_s (15 s), so the gate can act


def test_trigger_mode_reads_a_car_on_the_loop_whose_plate_became_readable_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.frames(0.0, 1.0, [])  # no car: nothing is read
    assert lane.recognizer.calls == 0
    lane.loop(1.0)  # a car on the loop; glare hides its plate for the trigger's frames
    lane.frames(1.0, 3.0, [])  # trigger frames 1.0-1.7, then one a second: 2.7, 3.7 ...
    lane.frames(3.0, 18.0, [P])  # then it is readable, standing there (decided again from 18.7)
    assert lane.times() == [3.7]
    assert lane.recognizer.calls < 8 + 18  # a frame a second after the trigger's, not every frame


def test_trigger_mode_stops_looking_again_after_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=3)
    lane.loop(0.0)  # a car whose plate is never read (a motorcycle, a trailer)
    lane.camera.loop_cleared()  # it rides on and the loop goes off: no loop stuck on
    lane.frames(0.0, TRIGGER_RETRY_FOR_S + 1.0, [], step=0.5)
    calls = lane.recognizer.calls
    lane.frames(TRIGGER_RETRY_FOR_S + 1.0, TRIGGER_RETRY_FOR_S + 30.0, [P], step=0.5)
    assert lane.recognizer.calls == calls and lane.presented == []


@pytest.fixture
def exit_lane(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The exit camera's reader as the gateway's own; what it presents is decided and watched for
    repeated unknown plates (3 within 10 minutes, the defaults)."""
    lane = Lane(monkeypatch)
    gw = Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml"))
    gw.devices.lanes["car-out"].plate_readers.append(lane.reader)
    gw.start()
    watch = AlarmWatch(gw, Alarms(), clock=lambda: lane.now)
    gw.subscribe(watch.on_event)

    def present(value: str) -> None:
        p = Presented("car-out", "plate", value, 0.99, gw.now(), "car-out-camera")
        assert not gw.on_worker(lambda c: gw.handle(p)).result(10).admitted  # nobody registered it

    lane.on_present = present

    def alarms() -> list[str]:
        gw.on_worker(lambda c: None).result(10)  # what the watch raised is written by now
        with sqlite3.connect(gw.db_path) as conn:
            return [row[0] for row in conn.execute("SELECT kind FROM alarms")]

    yield lane, alarms
    gw.stop()


def test_one_unregistered_car_waiting_at_the_exit_is_not_a_repeated_plate(exit_lane) -> None:  # type: ignore[no-untyped-def]
    lane, alarms = exit_lane
    lane.frames(0.0, 40.0, ["豫Z99999"], step=0.5)  # waits for the guard, no loop detector
    lane.loop(40.0)  # it edges forward onto the loop
    lane.frames(40.0, 45.0, ["豫Z99999"], step=0.5)
    assert len(lane.times("豫Z99999")) == 4  # the gate was asked again and again
    assert alarms() == []


def test_an_unregistered_car_trying_again_and_again_raises_the_alarm(exit_lane) -> None:  # type: ignore[no-untyped-def]
    lane, alarms = exit_lane
    for start in (0.0, 60.0, 120.0):  # refused, turns round, comes back a minute later
        lane.frames(start, start + 2.0, ["豫Z99999"])
        lane.frames(start + 2.0, start + 10.0, [])
    assert len(lane.times("豫Z99999")) == 3
    assert alarms() == ["repeated_unknown_plate"]


# A queue in view from the first frame (review, stop 31)
QA, QB = "皖A12345", "皖B67890"


def _decided_in(voter: LaneVoter, start: float, end: float, readings: list[Reading]) -> list[str]:
    out = []
    for i in range(round((end - start) / 0.1)):
        d = voter.add(readings, now=start + i * 0.1)
        if d is not None:
            out.append(d.text)
    return out


def test_two_plates_seen_together_from_the_first_frame_are_each_decided() -> None:
    """Car A at the barrier and car B queued behind it are both readable in the first frame the
    lane reads (a camera reconnecting, trigger mode looking when the loop fires). Another car's
    plate is no rival to this one's: each is decided once, the car at the barrier first."""
    voter = LaneVoter()
    both = [Reading(QA, "blue", 0.99, AT_BARRIER), Reading(QB, "blue", 0.97, BEHIND)]
    assert _decided_in(voter, 0.0, 10.0, both) == [QA, QB]


def test_trigger_mode_opens_for_the_car_on_the_loop_with_a_car_queued_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same through the camera driver and the gateway's PlateReader: in trigger mode the lane
    reads only when the loop fires, and its first frame already shows the car behind."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.frames(0.0, 1.0, [])
    lane.loop(1.0)
    behind = Reading("皖B67890", "blue", 0.99, BEHIND)
    lane.frames(1.0, 30.0, [P, behind])
    assert P in [text for _, text in lane.presented], lane.presented


def test_alternating_misreads_of_a_moving_car_never_decide_a_plate() -> None:
    """A car rolls to the barrier, its plate 50 px further down each frame (boxes 40 px high, so
    no two readings' boxes overlap), read two ways turn about at 0.5: the misread two characters
    off is the same car on the same track, a rival, and neither text builds a lead."""
    voter = LaneVoter()
    decided = []
    for i in range(6):
        text = "皖A1Z34S" if i % 2 == 0 else QA
        d = voter.add([Reading(text, "blue", 0.5, (600, 100 + 50 * i, 120, 40))], i * 0.2)
        if d is not None:
            decided.append(d.text)
    assert decided == []
