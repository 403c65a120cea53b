"""The guard's note on an acknowledgement reaches the centre and the alarm list.

The guard acknowledges an alarm with a note of what he did about it ("Ack.note" on
/api/alarms/{id}/acknowledge). It went into the local audit trail only: the centre's `acknowledged`
record said that guard1 acknowledged the forced door, not how it was handled, and the alarm list
("Show all") showed no more. REQUIREMENTS 7: the 24-hour monitoring centre handles every alarm.
"""

from __future__ import annotations

import json
from datetime import timedelta

from gateway.alarm_texts import AlarmText
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, raise_alarm, recent_alarms, tell_redated
from gateway.timefmt import to_db
from tests.parking.conftest import T0

NOTE = "门已关好，查看录像为住户忘带卡"
FORCED = AlarmText("forced_open.door", {"lane": "door", "device": "door-io"})


def acknowledged_records(gw: Gateway) -> list[dict[str, object]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [r for (p,) in rows if (r := json.loads(p))["state"] == "acknowledged"]


def forced_door(gw: Gateway) -> int:
    raise_alarm(gw.conn, "forced_open", "door", FORCED, T0)
    return int(gw.conn.execute("SELECT max(id) FROM alarms").fetchone()[0])


def test_the_centre_reads_what_the_guard_did_about_the_alarm(gw: Gateway) -> None:
    alarm_id = forced_door(gw)
    acknowledge_alarm(gw.conn, alarm_id, T0 + timedelta(minutes=2), "guard1", NOTE)
    (record,) = acknowledged_records(gw)
    assert record["note"] == NOTE and record["by"] == "guard1"
    assert {"at", "state", "kind", "source", "alarm_id", "alarm_stream"} <= record.keys()


def test_an_acknowledgement_without_a_note_sends_none(gw: Gateway) -> None:
    acknowledge_alarm(gw.conn, forced_door(gw), T0 + timedelta(minutes=2), "guard1")
    (record,) = acknowledged_records(gw)
    assert "note" not in record and record["by"] == "guard1"


def test_the_note_is_on_the_alarm_list_after_the_alarm_closed(gw: Gateway) -> None:
    """An event alarm closes as it is acknowledged: "Show all" lists it with the note."""
    alarm_id = forced_door(gw)
    acknowledge_alarm(gw.conn, alarm_id, T0 + timedelta(minutes=2), "guard1", NOTE)
    (listed,) = [a for a in recent_alarms(gw.conn, include_cleared=True) if a["id"] == alarm_id]
    assert listed["acknowledged_note"] == NOTE and listed["cleared_at"] is not None


def test_an_acknowledgement_sent_again_redated_keeps_its_note(gw: Gateway) -> None:
    alarm_id = forced_door(gw)
    acked_at = T0 + timedelta(minutes=2)
    acknowledge_alarm(gw.conn, alarm_id, acked_at, "guard1", NOTE)
    before = dict(
        zip(
            ("raised_at", "acknowledged_at", "cleared_at"),
            gw.conn.execute(
                "SELECT raised_at, acknowledged_at, cleared_at FROM alarms WHERE id = ?", (alarm_id,)
            ).fetchone(),
            strict=True,
        )
    )
    gw.conn.execute(
        "UPDATE alarms SET acknowledged_at = ? WHERE id = ?",
        (to_db(acked_at + timedelta(hours=1)), alarm_id),
    )
    tell_redated(gw.conn, alarm_id, before, T0 + timedelta(hours=2))
    redated = [r for r in acknowledged_records(gw) if r.get("change") == "redated"]
    assert redated and redated[0]["note"] == NOTE
