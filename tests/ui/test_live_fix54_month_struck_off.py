"""A monthly car struck off the register while parked, its month run out by the time it leaves
(review 54, regressions): the lane display told the driver 月租到期 (Gateway._monthly_ended reads
the end its stay kept), the pay dialog's quote too, but the guard's live panel said nothing, pushed
or reloaded: the panel looked the month up by the decision's vehicle, which a car struck off no
longer has. The guard could not answer the owner saying "I'm a monthly car"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.api.views import from_event
from gateway.store import registry
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, start_site
from tests.ui.test_live_fix54f_month_ended import CAR, H, _decide, _register


@pytest.fixture
def paying(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    yield s
    s.gw.stop()


def test_a_car_struck_off_while_parked_is_said_to_pay_for_its_month_run_out(paying: Site) -> None:
    site, now = paying, paying.gw.now()
    _register(site, CAR, now - 2 * H)
    came = _decide(site, "car-in", CAR, now - 5 * H)
    assert came.billing == "monthly"
    vid = came.vehicle_id
    site.gw.on_worker(lambda c: registry.delete_vehicle(c, site.gw.now(), "admin", vid)).result(timeout=10)
    held = _decide(site, "car-out", CAR, now)
    assert (held.reason, held.billing, held.vehicle_id) == ("payment_due", "monthly", None)
    assert site.gw.on_worker(lambda _c: site.gw._monthly_ended(held)).result(timeout=10)  # the display's
    ended = (now - 2 * H).astimezone(site.gw.site.tz).date().isoformat()
    assert from_event(site.gw, held)["monthly_ended"] == ended
    with TestClient(create_app(site.gw)) as client:
        guard = bearer(site.guard_token)
        quote = client.get("/api/parking/lanes/car-out/quote", headers=guard).json()
        recent = client.get("/api/live/recent", params={"lane": "car-out"}, headers=guard).json()
    assert quote["monthly_ended"] == ended
    assert next(e for e in recent if e["event_id"] == held.event_id)["monthly_ended"] == ended
