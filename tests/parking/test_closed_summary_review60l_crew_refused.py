"""Review 60l: a crew's pass registered for four people (人数 4, a pass's QR letting each of them in
in turn: docs/parking.md *One pass, several people on foot*), refused at the door during closed
management as its four workers showed the QR one after another, was one person turned away in the
closed-management summary and one refusal in the report: b141c7e took each show within 10 s of the
last refusal for the same person trying again. A pass for several people is now that many people
turned away before a show is a repeat; a pass for one is one person however often she tries."""

from __future__ import annotations

from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.test_closed_summary_review60c_person_retrying import DAY, H, S, _pass_qr, _report, _shown
from tests.parking.test_operations import CLOSED


def _crew_qr(gw: Gateway, people: int) -> str:
    """A renovation crew registered without ID numbers: the period keeps them out at the door."""
    crew = NewPass(
        "contractor",
        "王六",
        DAY - 2 * H,
        DAY + 12 * H,
        phone="13800138000",
        id_number="",
        host_building="3栋",
        host_unit="2单元",
        destination="3栋301",
        reason="装修",
        passengers=people,
    )
    pid = create_pass(gw.conn, gw.secrets, crew, DAY - 2 * H, "guard1")
    row = gw.conn.execute(
        "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,)
    ).fetchone()
    return str(row[0])


def test_four_of_a_crew_refused_one_after_another_are_four_turned_away(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=CLOSED)
    qr = _crew_qr(gw, 4)
    # Four workers at 0, 3, 6 and 9 s; the last shows it once more as the scanner beeps red.
    shown = [_shown(gw, "door", "qr", qr, DAY + 8 * H + s * S) for s in (0, 3, 6, 9, 12)]
    assert [ev.reason for ev in shown] == ["closed_management"] * 5
    assert ["refused_again" in ev.flags for ev in shown] == [False, False, False, False, True]
    body = _report(gw)
    cm = body["closed_management"]
    assert cm["people_turned_away"] == 4, cm
    assert cm["turned_away_by_reason"] == {"people": {"closed_management": 4}, "vehicles": {}}
    assert body["refusals"]["by_reason"] == {"closed_management": 4}


def test_a_pair_on_one_pass_each_trying_twice_are_two_turned_away(make_gw: Callable[..., Gateway]) -> None:
    """Two on one pass, then each showing it again: two people, the rest repeats. Half a minute
    after the last, the pass is back: two more attempts, as a pass for one is one more."""
    gw = make_gw(extra=CLOSED)
    qr = _crew_qr(gw, 2)
    at = DAY + 8 * H
    shown = [_shown(gw, "door", "qr", qr, at + s * S) for s in (0, 4, 8, 12, 40, 44)]
    assert ["refused_again" in ev.flags for ev in shown] == [False, False, True, True, False, False]
    assert _report(gw)["closed_management"]["people_turned_away"] == 4


def test_a_pass_for_one_is_still_one_person_however_often_shown(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=CLOSED)
    token = _pass_qr(gw)
    shown = [_shown(gw, "door", "qr", token, DAY + 8 * H + s * S) for s in (0, 3, 6, 9)]
    assert ["refused_again" in ev.flags for ev in shown] == [False, True, True, True]
    assert _report(gw)["closed_management"]["people_turned_away"] == 1
