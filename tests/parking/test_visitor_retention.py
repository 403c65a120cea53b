"""Privacy (REQUIREMENTS): a visitor's ID and phone numbers are kept no longer than the configured
retention. retention.visitors_days (30) deletes a pass with its masked numbers and hashes; the copy
queued upstream when the pass was registered (outbox topic `pass`) must not outlive it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass
from gateway.timefmt import to_db
from tests.parking.conftest import T0
from tests.parking.test_operations import ops

D = timedelta(days=1)
PHONE, ID = "13812345678", "11010519491231002X"
MASKED_PHONE, MASKED_ID = "138****5678", "002X"
START = T0 - 40 * D  # the visit ended 40 days ago, 10 days past retention


def _old_visit(gw: Gateway) -> None:
    new = NewPass(
        kind="visitor",
        name="钱七",
        valid_from=START,
        valid_to=START + timedelta(hours=4),
        phone=PHONE,
        id_number=ID,
        host_building="3栋",
        host_unit="2单元",
        plate="浙A99999",
        occupants=(Occupant("钱七", PHONE, ID),),
    )
    create_pass(gw.conn, gw.secrets, new, START, "guard1")


def _numbers_left(gw: Gateway) -> list[tuple[str, str]]:
    rows = gw.conn.execute("SELECT 'outbox', payload FROM outbox UNION ALL SELECT 'audit', detail FROM audit")
    return [(table, text) for table, text in rows if MASKED_PHONE in text or MASKED_ID in text]


def test_a_visitors_masked_numbers_are_gone_once_the_visitor_retention_has_passed(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra="[mqtt]\nenabled = true\n")  # a central server that confirms what it gets
    _old_visit(gw)
    gw.conn.execute("UPDATE outbox SET sent_at = ?", (to_db(START + timedelta(minutes=1)),))  # delivered
    assert ops(gw).retention(T0)["visitor_passes"] == 1
    assert _numbers_left(gw) == [], "still stored 10 days past retention.visitors_days"
    assert gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'pass'").fetchone()[0] == 0


def test_a_pass_never_delivered_still_goes_upstream_but_without_the_numbers(
    make_gw: Callable[..., Gateway],
) -> None:
    """The uplink has been down for weeks: the central server still hears of the visit, once it is
    back, but no longer gets numbers the gateway was not allowed to keep."""
    gw = make_gw(extra="[mqtt]\nenabled = true\n")
    _old_visit(gw)
    ops(gw).retention(T0)
    assert _numbers_left(gw) == []
    (payload,) = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'pass' AND sent_at IS NULL"
    ).fetchone()
    sent = json.loads(payload)["pass"]
    assert (sent["plate"], sent["phone"], sent["id_number"], sent["occupants"]) == ("浙A99999", "", "", [])
