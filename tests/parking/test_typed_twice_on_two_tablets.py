"""Two guards in the booth, each with a tablet: the camera missed a car, and both type its plate at
the lane a moment apart (or the camera let it through, and the guard whose tablet had not shown it
yet types it). One car, one passage: the second typing is that car again (flag `again`, 同车再次抬杆),
let through as the first decision let it, not a second car: no second stay at an entrance, no exit
of a car with no entry record (a day's fee at `exit_without_entry = "charge"`). A plate typed at
another lane, more than a minute later, or for a car refused there is decided afresh
(docs/parking.md, *One car, one passage*). Under anti_passback = "hard" a plate typed twice at an
entrance is a car of its own (a cloned plate, refused as inside already); at an exit, which hard
anti-passback never refuses, it is that car still (review 56b)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.registry import set_blocked
from tests.parking.conftest import T0, parking_toml, seed

STRANGER = "苏E12345"
RESIDENT = "皖B33333"  # R2's car on its own slot B002
S = timedelta(seconds=1)


class Booth:
    """A running gateway whose clock the test moves, and two guards' tablets (a token each)."""

    def __init__(self, gw: Gateway):
        self.gw, self.now = gw, T0
        gw.now = lambda: self.now  # type: ignore[method-assign]
        self.client = TestClient(create_app(gw))
        self.tablets = [self._tablet(name) for name in ("guardA", "guardB")]

    def _tablet(self, name: str) -> dict[str, str]:
        made = self.gw.on_worker(lambda c: create_token(c, self.now, "test", name, "guard", None))
        return {"Authorization": f"Bearer {made.result(10)[1]}"}

    def typed(self, tablet: int, lane: str, plate: str) -> dict[str, Any]:
        answer = self.client.post(
            f"/api/lanes/{lane}/plate", headers=self.tablets[tablet], json={"plate": plate}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def camera(self, lane: str, plate: str, at: datetime | None = None) -> AccessEvent:
        p = Presented(lane, "plate", plate, 0.97, at or self.now, "cam")
        return self.gw.on_worker(lambda _: self.gw.handle(p)).result(10)

    def read(self, sql: str, *args: object) -> list[Any]:
        return self.gw.on_worker(lambda c: c.execute(sql, args).fetchall()).result(10)

    def block(self, plate: str, blocked: bool) -> None:
        self.gw.on_worker(
            lambda c: set_blocked(c, self.now, "guard", ("plate", plate), blocked, "公安协查")
        ).result(10)

    def stays(self) -> list[tuple[str, bool]]:
        """Each stay: its plate, and whether it is still open."""
        return [
            (plate, out is None) for plate, out in self.read("SELECT plate, exited_at FROM stays ORDER BY id")
        ]

    def held_at_exit(self) -> int:
        quote = self.client.get("/api/parking/lanes/car-out/quote", headers=self.tablets[0])
        assert quote.status_code == 200, quote.text
        due: int = quote.json()["due_fen"]
        return due


@pytest.fixture
def booth(make_gw: Callable[..., Gateway]) -> Iterator[Booth]:
    gw = make_gw(exit_without_entry="charge")
    gw.start()
    try:
        yield Booth(gw)
    finally:
        gw.stop()


@pytest.fixture(params=["charge", "guard"])
def hard_booth(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Booth]:
    """The booth on a site with anti_passback = "hard", at each exit_without_entry policy."""
    text = parking_toml(tmp_path / "data", exit_without_entry=request.param)
    assert 'anti_passback = "soft"' in text
    cfg = parse_config(text.replace('anti_passback = "soft"', 'anti_passback = "hard"'), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    gw.start()
    try:
        yield Booth(gw)
    finally:
        gw.stop()
        gw.conn.close()


def test_a_stranger_typed_at_the_entrance_on_both_tablets_gets_one_stay(booth: Booth) -> None:
    """The entrance camera missed a stranger's car; guard A types its plate and it is let in as a
    temporary car. Guard B, on the other tablet, types the same plate for the same car a second
    later. It was one car: one stay, not a first one closed as a missed exit and a second flagged
    already_inside. B's tablet is told the car was let in already (flag again)."""
    first = booth.typed(0, "car-in", STRANGER)
    booth.now += S
    second = booth.typed(1, "car-in", STRANGER)
    assert (first["admitted"], first["reason"], first["flags"]) == (True, "temporary", [])
    assert (second["admitted"], second["reason"], second["flags"]) == (True, "temporary", ["again"])
    assert booth.stays() == [(STRANGER, True)]
    assert booth.read("SELECT kind, amount_fen FROM charges") == []


def test_a_free_stranger_typed_at_the_exit_on_both_tablets_is_not_held_for_a_days_fee(booth: Booth) -> None:
    """exit_without_entry = "charge". A stranger in for 10 minutes (inside the 30 free minutes); the
    exit camera missed it; guard A types its plate: free, let out. Guard B types the same plate a
    second later: the same car, let out again as it was, not a car with no entry record held for a
    day's fee (30元) on both tablets and on the exit display for the next driver."""
    assert booth.camera("car-in", STRANGER, booth.now - timedelta(minutes=10)).admitted
    first = booth.typed(0, "car-out", STRANGER)
    booth.now += S
    second = booth.typed(1, "car-out", STRANGER)
    assert (first["admitted"], first["reason"], first["flags"]) == (True, "temporary", [])
    assert (second["admitted"], second["reason"], second["flags"]) == (True, "temporary", ["again"])
    assert booth.held_at_exit() == 0
    assert booth.read("SELECT kind, amount_fen FROM charges") == [("exit", 0)]  # one exit, free
    assert booth.stays() == [(STRANGER, False)]


def test_a_free_stranger_the_camera_let_out_then_typed_by_a_guard_is_not_held(booth: Booth) -> None:
    """The exit camera let the free stranger out; guard B, whose tablet had not shown it yet, typed
    its plate for the same car a second later: that car again, not held for a day's fee."""
    assert booth.camera("car-in", STRANGER, booth.now - timedelta(minutes=10)).admitted
    assert booth.camera("car-out", STRANGER).admitted
    booth.now += S
    typed = booth.typed(1, "car-out", STRANGER)
    assert (typed["admitted"], typed["reason"], typed["flags"]) == (True, "temporary", ["again"])
    assert booth.held_at_exit() == 0


def test_a_resident_typed_at_the_exit_on_both_tablets_leaves_once(booth: Booth) -> None:
    """A resident's car let out on its plate typed by guard A, then typed by guard B: one exit, no
    row of a car leaving with no entry record."""
    booth.typed(0, "car-in", RESIDENT)
    booth.now += timedelta(hours=1)
    first = booth.typed(0, "car-out", RESIDENT)
    booth.now += S
    second = booth.typed(1, "car-out", RESIDENT)
    assert (first["reason"], second["reason"], second["flags"]) == ("resident", "resident", ["again"])
    flags = booth.read("SELECT flags FROM access_log WHERE lane = 'car-out'")
    assert all("no_entry_record" not in (f or "") for (f,) in flags), flags


def test_a_stranger_who_paid_at_the_booth_typed_on_both_tablets_leaves_once(booth: Booth) -> None:
    """The stranger paid 9元 at the booth and was let out on its typed plate; typed again on the
    other tablet, it is the car that paid and left, not one asked a day's fee."""
    assert booth.camera("car-in", STRANGER, booth.now - timedelta(hours=3)).admitted
    quote = booth.client.get(
        "/api/parking/quote", headers=booth.tablets[0], params={"plate": STRANGER}
    ).json()
    paid = booth.client.post(
        "/api/parking/prepay",
        headers=booth.tablets[0],
        json={"plate": STRANGER, "amount_fen": quote["due_fen"], "method": "cash"},
    )
    assert paid.status_code == 200, paid.text
    assert booth.typed(0, "car-out", STRANGER)["admitted"]
    booth.now += S
    second = booth.typed(1, "car-out", STRANGER)
    assert second["admitted"] and "no_entry_record" not in second["flags"], second
    assert booth.held_at_exit() == 0


def test_the_same_plate_typed_more_than_a_minute_later_is_a_car_come_again(booth: Booth) -> None:
    """Past SAME_CAR the car that was let in has long gone up the ramp: a car of that plate at the
    barrier again is an entry of its own, which soft anti-passback flags already_inside."""
    booth.typed(0, "car-in", STRANGER)
    booth.now += timedelta(seconds=61)
    later = booth.typed(1, "car-in", STRANGER)
    assert "again" not in later["flags"] and "already_inside" in later["flags"], later


def test_a_plate_typed_at_the_exit_after_the_entrance_let_it_in_is_its_exit(booth: Booth) -> None:
    """Another lane is another passage: the car typed in at the entrance and out at the exit a few
    seconds later (it turned round inside) leaves, its stay closed."""
    booth.typed(0, "car-in", RESIDENT)
    booth.now += 5 * S
    out = booth.typed(1, "car-out", RESIDENT)
    assert (out["admitted"], out["flags"]) == (True, []), out
    assert booth.stays() == [(RESIDENT, False)]


def test_a_car_refused_then_typed_by_a_guard_is_decided_afresh(booth: Booth) -> None:
    """The camera refused a blocked car at the entrance; the guard lifts the block and types its
    plate a few seconds later to let it in: decided afresh, let in with a stay, not taken for the
    refusal."""
    booth.block(RESIDENT, True)
    assert booth.camera("car-in", RESIDENT).reason == "blocked"
    booth.now += 2 * S
    booth.block(RESIDENT, False)
    booth.now += 3 * S
    typed = booth.typed(0, "car-in", RESIDENT)
    assert (typed["admitted"], typed["reason"], typed["flags"]) == (True, "resident", []), typed
    assert booth.stays() == [(RESIDENT, True)]


def test_hard_site_stranger_typed_at_the_entrance_on_both_tablets_is_refused_as_a_clone(
    hard_booth: Booth,
) -> None:
    """Hard anti-passback is set against cloned plates: the plate typed again at the entrance is a
    second car with those plates, refused as inside already, and nothing is recorded twice."""
    first = hard_booth.typed(0, "car-in", STRANGER)
    hard_booth.now += S
    second = hard_booth.typed(1, "car-in", STRANGER)
    assert (first["admitted"], first["reason"]) == (True, "temporary")
    assert (second["admitted"], second["reason"]) == (False, "anti_passback"), second
    assert hard_booth.stays() == [(STRANGER, True)]


def test_hard_site_free_stranger_typed_at_the_exit_on_both_tablets_is_not_held(hard_booth: Booth) -> None:
    """Review 56b: 3fc652e turned the typed-twice rule off on every lane under hard anti-passback,
    which refuses only entries. At the exit guard B's typing of the free stranger guard A just let
    out was a car with no entry record: a day's fee ("charge") or a false 未登记 refusal
    ("guard"). It is the same car, let out again as it was."""
    booth = hard_booth
    assert booth.camera("car-in", STRANGER, booth.now - timedelta(minutes=10)).admitted
    first = booth.typed(0, "car-out", STRANGER)
    booth.now += S
    second = booth.typed(1, "car-out", STRANGER)
    assert (first["admitted"], first["reason"], first["flags"]) == (True, "temporary", [])
    assert (second["admitted"], second["reason"], second["flags"]) == (True, "temporary", ["again"]), second
    assert booth.held_at_exit() == 0
    assert booth.read("SELECT kind, amount_fen FROM charges") == [("exit", 0)]
    assert booth.stays() == [(STRANGER, False)]


def test_hard_site_resident_typed_at_the_exit_on_both_tablets_leaves_once(hard_booth: Booth) -> None:
    """Under hard anti-passback too, a resident typed out on both tablets leaves once: no row of a
    car leaving with no entry record."""
    booth = hard_booth
    booth.typed(0, "car-in", RESIDENT)
    booth.now += timedelta(hours=1)
    first = booth.typed(0, "car-out", RESIDENT)
    booth.now += S
    second = booth.typed(1, "car-out", RESIDENT)
    assert (first["reason"], second["reason"], second["flags"]) == ("resident", "resident", ["again"])
    flags = booth.read("SELECT flags FROM access_log WHERE lane = 'car-out'")
    assert all("no_entry_record" not in (f or "") for (f,) in flags), flags
