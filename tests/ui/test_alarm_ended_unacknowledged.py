"""An event alarm that ended on its own before a guard saw it (a barrier forced up at 03:00 and let
down again while he was on patrol) stays on the alarms page and the badge, saying when it ended, in the
guard's language (Chinese by default, English as an option), until he acknowledges it. A condition
that ended (a device back online) goes, as before; and the events that ended unseen before the
upgrade (schema migration 56) do not all come back onto the booth's tablet at once."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import clear_alarm, raise_alarm
from tests.ui.conftest import GUARD, Site, log_in
from tests.ui.test_guard_alarm_words import switch_to_english

FORCED = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-io"})
OFFLINE = AlarmText(
    "device_offline", {"device_kind": "reader", "device": "door-reader", "lane": "door", "error": "no answer"}
)


def raised_and_ended(site: Site, kind: str, source: str, text: AlarmText, ended_after: timedelta) -> int:
    at = site.gw.now()

    def both(conn: sqlite3.Connection) -> int:
        raise_alarm(conn, kind, source, text, at)
        clear_alarm(conn, kind, source, at + ended_after)
        return int(conn.execute("SELECT max(id) FROM alarms").fetchone()[0])

    return int(site.gw.on_worker(both).result(10))


def ended_at(site: Site, alarm_id: int) -> str:
    sql = "SELECT cleared_at FROM alarms WHERE id = ?"
    (stored,) = site.gw.on_worker(lambda c: c.execute(sql, (alarm_id,)).fetchone()).result(10)
    return datetime.fromisoformat(stored).astimezone(site.gw.site.tz).strftime("%H:%M")


def badge(page: str) -> str:
    found = re.search(r'id="alarm-count"[^>]*>(\d*)<', page)
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", r"已于 (\d\d:\d\d) 关回，请确认"), ("en", r"Closed again at (\d\d:\d\d); acknowledge it")],
)
def test_a_forced_barrier_closed_again_is_listed_until_acknowledged(
    client: TestClient, site: Site, language: str, words: str
) -> None:
    forced = raised_and_ended(site, "forced_open", "car-in", FORCED, timedelta(seconds=40))
    offline = raised_and_ended(site, "device_offline", "door-reader", OFFLINE, timedelta(minutes=2))
    csrf = log_in(client, GUARD)
    if language == "en":
        switch_to_english(client, csrf)
    page = client.get("/alarms").text
    assert f'data-alarm="{forced}"' in page and f'data-alarm="{offline}"' not in page
    ended = re.search(words, page)
    assert ended and ended.group(1) == ended_at(site, forced)  # the site's time
    assert badge(page) == "1"
    r = client.post(f"/api/alarms/{forced}/acknowledge", json={}, headers=csrf)
    assert r.status_code == 200 and r.json()["closed_now"] is False  # it had ended: closed already
    page = client.get("/alarms").text
    assert f'data-alarm="{forced}"' not in page and badge(page) == "0"  # shown hidden


def test_events_that_ended_unseen_before_the_upgrade_stay_off_the_list(
    client: TestClient, site: Site
) -> None:
    """A site upgraded with months of forced_open alarms closed by the old rule: the badge does not
    jump to hundreds. Those raised since are kept."""
    before = raised_and_ended(site, "forced_open", "car-in", FORCED, timedelta(seconds=40))
    site.gw.on_worker(
        lambda c: c.execute(
            "UPDATE config_seen SET value = ? WHERE key = 'alarms_before_events_kept'", (before,)
        )
    ).result(10)
    since = raised_and_ended(site, "forced_open", "car-in", FORCED, timedelta(seconds=40))
    log_in(client, GUARD)
    page = client.get("/alarms").text
    assert f'data-alarm="{since}"' in page and f'data-alarm="{before}"' not in page
    assert badge(page) == "1"
    assert f'data-alarm="{before}"' in client.get("/alarms", params={"all": "true"}).text
