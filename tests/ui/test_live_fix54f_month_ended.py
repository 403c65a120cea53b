"""A monthly car held at an exit to pay because its month ran out: the guard's panel and pay dialog
say so, with the period's last day, as the driver's display says 月租到期."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.api.views import from_event
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.store import registry
from gateway.timefmt import last_day
from gateway.web.i18n import js_texts
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, script_errors, served, start_site
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at  # noqa: F401
from tests.ui.test_guard_browser import pytestmark as needs_chromium

CAR = "皖C44444"
H = timedelta(hours=1)


@pytest.fixture
def paying(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    yield s
    s.gw.stop()


def _register(site: Site, plate: str, until: datetime | None) -> None:
    def run(conn):  # type: ignore[no-untyped-def]
        registry.add_vehicle(conn, site.gw.now(), "test", plate, site.resident_id, "car", until)

    site.gw.on_worker(run).result(timeout=10)


def _decide(site: Site, lane: str, plate: str, at: datetime) -> AccessEvent:
    p = Presented(lane, "plate", plate, 1.0, at, f"{lane}-camera")
    ev: AccessEvent = site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10)
    return ev


def _shown(site: Site, client: TestClient, held: AccessEvent) -> tuple[str | None, str | None, str | None]:
    """The month's last day as the pushed event, a reloaded page's event and the pay dialog's quote
    give it."""
    guard = bearer(site.guard_token)
    pushed = from_event(site.gw, held)["monthly_ended"]
    recent = client.get("/api/live/recent", params={"lane": "car-out"}, headers=guard).json()
    reloaded = next(e for e in recent if e["event_id"] == held.event_id)["monthly_ended"]
    quote = client.get("/api/parking/lanes/car-out/quote", headers=guard).json()
    assert quote["plate"] == held.plate and quote["due_fen"] > 0, quote
    return pushed, reloaded, quote["monthly_ended"]


def test_a_month_run_out_while_parked_is_told_to_the_guard(paying: Site) -> None:
    """皖C44444's month ends at 10:00 while parked; held at the exit at 13:00 (payment_due, no flag),
    its driver read 月租到期 请缴费 9元 and the guard's panel only 禁止通行 · 请缴费 and the owner."""
    site, now = paying, paying.gw.now()
    ended = now - 2 * H
    _register(site, CAR, ended)
    came = _decide(site, "car-in", CAR, now - 5 * H)
    assert (came.reason, came.billing) == ("monthly", "monthly")
    held = _decide(site, "car-out", CAR, now)
    assert (held.reason, held.billing, held.flags) == ("payment_due", "monthly", ())
    day = last_day(ended, site.gw.site.tz).isoformat()
    with TestClient(create_app(site.gw)) as client:
        assert _shown(site, client, held) == (day, day, day)


def test_a_car_that_came_in_lapsed_is_told_to_the_guard(paying: Site) -> None:
    """Its entry was flagged monthly_expired; its exit decision carries no flag."""
    site, now = paying, paying.gw.now()
    ended = now - 30 * 24 * H
    _register(site, CAR, ended)
    came = _decide(site, "car-in", CAR, now - 2 * H)
    assert came.billing == "temporary" and "monthly_expired" in came.flags, came
    held = _decide(site, "car-out", CAR, now)
    assert (held.reason, held.billing, held.flags) == ("payment_due", "temporary", ())
    day = last_day(ended, site.gw.site.tz).isoformat()
    with TestClient(create_app(site.gw)) as client:
        assert _shown(site, client, held) == (day, day, day)


def test_a_car_renewed_while_parked_is_not_told_its_month_ran_out(paying: Site) -> None:
    """Came in lapsed, renewed an hour later: it pays for the hour before the renewal, its month
    running on (the driver's display says no 月租到期 either)."""
    site, now = paying, paying.gw.now()
    _register(site, CAR, now - 30 * 24 * H)
    _decide(site, "car-in", CAR, now - 3 * H)
    vid = site.gw.on_worker(
        lambda c: int(c.execute("SELECT id FROM vehicles WHERE plate = ?", (CAR,)).fetchone()[0])
    ).result(timeout=10)
    site.gw.on_worker(
        lambda c: registry.update_vehicle(c, now - H, "admin", vid, {"monthly_until": now + 30 * 24 * H})
    ).result(timeout=10)
    held = _decide(site, "car-out", CAR, now)
    assert (held.reason, held.billing) == ("payment_due", "temporary"), held
    with TestClient(create_app(site.gw)) as client:
        assert _shown(site, client, held) == (None, None, None)


def test_a_stranger_is_not_told_a_month_ran_out(paying: Site) -> None:
    site, now = paying, paying.gw.now()
    _decide(site, "car-in", "皖E66666", now - 2 * H)
    held = _decide(site, "car-out", "皖E66666", now)
    assert held.reason == "payment_due", held
    with TestClient(create_app(site.gw)) as client:
        assert _shown(site, client, held) == (None, None, None)


def test_the_words_in_each_language() -> None:
    assert js_texts("zh")["ev.monthly_ended"] == "月租已于 {day} 到期"
    assert js_texts("en")["ev.monthly_ended"] == "Monthly pass ended {day}"


@pytest.fixture
def paying_served(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


@needs_chromium
def test_the_panel_and_the_pay_dialog_say_the_month_ran_out(
    paying_served: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """In a real Chromium: the panel's verdict and the dialog under the fee; a stranger's not."""
    site, url = paying_served
    now = site.gw.now()
    ended = now - 2 * H
    _register(site, CAR, ended)
    day = last_day(ended, site.gw.site.tz).isoformat()
    page = page_at(browser, url, LANDSCAPE)
    site.gw.present(Presented("car-in", "plate", CAR, 0.99, now - 5 * H, "cam"))
    site.gw.present(Presented("car-out", "plate", CAR, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={CAR}")
    verdict = page.inner_text("#lane-car-out [data-latest] .verdict")
    assert verdict.endswith(f" · 月租已于 {day} 到期"), verdict
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    assert page.inner_text("#pay-why") == f"月租已于 {day} 到期"
    page.click("#pay-cancel")
    page.reload()  # recent(): the same words
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={CAR}")
    assert page.inner_text("#lane-car-out [data-latest] .verdict") == verdict
    assert script_errors(page) == []
