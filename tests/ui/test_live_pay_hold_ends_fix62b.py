"""The guard page asking the lane's quote again when a hold ends by itself (6dd3bb3), as review
62g found it:
1. The gateway's clock set back a month while a car stood held (an RTC that ran ahead, put right
   by NTP): hold_ends_in_s was over 2^31-1 ms, setTimeout fired at once, and each tablet asked the
   quote again and again with no pause (340 times in 5 s). The quote says at most PENDING_FOR, and
   the page asks again at least every five minutes.
2. The one question asked as the hold ends failed (the tablet's Wi-Fi down as it woke): nothing
   asked again, and 收费放行 stayed all night. A failed question is asked again in 15 s while a
   button is up.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import requests

from gateway.parking import desk_barrier
from gateway.store import holds
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import ADMIN, bearer, decided, make_config, served
from tests.ui.test_guard_browser import (
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)
from tests.ui.test_live_pay_held_fix61p import EXIT_CAMERA
from tests.ui.test_live_pay_hold_ends_fix62 import HELD, parked_long_ago


def _held(site: Any, url: str) -> None:
    parked_long_ago(site, url)
    assert decided(site, "car-out-camera", "plate", HELD, 30)["reason"] == "payment_due"


def test_a_clock_set_back_a_month_does_not_make_the_page_ask_without_pause(
    tmp_path: Any,
    browser: Any,  # noqa: F811
) -> None:
    with served(make_config(tmp_path / "data", TARIFF_TOML + EXIT_CAMERA)) as (site, url):
        _held(site, url)
        real_now = site.gw.now
        site.gw.now = lambda: real_now() - timedelta(days=30)  # type: ignore[method-assign]
        admin = bearer(site.admin_token)
        quote = requests.get(f"{url}/api/parking/lanes/car-out/quote", headers=admin).json()
        assert quote["plate"] == HELD
        assert 0 < quote["hold_ends_in_s"] <= 30 * 60
        page = page_at(browser, url, LANDSCAPE, who=ADMIN)
        asked: list[float] = []
        page.on(
            "request", lambda r: asked.append(time.monotonic()) if "/lanes/car-out/quote" in r.url else None
        )
        page.wait_for_timeout(5000)
        # Asked once as the page loads, then not before the hold ends (a month on).
        assert len(asked) <= 3, f"{len(asked)} quote requests in 5 s"


def test_a_question_lost_as_the_hold_ends_is_asked_again(
    tmp_path: Any,
    browser: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ends_after = timedelta(seconds=6)
    monkeypatch.setattr(holds, "PENDING_FOR", ends_after)
    monkeypatch.setattr(desk_barrier, "PENDING_FOR", ends_after)
    with served(make_config(tmp_path / "data", TARIFF_TOML + EXIT_CAMERA)) as (site, url):
        _held(site, url)
        page = page_at(browser, url, LANDSCAPE, who=ADMIN)
        pay = page.locator("#lane-car-out [data-pay]:visible")
        pay.wait_for(timeout=30_000)
        # The Wi-Fi is down for a few seconds around the hold's end (the tablet waking).
        page.route("**/api/parking/lanes/car-out/quote", lambda route: route.abort())
        page.wait_for_timeout(9_000)
        page.unroute("**/api/parking/lanes/car-out/quote")
        quote = requests.get(
            f"{url}/api/parking/lanes/car-out/quote", headers=bearer(site.admin_token)
        ).json()
        assert quote["plate"] is None  # the hold has ended
        # The Wi-Fi is back; no car comes: the question is asked again, and the button goes.
        page.locator("#lane-car-out [data-pay]").first.wait_for(state="hidden", timeout=60_000)
        assert pay.count() == 0
