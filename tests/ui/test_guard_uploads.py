"""Records the central server refused for good: listed for admins and sent again, audited."""

from __future__ import annotations

import sqlite3

from fastapi.testclient import TestClient

from tests.set_aside_helpers import REASON, open_quarantine_alarms, set_aside_records
from tests.ui.conftest import ADMIN, GUARD, Site, bearer, log_in


def test_an_admin_sees_the_records_set_aside_and_sends_one_again(client: TestClient, site: Site) -> None:
    access, alarm_record = set_aside_records(site.gw, "access", "alarm")
    admin = bearer(site.admin_token)
    listed = client.get("/api/outbox", headers=admin).json()
    assert [(r["seq"], r["record_type"], r["reason"]) for r in listed["set_aside"]] == [
        (access, "access", REASON),
        (alarm_record, "alarm", REASON),
    ]
    assert listed["set_aside"][0]["set_aside_at"].endswith("+08:00")  # the site's local time
    done = client.post("/api/outbox/send-again", json={"seqs": [access, 999]}, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json() == {"sent_again": [access], "not_set_aside": [999]}
    with sqlite3.connect(site.gw.db_path) as conn:
        back_in_line = conn.execute(
            "SELECT sent_at IS NULL AND quarantined IS NULL FROM outbox WHERE seq = ?", (access,)
        ).fetchone()
        audit = conn.execute("SELECT actor, target FROM audit WHERE action = 'outbox.send_again'").fetchall()
    assert back_in_line == (1,)
    assert audit == [("token:admin-bot", str(access))]
    # The access records' alarm is over; the alarm record is still set aside, and its alarm stays.
    assert open_quarantine_alarms(site.gw) == ["alarm"]
    assert [r["seq"] for r in client.get("/api/outbox", headers=admin).json()["set_aside"]] == [alarm_record]


def test_sending_again_needs_an_admin_and_a_record_that_is_set_aside(client: TestClient, site: Site) -> None:
    (seq,) = set_aside_records(site.gw, "access")
    guard = bearer(site.guard_token)
    assert client.get("/api/outbox", headers=guard).status_code == 403
    assert client.post("/api/outbox/send-again", json={"seqs": [seq]}, headers=guard).status_code == 403
    assert client.post("/api/outbox/send-again", json={"seqs": [seq]}).status_code == 401
    admin = bearer(site.admin_token)
    gone = client.post("/api/outbox/send-again", json={"seqs": [seq + 1]}, headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_set_aside"
    assert "GET /api/outbox" in gone.json()["error"]["fix"]
    for bad in ({"seqs": []}, {"seqs": ["x"]}, {"seqs": [0]}):
        assert client.post("/api/outbox/send-again", json=bad, headers=admin).status_code == 422
    assert open_quarantine_alarms(site.gw) == ["access"]  # nothing was changed
    everything = client.post("/api/outbox/send-again", json={}, headers=admin).json()
    assert everything == {"sent_again": [seq], "not_set_aside": []}
    assert open_quarantine_alarms(site.gw) == []


def test_the_alarms_page_lists_them_for_admins_only(client: TestClient, site: Site) -> None:
    (seq,) = set_aside_records(site.gw, "access")
    log_in(client, ADMIN)
    admin_page = client.get("/alarms").text
    assert 'id="set-aside"' in admin_page and f'data-seq="{seq}"' in admin_page and REASON in admin_page
    log_in(client, GUARD)
    guard_page = client.get("/alarms").text
    assert "记录无法上传" in guard_page and 'id="set-aside"' not in guard_page


def test_a_whole_record_type_set_aside_is_listed_in_part_and_sent_again_whole(
    client: TestClient, site: Site
) -> None:
    """A broker ACL that refuses a whole topic sets aside every record of it: the page stays small."""
    seqs = set_aside_records(site.gw, *["visitor_pass"] * 105)
    admin = bearer(site.admin_token)
    listed = client.get("/api/outbox?limit=10", headers=admin).json()
    assert [r["seq"] for r in listed["set_aside"]] == seqs[:10] and listed["set_aside_total"] == 105
    log_in(client, ADMIN)
    page = client.get("/alarms").text
    assert page.count("data-seq=") == 100 and "另有 5 条较新的搁置记录未列出" in page
    assert client.post("/api/outbox/send-again", json={}, headers=admin).json()["sent_again"] == seqs
