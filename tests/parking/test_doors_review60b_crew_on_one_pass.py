"""Review 60b: a renovation crew or a visiting family registered on ONE pass with its people count
(人数, `passengers`: 4) walks in through the door one by one, each showing the pass's QR. Under
anti_passback = "hard" the 2nd to 4th were refused (anti_passback: already inside), and the guard
opened the turnstile by hand for each; under "soft" they were let in flagged already_inside, and
the people inside stayed 1, in the occupancy page and the closed-management summary alike. Now a
pass lets as many in on its QR as it is registered for, each an entry counted inside; the next
one is refused as before. A car is one passage however many are in it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import people_inside
from gateway.store.passes import NewPass, check_out, create_pass
from tests.parking.conftest import DOOR_OUT, T0, parking_toml, seed
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025 (CLOSED: closed management 07:00-21:00)


@pytest.fixture
def hard(tmp_path: Path) -> Iterator[Gateway]:
    """The parking site with its way out on foot, under anti_passback = "hard"."""
    text = parking_toml(tmp_path / "data", extra=DOOR_OUT)
    cfg = parse_config(text.replace('anti_passback = "soft"', 'anti_passback = "hard"', 1), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    yield gw
    gw.conn.close()


def _pass(gw: Gateway, kind: str, people: int, at: datetime, **more: Any) -> tuple[int, str]:
    """A pass registered at `at` for `people` people, and its QR."""
    new = NewPass(
        kind,  # type: ignore[arg-type]
        "赵师傅",
        at,
        at + 24 * H,
        phone="13800138000",
        id_number="11010519491231002X",
        host_building="3栋",
        host_unit="2单元",
        destination="3栋301",
        reason="装修" if kind == "contractor" else "探亲",
        passengers=people,
        **more,
    )
    pid = create_pass(gw.conn, gw.secrets, new, at, "guard1")
    row = gw.conn.execute(
        "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,)
    ).fetchone()
    return pid, str(row[0])


def _shown(gw: Gateway, lane: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "qr", value, 1.0, at, f"{lane}-reader"))


def test_a_crew_of_four_walks_in_on_its_one_pass_and_the_fifth_is_refused(hard: Gateway) -> None:
    _, qr = _pass(hard, "contractor", 4, T0 - H, company="好家装饰")
    # One after another through the turnstile, 20 s apart (the reader's debounce is 3 s).
    crew = [_shown(hard, "door", qr, T0 + i * 20 * S) for i in range(4)]
    assert [(ev.admitted, ev.reason, ev.flags) for ev in crew] == [(True, "contractor", ())] * 4
    assert people_inside(hard.conn) == 4
    # A fifth on the same QR a minute later: the pass's four are inside.
    fifth = _shown(hard, "door", qr, T0 + 2 * M)
    assert (fifth.admitted, fifth.reason) == (False, "anti_passback")
    assert people_inside(hard.conn) == 4
    # Two go out for lunch, one comes back: each out and in on the QR as the first was.
    outs = [_shown(hard, "door-out", qr, T0 + 3 * H + i * 20 * S) for i in range(2)]
    assert [(ev.admitted, ev.flags) for ev in outs] == [(True, ())] * 2
    assert people_inside(hard.conn) == 2
    back = _shown(hard, "door", qr, T0 + 4 * H)
    assert (back.admitted, back.flags) == (True, ())
    assert people_inside(hard.conn) == 3
    # All three out at the end of the day; nobody inside on it, the next exit one with no entry.
    outs = [_shown(hard, "door-out", qr, T0 + 9 * H + i * 20 * S) for i in range(3)]
    assert [ev.flags for ev in outs] == [()] * 3
    assert people_inside(hard.conn) == 0
    assert "no_entry_record" in _shown(hard, "door-out", qr, T0 + 9 * H + M).flags
    # The next morning the crew walks in again, four of them.
    again = [_shown(hard, "door", qr, T0 + 22 * H + i * 20 * S) for i in range(5)]
    assert [ev.admitted for ev in again] == [True, True, True, True, False]
    assert people_inside(hard.conn) == 4


def test_a_pass_for_one_and_a_car_are_one_passage_as_before(hard: Gateway) -> None:
    """A visitor registered alone is refused a second entry; a family's pass for 4 with its car
    brings the car in once: its QR again at the car entrance is the car already inside."""
    _, alone = _pass(hard, "visitor", 1, T0 - H)
    assert _shown(hard, "door", alone, T0).admitted
    assert _shown(hard, "door", alone, T0 + M).reason == "anti_passback"
    assert people_inside(hard.conn) == 1
    _, family = _pass(hard, "visitor", 4, T0 - H, plate="苏E66666")
    assert _shown(hard, "car-in", family, T0 + 2 * M).admitted
    assert _shown(hard, "car-in", family, T0 + 3 * M).reason == "anti_passback"
    stays = hard.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert (stays, people_inside(hard.conn)) == (1, 1)


def _report(gw: Gateway) -> dict[str, Any]:
    ops(gw, started=DAY).reports(DAY + 24 * H)
    return dict(json.loads(gw.conn.execute("SELECT body FROM daily_reports").fetchone()[0]))


def test_a_family_of_four_in_the_closed_management_summary(make_gw: Callable[..., Gateway]) -> None:
    """Under closed management (soft anti-passback, the test site's), a family of four on one pass:
    four people in, none flagged already inside; one goes out through the door, the guard checks
    the pass out with three inside (all three out then), and their QR at the exit door after it is
    that same leaving. The period asks no ID number or phone: one that does lets the holder alone
    in on the pass (Review 60x, test_doors_review60x_party_holder_alone.py)."""
    gw = make_gw(extra=CLOSED + 'visitor_fields = ["host_building", "host_unit"]\n' + DOOR_OUT)
    pid, qr = _pass(gw, "visitor", 4, DAY + 7 * H)
    family = [_shown(gw, "door", qr, DAY + 8 * H + i * 20 * S) for i in range(4)]
    assert [(ev.admitted, ev.flags) for ev in family] == [(True, ())] * 4
    assert people_inside(gw.conn) == 4
    assert _shown(gw, "door-out", qr, DAY + 12 * H).admitted
    check_out(gw.conn, pid, DAY + 17 * H, "guard1")
    assert people_inside(gw.conn) == 0
    after = [_shown(gw, "door-out", qr, DAY + 17 * H + M + i * 20 * S) for i in range(3)]
    assert [(ev.admitted, ev.flags) for ev in after] == [(True, ())] * 3
    body = _report(gw)
    cm = body["closed_management"]
    assert (cm["people_in"], cm["people_out"], cm["people_checked_out"]) == (4, 4, 3), cm
    assert cm["visitors_registered"] == 1
    assert body["people"]["entries"]["total"] == 4
    assert body["flags"]["already_inside"] == 0


def test_a_pass_lowered_while_its_crew_is_inside_keeps_them_counted(tmp_path: Path) -> None:
    """Review 60o: four of a crew inside, the centre lowers the pass to 2 people (its delta updates
    `passengers` in place); one steps out for materials and walks back in. The occupancy page went
    from 3 to 2 at his entry: an entry set the count to its new cap. An entry never lowers it."""
    cfg = parse_config(parking_toml(tmp_path / "data", extra=DOOR_OUT), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        pid, qr = _pass(gw, "contractor", 4, T0 - timedelta(hours=1), company="好家装饰")
        assert all(_shown(gw, "door", qr, T0 + timedelta(seconds=20 * i)).admitted for i in range(4))
        gw.conn.execute("UPDATE passes SET passengers = 2 WHERE id = ?", (pid,))
        assert _shown(gw, "door-out", qr, T0 + timedelta(hours=1)).admitted
        assert people_inside(gw.conn) == 3
        assert _shown(gw, "door", qr, T0 + timedelta(hours=1, seconds=60)).admitted
        assert people_inside(gw.conn) == 3  # not 2
    finally:
        gw.conn.close()
