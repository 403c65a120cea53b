"""The monitoring centre, staffed 24 hours, handles every alarm (REQUIREMENTS 7): its signed
`acknowledge_alarm` does what a guard's acknowledgement at the booth does (docs/mqtt.md, Remote
commands). Before it, only a guard on the booth tablet could acknowledge one: a barrier forced at
03:00 while he was on patrol stayed open at the centre, which had seen it on its cameras."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_sync_commands import command, send, site  # noqa: F401  (site: a fixture)
from test_sync_downlink import Site

from gateway.accounts.passwords import hash_password
from gateway.alarm_texts import AlarmText
from gateway.api.app import create_app
from gateway.store.accounts import create_account
from gateway.store.alarms import acknowledge_alarm, raise_alarm

GUARD = ("guard1", "guard-pass-123")


def forced_open(site: Site) -> int:  # noqa: F811
    """The barrier of car-in forced up: its forced_open alarm, as the lane's inputs raise it."""
    text = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-barrier"})
    site.gw.on_worker(lambda c: raise_alarm(c, "forced_open", "car-in", text, site.gw.now())).result(10)
    return int(site.rows("SELECT id FROM alarms WHERE kind = 'forced_open'")[0][0])


def acknowledge(site: Site, args: dict[str, str]) -> dict[str, Any]:  # noqa: F811
    return send(site, command("acknowledge_alarm", args))


def alarm_records(site: Site, alarm_id: int) -> list[tuple[str, Any]]:  # noqa: F811
    rows = site.rows("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    records = [json.loads(p) for (p,) in rows]
    return [(r["state"], r.get("by")) for r in records if r["alarm_id"] == alarm_id]


@pytest.fixture
def told(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:  # noqa: F811
    """What the lane inputs are told of alarms closed by hand (a new forcing is a new alarm)."""
    calls: list[tuple[str, str]] = []
    inputs = site.gw.lane_io
    real = inputs.closed_by_guard

    def spy(kind: str, source: str) -> None:
        calls.append((kind, source))
        real(kind, source)

    monkeypatch.setattr(inputs, "closed_by_guard", spy)
    yield calls


def test_the_centre_acknowledges_a_forced_barrier_as_a_guard_would(
    site: Site,  # noqa: F811
    told: list[tuple[str, str]],
) -> None:
    alarm_id = forced_open(site)
    reply = acknowledge(site, {"alarm_id": str(alarm_id), "note": "看了录像，住户忘带卡，已联系 13812345678"})
    assert reply["ok"] is True, reply
    assert reply["result"] == {
        "alarm_id": alarm_id,
        "kind": "forced_open",
        "source": "car-in",
        "closed": True,
    }
    # Closed on the box, by the centre's operator, the phone number in his note masked.
    ((acked_by, note, cleared),) = site.rows(
        "SELECT acknowledged_by, acknowledged_note, cleared_at FROM alarms"
    )
    assert acked_by == "central:zhang" and cleared is not None
    assert "13812345678" not in note and "138****5678" in note
    assert told == [("forced_open", "car-in")]
    audit = site.rows("SELECT actor, action, target, detail FROM audit WHERE action = 'alarm.acknowledge'")
    assert [a[:3] for a in audit] == [("central:zhang", "alarm.acknowledge", f"alarm:{alarm_id}")]
    assert "13812345678" not in audit[0][3]
    assert not site.rows("SELECT action FROM audit WHERE detail LIKE '%13812345678%'")  # command_accepted too
    # Upstream as a guard's: acknowledged by the operator, then cleared.
    assert alarm_records(site, alarm_id) == [
        ("raised", None),
        ("acknowledged", "central:zhang"),
        ("cleared", None),
    ]
    (acked,) = [
        json.loads(p)
        for (p,) in site.rows("SELECT payload FROM outbox WHERE topic = 'alarm'")
        if json.loads(p)["state"] == "acknowledged"
    ]
    assert "13812345678" not in acked["note"]

    # The guard's alarm list shows it acknowledged by the centre.
    now = site.gw.now()
    site.gw.on_worker(
        lambda c: create_account(c, now, "test", GUARD[0], "张师傅", "guard", hash_password(GUARD[1]))
    ).result(10)
    with TestClient(create_app(site.gw)) as client:
        r = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
        assert r.status_code == 200, r.text
        page = client.get("/alarms?all=true").text
        assert "已确认 · 监控中心（zhang）" in page, page
        # Pressed on the guard's tablet afterwards: done already, by the centre.
        csrf = {"X-CSRF-Token": r.json()["csrf"]}
        again = client.post(f"/api/alarms/{alarm_id}/acknowledge", json={}, headers=csrf)
        assert again.status_code == 409 and again.json()["error"]["by"] == "监控中心（zhang）", again.text


def test_an_alarm_acknowledged_already_is_refused_and_nothing_written_twice(site: Site) -> None:  # noqa: F811
    alarm_id = forced_open(site)
    assert acknowledge(site, {"alarm_id": str(alarm_id)})["ok"] is True
    records = alarm_records(site, alarm_id)
    reply = acknowledge(site, {"alarm_id": str(alarm_id), "note": "again"})
    assert (reply["ok"], reply["code"], reply["by"]) == (False, "already_done", "监控中心（zhang）"), reply
    assert reply["done_at"]  # when
    assert alarm_records(site, alarm_id) == records
    assert site.rows("SELECT count(*) FROM audit WHERE action = 'alarm.acknowledge'") == [(1,)]
    assert site.rows("SELECT acknowledged_note FROM alarms") == [("",)]


def test_an_unknown_alarm_is_not_found_and_a_bad_id_is_bad_args(site: Site) -> None:  # noqa: F811
    forced_open(site)
    reply = acknowledge(site, {"alarm_id": "999"})
    assert (reply["ok"], reply["code"]) == (False, "not_found"), reply
    for bad in ("57a", "+1", " 1", "٣", "0", "1e3", "", "9" * 20):
        reply = acknowledge(site, {"alarm_id": bad})
        assert (reply["ok"], reply["code"]) == (False, "bad_args"), (bad, reply)
    # An alarm of another stream (a box replaced: its alarms numbered from 1 again) is not this one.
    (alarm_id,) = site.rows("SELECT id FROM alarms")[0]
    reply = acknowledge(site, {"alarm_id": str(alarm_id), "alarm_stream": "deadbeef"})
    assert (reply["ok"], reply["code"]) == (False, "not_found"), reply
    assert site.rows("SELECT acknowledged_at, cleared_at FROM alarms") == [(None, None)]
    assert site.rows("SELECT count(*) FROM audit WHERE action = 'alarm.acknowledge'") == [(0,)]


def test_an_already_done_reply_is_dated_when_it_was_answered(site: Site) -> None:  # noqa: F811
    """Review 58g: the reply carried the guard's acknowledgement time as `at`, over the reply
    record's own `at`: a centre matching replies by time took it for one older than its command."""
    gw = site.gw
    alarm_id = forced_open(site)
    gw.on_worker(lambda c: acknowledge_alarm(c, alarm_id, gw.now(), "guard1", "门已关好")).result(10)
    time.sleep(1.2)  # the centre's operator acts a moment later
    body = command("acknowledge_alarm", {"alarm_id": str(alarm_id)})
    reply = send(site, body)
    assert reply["code"] == "already_done", reply
    assert datetime.fromisoformat(reply["at"]) >= datetime.fromisoformat(body["issued_at"]).replace(
        microsecond=0
    )
    assert datetime.fromisoformat(reply["done_at"]) < datetime.fromisoformat(body["issued_at"])
