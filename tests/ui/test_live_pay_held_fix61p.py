"""A car held at an exit to pay keeps 收费放行 on its lane while the camera decides the cars behind
it (review 61p). The button was drawn only on the panel of the held decision: the exit camera let
through the next car (in its free minutes), the panel showed that car, and the button was gone,
though the lane's quote still named the held car owing its fee (docs/parking.md: the held car is
left for the guard to take it). In the demo the exit camera reads a car every few seconds, so the
button was gone before an evaluator could tap it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import ADMIN, bearer, decided, make_config, served
from tests.ui.test_guard_browser import (
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)

EXIT_CAMERA = """
[[devices]]
id = "car-out-camera"
lane = "car-out"
kind = "camera"
driver = "simulated"
per_minute = 6000  # what the test shows it, at once (site.traffic.show)
"""
HELD, BEHIND = "苏E66666", "苏E77777"


def test_the_held_car_keeps_its_take_the_fee_button_after_the_next_car(
    tmp_path: Any,
    browser: Any,  # noqa: F811
) -> None:
    with served(make_config(tmp_path / "data", TARIFF_TOML + EXIT_CAMERA)) as (site, url):
        admin = bearer(site.admin_token)
        tz = site.gw.site.tz
        long_ago = (site.gw.now() - timedelta(minutes=130)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        just_now = site.gw.now().astimezone(tz).strftime("%Y-%m-%d %H:%M")
        for plate, at in ((HELD, long_ago), (BEHIND, just_now)):
            r = requests.post(
                f"{url}/api/parking/stays",
                headers=admin,
                json={"plate": plate, "entered_at": at, "reason": "before the gateway"},
            )
            assert r.status_code == 200, r.text
        page = page_at(browser, url, LANDSCAPE, who=ADMIN)
        lane = page.locator("#lane-car-out")
        pay = lane.locator("[data-pay]:visible")
        assert decided(site, "car-out-camera", "plate", HELD, 30)["reason"] == "payment_due"
        pay.wait_for(timeout=30_000)  # on the held car's panel
        assert decided(site, "car-out-camera", "plate", BEHIND, 30)["admitted"]  # in its free minutes
        lane.locator(f"[data-latest] >> text={BEHIND}").wait_for(timeout=30_000)
        pay.wait_for(timeout=30_000)  # the held car is still the lane's to take the fee of
        assert pay.count() == 1, lane.locator("button:visible").all_inner_texts()

        pay.click()  # the dialog names the car the lane's quote names, not the car on the panel
        page.locator("#pay-dialog").wait_for(state="visible", timeout=30_000)
        assert page.inner_text("#pay-summary").startswith(f"{HELD} · ")
        page.click("#pay-cash")
        # Paid and let out: nothing is held there any more, and 收费放行 goes.
        page.locator("#toast >> text=" + HELD).first.wait_for(timeout=30_000)
        pay.first.wait_for(state="detached", timeout=30_000)
        quote = requests.get(f"{url}/api/parking/lanes/car-out/quote", headers=admin).json()
        assert quote["plate"] is None
