"""A car held at an exit to pay that backed away: its hold ends by itself half an hour after the
lane last decided it (holds.PENDING_FOR), and the guard's 收费放行 went with it only at the lane's
next decision. Left on the panel all night at a quiet exit, tapped it said 没有待收费的车. The lane's
quote says when the hold ends (`hold_ends_in_s`); the page asks again then and takes the button away.
PENDING_FOR is made a few seconds here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests

from gateway.parking import desk_barrier
from gateway.store import holds
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import ADMIN, Site, bearer, decided, make_config, served
from tests.ui.test_guard_browser import (
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)
from tests.ui.test_live_pay_held_fix61p import EXIT_CAMERA

HELD = "苏E55555"
ENDS_AFTER = timedelta(seconds=6)


def parked_long_ago(site: Site, url: str) -> None:
    """HELD recorded inside since 130 minutes ago: at the exit it owes, and is held to pay."""
    long_ago = (site.gw.now() - timedelta(minutes=130)).astimezone(site.gw.site.tz)
    r = requests.post(
        f"{url}/api/parking/stays",
        headers=bearer(site.admin_token),
        json={
            "plate": HELD,
            "entered_at": long_ago.strftime("%Y-%m-%d %H:%M"),
            "reason": "before the gateway",
        },
    )
    assert r.status_code == 200, r.text


def test_take_the_fee_goes_when_the_hold_ends_by_itself(
    tmp_path: Any,
    browser: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(holds, "PENDING_FOR", ENDS_AFTER)
    monkeypatch.setattr(desk_barrier, "PENDING_FOR", ENDS_AFTER)
    with served(make_config(tmp_path / "data", TARIFF_TOML + EXIT_CAMERA)) as (site, url):
        admin = bearer(site.admin_token)
        parked_long_ago(site, url)
        page = page_at(browser, url, LANDSCAPE, who=ADMIN)
        lane = page.locator("#lane-car-out")
        pay = lane.locator("[data-pay]:visible")
        assert decided(site, "car-out-camera", "plate", HELD, 30)["reason"] == "payment_due"
        pay.wait_for(timeout=30_000)  # on the held car's panel
        quote = requests.get(f"{url}/api/parking/lanes/car-out/quote", headers=admin).json()
        assert quote["plate"] == HELD
        assert 0 < quote["hold_ends_in_s"] <= ENDS_AFTER.total_seconds()

        # The car backed away: no decision since. The hold ends, and the button goes with it.
        pay.first.wait_for(state="hidden", timeout=60_000)
        quote = requests.get(f"{url}/api/parking/lanes/car-out/quote", headers=admin).json()
        assert quote["plate"] is None and quote["hold_ends_in_s"] is None
        assert lane.locator(f"[data-latest] >> text={HELD}").count() == 1  # its decision still shown
