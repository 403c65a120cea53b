"""Review K (on 5d970d20, Review 66 E3): the centre's entry reopened a permit the booth had ended
on any change to its window, and told nobody. The booth ended a crew's 30-day permit on day 1 (the
owner complained), its `checked_out` record still queued; the centre, not yet told, cut the
permit to 20 days, or corrected its first day, and the gateway cleared the check-out: the crew's
QR opened the door again while the centre's last word on the pass was `checked_out`. A pass the
booth ended now opens again only on an entry with a later end than the one stored, once its
`checked_out` record has gone up (the centre extended it knowing), and goes up as `"op":
"reopened"` (docs/mqtt.md, *Passes*)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store import passes as pass_store
from gateway.store.outbox import mark_sent
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_centre_renews_booth_ended_fix66E import DAY, _crew, _door, _ended_at_the_booth


def _told(gw: Gateway) -> None:
    """The broker acknowledged the pass records queued so far: the centre knows of the check-out."""
    seqs = gw.conn.execute("SELECT seq FROM outbox WHERE topic = 'pass' AND sent_at IS NULL").fetchall()
    with gw.conn:
        mark_sent(gw.conn, [(seq, 1) for (seq,) in seqs], T0 + DAY)


def _ops(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'pass' ORDER BY seq").fetchall()
    return [json.loads(p) for (p,) in rows]


def _entry(days: int, **change: str) -> dict[str, Any]:
    return {**_crew(days), **change}


def test_a_change_made_before_the_centre_was_told_leaves_the_pass_ended(
    make_gw: Callable[..., Gateway],
) -> None:
    for entry in (
        _entry(20),  # the permit cut to 20 days
        _entry(30, valid_from=(T0 + DAY / 2).isoformat()),  # its first day corrected
        _entry(60),  # even extended: the centre did not know the booth had ended it
    ):
        gw = make_gw()
        pass_id = _ended_at_the_booth(gw)
        delta(gw, 2, 1, T0 + 2 * DAY, upsert=[entry])
        assert pass_store.get_pass(gw.conn, pass_id)["checked_out_at"] is not None, entry
        assert _door(gw, 3) == "expired", entry
        assert [m["op"] for m in _ops(gw)] == ["checked_out"], entry


def test_told_a_shorter_window_or_new_hours_leaves_the_pass_ended(make_gw: Callable[..., Gateway]) -> None:
    for entry in (_entry(20), _entry(30, hours="08:00-18:00")):
        gw = make_gw()
        pass_id = _ended_at_the_booth(gw)
        _told(gw)
        delta(gw, 2, 1, T0 + 2 * DAY, upsert=[entry])
        assert pass_store.get_pass(gw.conn, pass_id)["checked_out_at"] is not None, entry
        assert _door(gw, 3) == "expired", entry


def test_told_and_extended_the_pass_opens_and_goes_up_reopened(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    pass_id = _ended_at_the_booth(gw)
    _told(gw)
    delta(gw, 2, 1, T0 + 2 * DAY, upsert=[_crew(60)])
    assert pass_store.get_pass(gw.conn, pass_id)["checked_out_at"] is None
    assert _door(gw, 3) == "contractor"
    last = _ops(gw)[-1]
    assert last["op"] == "reopened", last
    assert last["pass"]["ref"] == "RENO-2025-0042" and last["pass"]["checked_out_at"] is None, last
    assert last["pass"]["valid_to"].startswith((T0 + 60 * DAY).date().isoformat()), last


def test_an_extension_that_crossed_the_check_out_is_made_again_later_still(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    pass_id = _ended_at_the_booth(gw)
    delta(gw, 2, 1, T0 + 2 * DAY, upsert=[_crew(60)])  # crossed the check-out: stays ended
    _told(gw)
    delta(gw, 3, 2, T0 + 3 * DAY, upsert=[_crew(60)])  # the same end again: the window unchanged
    assert pass_store.get_pass(gw.conn, pass_id)["checked_out_at"] is not None
    delta(gw, 4, 3, T0 + 3 * DAY, upsert=[_crew(61)])  # extended again, knowing (docs/mqtt.md)
    assert pass_store.get_pass(gw.conn, pass_id)["checked_out_at"] is None
    assert _door(gw, 4) == "contractor"
