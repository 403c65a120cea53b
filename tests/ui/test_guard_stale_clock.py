"""The guard's work on a Pi that boots on fake-hwclock's stale time (it has no real-time clock): what
the guard registers or starts before NTP sets the clock still holds once it is set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.parking.operations import Operations, worker_of
from tests.parking.test_operations import Steady
from tests.ui.conftest import GUARD, Site, bearer, log_in, make_config, start_site

TZ = ZoneInfo("Asia/Shanghai")
REAL = datetime(2025, 3, 10, 8, 0, tzinfo=TZ)  # what NTP says
BOOT = REAL - timedelta(days=3)  # fake-hwclock's time of the last shutdown: the box was off 3 days
M = timedelta(minutes=1)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


def booted_on_a_stale_clock(site: Site) -> tuple[Clock, Steady, Operations]:
    """The gateway's clock says BOOT; its operations thread, as it looks every 30 s."""
    gw = site.gw
    clock, steady = Clock(BOOT), Steady()
    gw.now = clock  # type: ignore[method-assign]
    return clock, steady, Operations(gw.site, gw.db_path, gw.data_dir, worker_of(gw.on_worker), BOOT, steady)


def ntp_sets_the_clock(clock: Clock, steady: Steady, ops: Operations) -> None:
    """A minute after the boot NTP sets the clock; the operations thread's next look sees the step."""
    steady.s = 60
    clock.at = REAL + M
    ops.tick(clock.at)


def test_a_visitor_registered_before_ntp_is_not_refused_as_expired_once_the_clock_is_set(
    site: Site,
) -> None:
    """Power is back after three days; the Pi boots saying BOOT (fake-hwclock). The guard registers a
    visitor's car right away (the default 4 hours from now); a minute later NTP sets the clock and
    the operations thread sees the step. The visitor's car reaches the barrier two minutes after it
    was registered: it is let in as the visitor's, not refused as `expired` (its pass ended three
    days ago), and the pass says it is valid from when it was registered."""
    gw = site.gw
    clock, steady, ops = booted_on_a_stale_clock(site)
    with TestClient(create_app(gw)) as client:
        r = client.post(
            "/api/visitors",
            json={"name": "钱七", "host_building": "3栋", "host_unit": "2单元", "plate": "苏E54321"},
            headers=bearer(site.guard_token),
        )
        assert r.status_code == 201, r.text
        pass_id = r.json()["id"]
        ntp_sets_the_clock(clock, steady, ops)
        shown = client.get(f"/api/passes/{pass_id}", headers=bearer(site.guard_token)).json()
    at = REAL + 2 * M
    ev = gw.on_worker(lambda c: gw.handle(Presented("car-in", "plate", "苏E54321", 0.97, at, "cam"))).result()
    assert (ev.admitted, ev.reason) == (True, "visitor"), (
        f"the visitor registered 2 minutes ago is refused as {ev.reason!r}; "
        f"its pass says valid {shown['valid_from']} .. {shown['valid_to']}"
    )
    assert datetime.fromisoformat(shown["valid_from"]) == REAL
    assert datetime.fromisoformat(shown["valid_to"]) == REAL + timedelta(hours=4)


def test_the_end_of_a_visit_the_guard_typed_before_ntp_is_kept_as_typed(site: Site) -> None:
    """The same, with the end of the visit typed by the guard (today 18:00, off the booth's wall
    clock): the start, taken from the gateway's clock, moves with it; the end the guard typed does
    not."""
    gw = site.gw
    clock, steady, ops = booted_on_a_stale_clock(site)
    evening = REAL.replace(hour=18)
    with TestClient(create_app(gw)) as client:
        body = {"name": "钱七", "host_building": "3栋", "host_unit": "2单元", "valid_to": evening.isoformat()}
        r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
        assert r.status_code == 201, r.text
        ntp_sets_the_clock(clock, steady, ops)
        shown = client.get(f"/api/passes/{r.json()['id']}", headers=bearer(site.guard_token)).json()
    window = (datetime.fromisoformat(shown["valid_from"]), datetime.fromisoformat(shown["valid_to"]))
    assert window == (REAL, evening)


def test_a_guard_who_logged_in_as_the_pi_booted_is_not_logged_out_when_ntp_sets_the_clock(
    site: Site,
) -> None:
    """The Pi boots on fake-hwclock's time, three days behind. The guard logs in on the booth's
    tablet at once; a minute later NTP sets the clock and the operations thread sees the step. The
    guard's session (http.session_hours) began a minute ago: the next page must not send the guard
    back to the login."""
    gw = site.gw
    clock, steady, ops = booted_on_a_stale_clock(site)
    with TestClient(create_app(gw)) as client:
        csrf = log_in(client, GUARD)
        assert client.get("/api/visitors", headers=csrf).status_code == 200
        ntp_sets_the_clock(clock, steady, ops)
        r = client.get("/api/visitors", headers=csrf)
    assert r.status_code == 200, f"{r.status_code} {r.text[:200]}"
