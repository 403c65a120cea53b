"""What a guard wrote acknowledging an alarm is on the alarms page and in /api/alarms: the night
guard acknowledged the door forced at 03:00 with "门已关好，查看录像为住户忘带卡", and the day shift,
looking at "Show all", saw only who acknowledged it (the note was in the audit trail alone)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import raise_alarm
from tests.ui.conftest import GUARD, Site, log_in

NOTE = "门已关好，查看录像为住户忘带卡"


def test_the_acknowledgement_note_is_listed_with_the_alarm(client: TestClient, site: Site) -> None:
    text = AlarmText("forced_open.door", {"lane": "door", "device": "door-io"})
    site.gw.on_worker(lambda c: raise_alarm(c, "forced_open", "door", text, site.gw.now())).result(10)
    csrf = log_in(client, GUARD)
    (alarm,) = client.get("/api/alarms").json()
    r = client.post(f"/api/alarms/{alarm['id']}/acknowledge", json={"note": f"  {NOTE} "}, headers=csrf)
    assert r.status_code == 200, r.text
    (listed,) = [a for a in client.get("/api/alarms?all=true").json() if a["id"] == alarm["id"]]
    assert listed["acknowledged_note"] == NOTE and listed["acknowledged_by"] == GUARD[0]
    assert NOTE in client.get("/alarms?all=true").text
