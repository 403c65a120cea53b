"""A person leaving through an exit door on a card or QR the register no longer knows: a resident
whose household moved out (deleted from the register) while at home, a visitor whose pass the
centre withdrew while she was in. Nobody is kept in (docs/parking.md): the door lets them out as
the holder their entry let in; a card no door ever let in stays unknown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import display_lines
from gateway.store.lookup import _LET_IN_ON_FOOT
from gateway.store.occupancy import people_inside
from gateway.store.registry import delete_resident
from tests.parking.conftest import DOOR_OUT, T0
from tests.parking.directory_exit_helpers import delta

M = timedelta(minutes=1)
CARD = "0000000001"
QR = "VQR-P7-2b9e41c07d3a5f68"


def _at(gw: Gateway, lane: str, kind: str, value: str, minutes: int) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 1.0, T0 + minutes * M, f"{lane}-reader"))


def _moved_out_while_at_home(gw: Gateway) -> None:
    """张三 (R1) walks in through the door on his card at 09:00; at 10:00 the office deletes his
    household (moving day)."""
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 1)", (CARD,))
    came_in = _at(gw, "door", "card", CARD, 0)
    assert (came_in.admitted, came_in.reason) == (True, "resident")
    delete_resident(gw.conn, T0 + 60 * M, "admin", 1)


def test_a_resident_deleted_while_at_home_is_not_kept_in_at_the_exit_door(
    make_gw: Callable[..., Gateway],
) -> None:
    """At 10:30 he carries the last box out and taps the same card at the exit door: it stayed
    shut, 禁止通行 未登记. docs/parking.md, *Nobody is kept in*: at an exit only a block, the lane's
    own hours or a fee still due keep the barrier or door shut; he is let out as the resident his
    entry let in, with his entry on record (no no_entry_record flag for the guard or the report)."""
    gw = make_gw(extra=DOOR_OUT)
    _moved_out_while_at_home(gw)
    leaving = _at(gw, "door-out", "card", CARD, 90)
    shown = display_lines(leaving, "zh", "exit")
    assert leaving.admitted, (
        f"the resident who came in at 09:00 is kept in at the exit door: {leaving.reason}, "
        f"the door's display reads {shown}"
    )
    assert (leaving.reason, leaving.flags) == ("resident", ())
    assert (leaving.holder_kind, leaving.holder_id) == ("resident", 1)
    assert people_inside(gw.conn) == 0


def test_the_same_card_again_after_he_left_is_let_out_flagged(make_gw: Callable[..., Gateway]) -> None:
    """Tapped at the exit door once more after the door let him out: still nobody kept in, but no
    entry let him in since, so it is flagged as an exit with no entry record, as a registered
    card's would be."""
    gw = make_gw(extra=DOOR_OUT)
    _moved_out_while_at_home(gw)
    _at(gw, "door-out", "card", CARD, 90)
    again = _at(gw, "door-out", "card", CARD, 120)
    assert (again.admitted, again.reason, again.flags) == (True, "resident", ("no_entry_record",))


def test_a_card_no_door_let_in_stays_unknown_at_the_exit_door(make_gw: Callable[..., Gateway]) -> None:
    """A stranger's card (or one refused at the entrance door) is no one the register knew: refused."""
    gw = make_gw(extra=DOOR_OUT)
    assert _at(gw, "door", "card", "0000000099", 0).reason == "unknown"
    assert _at(gw, "door-out", "card", "0000000099", 1).reason == "unknown"
    assert _at(gw, "door-out", "card", "0000000098", 2).reason == "unknown"


def test_a_visitor_whose_pass_the_centre_withdrew_while_in_walks_out(make_gw: Callable[..., Gateway]) -> None:
    """孙八's visit, registered by the centre, lets her in through the door at 09:00 on its QR; the
    host cancels and the centre withdraws the pass at 09:10. She leaves at 09:30 on the same QR:
    let out as the visitor she came in as."""
    gw = make_gw(extra=DOOR_OUT)
    entry = {
        "kind": "pass",
        "ref": "P7",
        "pass_kind": "visitor",
        "name": "孙八",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_from": "2025-03-03T08:00+08:00",
        "valid_to": "2025-03-03T20:00+08:00",
        "credentials": [{"kind": "qr", "value": QR}],
    }
    delta(gw, 1, 0, T0 - 60 * M, upsert=[entry])
    came_in = _at(gw, "door", "qr", QR, 0)
    assert (came_in.admitted, came_in.reason) == (True, "visitor")
    delta(gw, 2, 1, T0 + 10 * M, delete=[{"kind": "pass", "ref": "P7"}])
    leaving = _at(gw, "door-out", "qr", QR, 30)
    assert (leaving.admitted, leaving.reason, leaving.flags) == (True, "visitor", ())


def test_the_door_finds_the_entry_without_reading_the_whole_log(gw: Gateway) -> None:
    """The log is months of passages; the card is read through the index of passages on foot."""
    steps = gw.conn.execute(f"EXPLAIN QUERY PLAN {_LET_IN_ON_FOOT}", {"kind": "card", "value": CARD})
    plan = " ".join(str(step[-1]) for step in steps)
    assert "access_log_on_foot" in plan and "SCAN a" not in plan and "SCAN o" not in plan, plan
