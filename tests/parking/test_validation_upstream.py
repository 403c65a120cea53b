"""A host says her visitor was charged though she confirmed the visit (业主确认).

docs/parking.md, *Visitors*: the host unit validates the stay (POST /api/parking/stays/{id}/validate)
and it gets visitor_free_minutes; the daily report counts host validations. docs/mqtt.md, Upstream:
"Every record that goes up is written to the outbox in the same SQLite transaction as the record
itself"; docs/guard-app.md: "Changes that matter upstream ... are queued in the outbox in the same
transaction". The property company's centre, which takes the complaint, gets the visitor's charge
(9元) and a daily count of validations, but no record that this stay was validated, when, for which
unit or by which guard: it cannot tell the host whether her confirmation was recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, pay, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E88888"


def test_a_host_validation_goes_upstream_with_the_stay_it_validated(make_gw: Callable[..., Gateway]) -> None:
    """The visitor of 3栋2单元 comes in at 09:00; the guard validates the stay for 3栋 2单元 at
    09:10; the car leaves at 11:30 and pays 9元 (past the 120 free minutes, from entry). The
    centre expects a record naming the validated stay (its id), the unit and the guard; the outbox
    holds none, and the charge record does not say the stay was validated either."""
    gw = make_gw()
    add_visitor(gw, CAR)
    came = show(gw, "car-in", CAR, T0)
    assert came.admitted and came.reason == "visitor"
    stay_id = gw.conn.execute("SELECT id FROM stays WHERE plate = ?", (CAR,)).fetchone()[0]
    with gw.conn:
        gw.parking.validate(gw.conn, stay_id, "3栋", "2单元", "guard1", T0 + 10 * M)
    out = show(gw, "car-out", CAR, T0 + 2 * H + 30 * M)
    if not out.admitted:
        out = pay(gw, CAR, out.fee_fen or 0, T0 + 2 * H + 31 * M)
    assert out.admitted
    records = [
        (topic, json.loads(payload))
        for topic, payload in gw.conn.execute("SELECT topic, payload FROM outbox ORDER BY seq")
    ]
    told = [
        (topic, r)
        for topic, r in records
        if r.get("stay_id") == stay_id and ("validat" in json.dumps(r) or r.get("validated") is True)
    ]
    assert told, f"no upstream record says stay {stay_id} was validated: {sorted({t for t, _ in records})}"
    ((topic, record),) = told
    said = {k: record[k] for k in ("change", "stay_id", "plate", "building", "unit", "actor", "at")}
    assert (topic, said) == (
        "stay",
        {
            "change": "validated",
            "stay_id": stay_id,
            "plate": CAR,
            "building": "3栋",
            "unit": "2单元",
            "actor": "guard1",
            "at": (T0 + 10 * M).isoformat(),
        },
    )


def test_a_validation_refused_sends_nothing(make_gw: Callable[..., Gateway]) -> None:
    """The stay paid at the booth already: its validation is refused (already_paid), and the
    centre is told of no validation, as the record goes in the validation's own transaction."""
    gw = make_gw()
    add_visitor(gw, CAR)
    show(gw, "car-in", CAR, T0)
    stay_id = gw.conn.execute("SELECT id FROM stays WHERE plate = ?", (CAR,)).fetchone()[0]
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 500, "cash", "", "guard1", T0 + H)
    with pytest.raises(GatewayError, match="has paid"), gw.conn:
        gw.parking.validate(gw.conn, stay_id, "3栋", "2单元", "guard1", T0 + H + M)
    stays = gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'stay'").fetchone()[0]
    assert stays == 0
