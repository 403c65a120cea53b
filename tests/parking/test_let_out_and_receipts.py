"""A car refused at the exit that the guard lets out by hand (开闸) has left, as a car held there to
pay does (docs/parking.md, *Let out by hand*); and the receipt numbers the gateway makes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from drivers.cameras.frame import Frame
from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime import plate_reading
from gateway.runtime.gateway import Gateway
from gateway.runtime.plate_reading import PlateReader
from plates.reading import Reading
from tests.lane_helpers import AT_BARRIER, BEHIND, Recognizer
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay, _rows
from tests.parking.test_report_figures import Clock, serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
RESIDENT = "皖B33333"  # R2's car, on its own slot B002
NIGHT = T0 + 14 * H  # 23:00, after the car exit's hours
STRANGER = "苏E12345"
OTHER = "皖A11111"  # R1's car, on its own slot B001


def _night_exit(tmp_path: Path, lane: str = "") -> Gateway:
    """The parking site, its car exit open 07:00-22:00 (lane `hours`, and `lane`'s own settings),
    with anti_passback = "hard"."""
    text = parking_toml(tmp_path / "data", extra=RELAY)
    text = text.replace('id = "car-out"\n', f'id = "car-out"\nhours = ["07:00-22:00"]\n{lane}', 1)
    text = text.replace('anti_passback = "soft"', 'anti_passback = "hard"', 1)
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg)


@pytest.fixture
def night_exit(tmp_path: Path) -> Iterator[Gateway]:
    gw = _night_exit(tmp_path)
    yield gw
    gw.conn.close()


@pytest.fixture
def night_exit_confusable(tmp_path: Path) -> Iterator[Gateway]:
    """The same, its exit taking a look-alike reading for the registered plate it resembles."""
    gw = _night_exit(tmp_path, 'plate_match = "confusable"\n')
    yield gw
    gw.conn.close()


class ExitCamera:
    """car-out's plate camera: the real PlateReader and LaneVoter, fed frames on the monotonic clock
    (only the recognizer is fake), so the gateway can tell which car is at the barrier.

    `monkeypatch` given: the lane is judged at the time of the last frame fed (the reader's clock is
    the camera's), as for a camera whose frames run on up to each decision. Otherwise the reader
    judges it on the real monotonic clock, and a test that takes more than gone_after_s (3 s) past
    its last frame to reach a decision (a loaded CI box) finds the car it sees gone from the lane."""

    def __init__(self, gw: Gateway, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
        self.recognizer = Recognizer()
        self.reader = PlateReader(None, self.recognizer)  # type: ignore[arg-type]
        gw.devices.lanes["car-out"].plate_readers.append(self.reader)
        self.seq = 0
        self.t = time.monotonic()
        self.image = np.zeros((720, 1280, 3), np.uint8)
        if monkeypatch is not None:
            monkeypatch.setattr(plate_reading, "time", SimpleNamespace(monotonic=lambda: self.t))

    def frames(self, seconds: float, in_view: list[str], behind: Sequence[str] = ()) -> None:
        """`in_view` at the barrier, `behind` queued behind it, for `seconds` of frames."""
        at = [Reading(p, "blue", 0.99, AT_BARRIER) for p in in_view]
        self.recognizer.in_view = at + [Reading(p, "blue", 0.99, BEHIND) for p in behind]
        for _ in range(round(seconds / 0.1)):
            self.t += 0.1
            self.seq += 1
            self.reader(Frame(self.image, self.seq, self.t, 1.7e9 + self.t))


def test_resident_car_let_out_by_hand_outside_the_exits_hours_is_no_longer_inside(
    night_exit: Gateway,
) -> None:
    """The car exit keeps opening hours (lane `hours`); outside them a resident must leave (a child
    to hospital at night). The camera reads the car: 禁止通行 不在通行时段, the barrier stays down, and
    the guard opens it by hand (开闸, reason given) for that car, which drives out. The gateway still
    has the car inside: its stay stays open, its fixed slot shows taken on 车位占用 and upstream, and
    when it comes back it is taken for a car whose exit was missed (already_inside; refused outright
    with anti_passback = "hard"). The gateway knows which car it just turned away at that barrier:
    as for a car held there to pay (docs/parking.md *Let out by hand*: "Left open, the stay kept a
    space taken"), the guard's opening for it should record it as gone."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        assert look("car-in", RESIDENT, T0).admitted
        refused = look("car-out", RESIDENT, NIGHT)
        assert refused.reason == "outside_hours", refused
        open_by_hand()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        closed = _rows(gw, "SELECT closed_by, exit_event FROM stays")
        back = look("car-in", RESIDENT, NIGHT + H)
        sent = [json.loads(p) for (p,) in _rows(gw, "SELECT payload FROM outbox WHERE topic = 'stay'")]
        audited = _rows(gw, "SELECT detail FROM audit WHERE action = 'stay.close'")
    assert inside == [], (
        f"the guard let the car out, yet the gateway still has {inside} inside (its slot taken)"
    )
    assert closed == [("hand", refused.event_id)], closed
    assert [(s["change"], s["plate"], s["lane"]) for s in sent] == [("closed_by_hand", RESIDENT, "car-out")]
    assert [d for (d,) in audited] == [f"{RESIDENT}: let out by hand at car-out: 业主确认访客，已线下处理"]
    assert back.admitted and "already_inside" not in back.flags, back


def test_the_camera_reading_the_refused_car_let_out_as_it_pulls_away_lets_it_go(
    night_exit: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Let out by hand, the resident's car is read again by the exit's camera 3 s later, still under
    the barrier: it is the car just let out (flag `again`), not refused once more, and no more
    refusals go on record (*One car, one passage*)."""
    gw = night_exit
    cam = ExitCamera(gw, monkeypatch)  # the camera that reads the car sees it at the barrier
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", RESIDENT, T0)
        cam.frames(1.0, [RESIDENT])
        look("car-out", RESIDENT, NIGHT)
        cam.frames(1.0, [RESIDENT])
        open_by_hand()
        again = look("car-out", RESIDENT, NIGHT + 3 * S)
    assert (again.admitted, again.flags) == (True, ("again",)), again


def test_a_car_refused_a_minute_before_the_opening_is_not_let_out_by_it(night_exit: Gateway) -> None:
    """The resident's car was turned away at 23:00 and backed off into the car park; a minute later
    the guard opens the barrier by hand for something else (a delivery tricycle). The car is still
    inside: only a car refused at the barrier a moment ago is the one the opening is for."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", RESIDENT, T0)
        look("car-out", RESIDENT, NIGHT)
        gw.now.at = NIGHT + M  # type: ignore[attr-defined]
        open_by_hand()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
    assert inside == [(RESIDENT,)]


def test_the_car_refused_is_let_out_once(night_exit: Gateway) -> None:
    """The guard presses 开闸 twice for the resident's car (the barrier fell before it moved): it
    leaves once, on the record, and nothing more is closed or told upstream."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", RESIDENT, T0)
        look("car-out", RESIDENT, NIGHT)
        open_by_hand()
        gw.now.at = NIGHT + 5 * S  # type: ignore[attr-defined]
        open_by_hand()
        closed = _rows(gw, "SELECT count(*) FROM audit WHERE action = 'stay.close'")
        openings = _rows(gw, "SELECT count(*) FROM let_outs_by_hand")
    assert (closed, openings) == ([(1,)], [(1,)])


def test_a_car_refused_with_no_stay_is_let_out_closing_nothing(night_exit: Gateway) -> None:
    """A resident's car with no entry record (the camera missed it coming in) is refused at the
    exit at night and let out by hand: there is no stay to close, and nothing else is."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "皖A11111", T0)  # another car of the estate, inside
        refused = look("car-out", RESIDENT, NIGHT)
        assert not refused.admitted, refused
        open_by_hand()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        closed = _rows(gw, "SELECT count(*) FROM audit WHERE action = 'stay.close'")
    assert (inside, closed) == ([("皖A11111",)], [(0,)])


def test_a_lane_held_open_for_a_car_refused_closes_no_stay(night_exit: Gateway) -> None:
    """Holding the exit open (常开) lets out no car on record, refused or held to pay: the guard
    holds it for a convoy, not for one car (docs/parking.md, *Let out by hand*)."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, _):
        look("car-in", RESIDENT, T0)
        look("car-out", RESIDENT, NIGHT)
        gw.by_hand.hold_lane("car-out", "保安 王", "车队")
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert inside == [(RESIDENT,)]


def test_a_refused_car_the_camera_saw_drive_away_is_not_let_out_by_an_opening_for_a_bike(
    night_exit: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """23:00, outside the car exit's hours: the resident's car is refused (不在通行时段) and, told so,
    turns back into the estate; the exit's own camera sees it leave the lane. 20 s later the guard
    opens the barrier by hand for a delivery tricycle (no plate). The car stays inside on record:
    its stay open, its fixed slot shown taken, nothing closed by hand upstream (before, it was
    recorded let out, its slot shown free all night, and next morning it left flagged
    no_entry_record). The lane's camera says the refused car is no longer at the barrier."""
    gw = night_exit
    cam = ExitCamera(gw, monkeypatch)
    with _exit_with_relay(gw) as (look, open_by_hand):
        assert look("car-in", RESIDENT, T0).admitted
        cam.frames(1.0, [RESIDENT])  # the car at the barrier
        refused = look("car-out", RESIDENT, NIGHT)
        assert refused.reason == "outside_hours", refused
        cam.frames(5.0, [])  # it backs away; the lane is empty
        assert not cam.reader.in_lane(RESIDENT)
        gw.now.at = NIGHT + 20 * S  # type: ignore[attr-defined]
        open_by_hand()  # for the tricycle
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
    assert inside == [(RESIDENT,)], (
        "the guard opened for a tricycle, yet the resident's car, which the exit camera saw back "
        f"away, is recorded out: still inside per the gateway: {inside}"
    )


def test_the_refused_car_the_camera_sees_is_let_out_not_a_stale_hold_that_backed_away(
    night_exit: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """21:50, the car exit still open: a stranger's car is held to pay, and its driver, unwilling to
    pay, backs away into the car park (the camera sees it go). 22:05, after the exit's hours, the
    resident's car is refused (不在通行时段) and stands at the barrier, seen by the exit camera; the
    guard opens by hand for it (a child to hospital, docs/parking.md *Let out by hand*). The
    resident's car is let out on record, and is let back in later; the stranger's car stays inside
    with its fee owed (before, the stranger's held car was let out on record, its fee dropped under
    reentry = "void", and the resident, still "inside", was refused back in under anti_passback =
    "hard")."""
    gw = night_exit
    cam = ExitCamera(gw, monkeypatch)
    with _exit_with_relay(gw) as (look, open_by_hand):
        assert look("car-in", RESIDENT, T0).admitted
        assert look("car-in", STRANGER, T0).admitted
        cam.frames(1.0, [STRANGER])
        held = look("car-out", STRANGER, T0 + 12 * H + 50 * M)  # 21:50
        assert held.reason == "payment_due", held
        cam.frames(5.0, [])  # it backs away
        cam.frames(1.0, [RESIDENT])  # the resident's car reaches the barrier
        refused = look("car-out", RESIDENT, T0 + 13 * H + 5 * M)  # 22:05
        assert refused.reason == "outside_hours", refused
        assert cam.reader.in_lane(RESIDENT) and not cam.reader.in_lane(STRANGER)
        gw.now.at = T0 + 13 * H + 5 * M + 10 * S  # type: ignore[attr-defined]
        open_by_hand()
        inside = sorted(_rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL"))
        back = look("car-in", RESIDENT, T0 + 15 * H)
    assert inside == [(STRANGER,)], (
        f"the guard let out the resident's car the camera sees at the barrier; still inside: {inside}"
    )
    assert back.admitted, back


@contextmanager
def _guard_at(
    gw: Gateway,
) -> Iterator[tuple[Callable[[str, str, datetime], AccessEvent], Callable[[datetime], None], Any, Any]]:
    """The lanes, the guard's "open" at car-out at a given time, and the API (plate corrections)."""
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):

        def look(lane: str, plate: str, at: datetime) -> AccessEvent:
            clock.at = at
            p = Presented(lane, "plate", plate, 0.97, at, "cam")
            return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)

        def open_by_hand(at: datetime) -> None:
            clock.at = at
            r = client.post("/api/lanes/car-out/open", headers=auth, json={"reason": "业主急事，夜间放行"})
            assert r.status_code == 200, r.text

        yield look, open_by_hand, client, auth


def test_of_two_residents_queued_at_night_the_opening_lets_out_the_one_at_the_barrier(
    night_exit: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """23:00, outside the exit's hours. Resident car RESIDENT reaches the barrier and is refused
    (不在通行时段); OTHER queues behind it and is refused too; the camera sees both. RESIDENT stands
    at the barrier and the camera, as it does every 15 s, refuses it again. The guard opens by hand
    for RESIDENT, which drives out. The gateway recorded OTHER (still in the queue, then back in the
    car park) as let out: its stay closed, its slot shown free, while RESIDENT was kept inside and
    refused back in later under anti_passback = "hard". Docs (*Let out by hand*): the opening lets
    out "the first the lane's camera still sees" - the car at the barrier, not the one whose last
    refusal happens to be the oldest."""
    gw = night_exit
    cam = ExitCamera(gw, monkeypatch)
    with _guard_at(gw) as (look, open_by_hand, _, _):
        assert look("car-in", RESIDENT, T0).admitted
        assert look("car-in", OTHER, T0).admitted
        cam.frames(1.0, [RESIDENT])
        assert look("car-out", RESIDENT, NIGHT).reason == "outside_hours"
        cam.frames(1.0, [RESIDENT], behind=[OTHER])
        assert look("car-out", OTHER, NIGHT + 10 * S).reason == "outside_hours"
        cam.frames(1.0, [RESIDENT], behind=[OTHER])
        again = look("car-out", RESIDENT, NIGHT + 15 * S)  # the camera decides the standing car again
        assert not again.admitted, again
        assert cam.reader.in_lane(RESIDENT) and cam.reader.in_lane(OTHER)
        open_by_hand(NIGHT + 20 * S)
        inside = sorted(_rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL"))
    assert inside == [(OTHER,)], (
        f"the guard opened for {RESIDENT} at the barrier; the gateway still has inside: {inside}"
    )


def test_a_refused_resident_whose_misread_plate_the_guard_corrected_is_let_out(
    night_exit: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """23:00, outside the exit's hours. The exit camera misreads the resident's plate 皖B33333 as
    皖B33338 and refuses it; the guard corrects the plate on the live page (the record now stands
    as 皖B33333, the resident's car) and opens by hand for it. The car drove out, but the gateway
    still had it inside: its stay open, its slot B002 shown taken, and back in later it was refused
    under anti_passback = "hard": the refusal was dropped because the camera 'did not see'
    皖B33333 (it holds the text it read, 皖B33338), though the car never moved."""
    gw = night_exit
    cam = ExitCamera(gw, monkeypatch)
    misread = "皖B33338"
    with _guard_at(gw) as (look, open_by_hand, client, auth):
        assert look("car-in", RESIDENT, T0).admitted
        cam.frames(1.0, [misread])
        refused = look("car-out", misread, NIGHT)
        assert not refused.admitted, refused
        r = client.post(f"/api/events/{refused.event_id}/plate", headers=auth, json={"plate": RESIDENT})
        assert r.status_code == 200, r.text
        cam.frames(1.0, [misread])  # still at the barrier
        open_by_hand(NIGHT + 10 * S)
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        back = look("car-in", RESIDENT, NIGHT + H)
    assert inside == [], f"the guard let out the resident's car; still inside: {inside}"
    assert back.admitted, back


def test_a_refused_resident_read_as_a_lookalike_is_let_out(
    night_exit_confusable: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exit allows look-alike plates (plate_match = "confusable"). 23:00: the camera reads
    R1's car 皖A11111 as 皖A1111T (1/T), the gateway takes it for 皖A11111 and refuses it (不在通行
    时段). The guard opens by hand for it and it drives out; the gateway kept it inside (stay open,
    slot B001 taken, refused back in under anti_passback = "hard"), because it asked the camera
    whether it sees 皖A11111 while the camera holds the text it read."""
    gw = night_exit_confusable
    cam = ExitCamera(gw, monkeypatch)
    read = "皖A1111T"
    with _guard_at(gw) as (look, open_by_hand, _, _):
        assert look("car-in", OTHER, T0).admitted
        cam.frames(1.0, [read])
        refused = look("car-out", read, NIGHT)
        assert refused.reason == "outside_hours" and "lookalike" in refused.flags, refused
        cam.frames(1.0, [read])
        open_by_hand(NIGHT + 10 * S)
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
    assert inside == [], f"the guard let out the resident's car; still inside: {inside}"


def test_of_two_cars_held_to_pay_the_one_at_the_barrier_read_as_a_lookalike_is_let_out(
    night_exit_confusable: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """21:00, the car exit open, taking look-alike plates (plate_match = "confusable"). The camera
    reads R4's car 皖D55555 (its monthly lapsed) as 皖D5555S (5/S); the gateway takes it for 皖D55555
    and holds it at the barrier to pay. A stranger's car queues behind it and is held to pay too;
    the camera sees both. The guard's "Take the fee" names the stranger's car, and the guard's
    opening by hand for R4's car (which drives out) let out the stranger's car on record instead:
    the gateway asked the camera whether it sees 皖D55555, while the camera holds the text it read,
    皖D5555S (docs/parking.md *Let out by hand*: "the first the lane's camera still sees")."""
    gw = night_exit_confusable
    cam = ExitCamera(gw, monkeypatch)
    lapsed, read = "皖D55555", "皖D5555S"
    at = T0 + 12 * H  # 21:00
    with _guard_at(gw) as (look, open_by_hand, client, auth):
        assert look("car-in", lapsed, T0).admitted
        assert look("car-in", STRANGER, T0).admitted
        cam.frames(1.0, [read])
        held = look("car-out", read, at)
        assert (held.reason, held.plate) == ("payment_due", lapsed) and "lookalike" in held.flags, held
        cam.frames(1.0, [read], behind=[STRANGER])
        assert look("car-out", STRANGER, at + 10 * S).reason == "payment_due"
        cam.frames(1.0, [read], behind=[STRANGER])
        assert cam.reader.in_lane(read) and cam.reader.in_lane(STRANGER)
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth)
        open_by_hand(at + 20 * S)
        inside = sorted(_rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL"))
    assert quote.status_code == 200 and quote.json()["plate"] == lapsed, quote.text
    assert inside == [(STRANGER,)], (
        f"the guard opened for {lapsed} at the barrier; the gateway still has inside: {inside}"
    )
