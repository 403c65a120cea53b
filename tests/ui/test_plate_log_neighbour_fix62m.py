"""Review 62j: the plate log (/plates) listed the car in the lane beside, read by the exit camera as
it came in at the entrance (flag neighbour_lane), as a refusal: 拒绝 · 通道不符 in red, and under
只看拒绝 (refused only). It says what the live page says (ev.neighbour_lane), greyed, and the
refused-only list leaves it out: every car that came in at a gate whose exit camera sees the
entrance lane was listed refused at the exit."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.web.i18n import translator
from tests.ui.conftest import GUARD, log_in, make_config, start_site
from tests.ui.test_guard_corrections import EXIT_CAMERA


def _read(gw: Gateway, lane: str, at: datetime) -> AccessEvent:
    """渝A5B123 read by the lane's camera at `at`, as decided."""
    p = Presented(lane, "plate", "渝A5B123", 0.99, at, "cam")
    return gw.on_worker(lambda _: gw.handle(p)).result(timeout=30)


def _row(page: str, event_id: str) -> str:
    found = re.search(rf'<tr class="([^"]*)" data-event="{event_id}">(.*?)</tr>', page, re.S)
    assert found is not None, page
    return f"{found.group(1)}|{unescape(found.group(2))}"


def test_the_plate_log_shows_the_car_in_the_lane_beside_as_such_not_refused(tmp_path: Path) -> None:
    site = start_site(make_config(tmp_path / "data", EXIT_CAMERA))
    try:
        t = translator(site.gw.site.config.site.language)
        with TestClient(create_app(site.gw)) as client:
            log_in(client, GUARD)
            now = site.gw.now()
            assert _read(site.gw, "car-in", now).admitted
            ev = _read(site.gw, "car-out", now + timedelta(seconds=0.5))
            assert ev.flags == ("neighbour_lane",)
            row = _row(client.get("/plates").text, ev.event_id)
            assert row.startswith("muted|") and t("ev.neighbour_lane") in row, row
            assert t("ev.refused") not in row and t("why.wrong_lane") not in row, row
            only_refused = client.get("/plates", params={"refused": "true"}).text
            assert re.findall(r'data-event="([^"]+)"', only_refused) == []
    finally:
        site.gw.stop()
