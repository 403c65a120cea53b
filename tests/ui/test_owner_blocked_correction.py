"""A guard corrects a misread plate on the live page; the panel then names whom the corrected
plate is registered to "so the guard knows at once whether to open the barrier by hand for a
resident who was refused" (docs/guard-app.md, Correcting a misread plate). A plate blocked at
the booth (reported stolen: "Block now") is shown there as any resident's car."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import PLATE, Site, bearer, make_config, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at  # noqa: F401
from tests.ui.test_guard_browser import pytestmark as needs_chromium


@pytest.fixture
def owners_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as s:
        yield s


@needs_chromium
def test_a_correction_to_a_blocked_plate_says_it_is_blocked(
    owners_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """What the guard sees: the resident's 皖A12345, blocked as stolen, is refused at the exit as
    渝A12345 (no entry record); he corrects the province and the red panel now reads
    "业主 张** 3栋2单元" with nothing about the block, the very line that tells him to open by
    hand for a resident. What he should see: that the plate is blocked (已禁用), as the lookup
    page and the lane itself would say."""
    site, url = owners_site
    guard = bearer(site.guard_token)
    blocked = httpx2.post(
        f"{url}/api/credentials/block",
        json={"kind": "plate", "value": PLATE, "reason": "被盗"},
        headers=guard,
    )
    assert blocked.status_code == 200, blocked.text
    page = page_at(browser, url, LANDSCAPE)
    p = Presented("car-out", "plate", "渝A12345", 0.97, site.gw.now(), "car-out-camera")
    ev = site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10)
    assert not ev.admitted, ev
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=渝A12345")
    done = httpx2.post(f"{url}/api/events/{ev.event_id}/plate", json={"plate": PLATE}, headers=guard)
    assert done.status_code == 200, done.text
    page.wait_for_selector("#lane-car-out [data-latest] >> text=识别为 渝A12345")
    panel = page.inner_text("#lane-car-out [data-latest]")
    assert "张**" in panel  # the owner is named...
    assert "已禁用" in panel, f"the corrected plate is blocked, the panel reads {panel!r}"


def _refused_as_misread(site: Site) -> str:
    """The resident's car refused at the exit, its plate read 渝A12345: the refusal's event id."""
    p = Presented("car-out", "plate", "渝A12345", 0.97, site.gw.now(), "car-out-camera")
    ev = site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10)
    assert not ev.admitted, ev
    return str(ev.event_id)


@pytest.mark.parametrize("blocked", [True, False])
def test_the_corrected_plates_holder_says_whether_the_plate_is_blocked(
    owners_site: tuple[Site, str], blocked: bool
) -> None:
    """What the tablets are told (the correction's answer, its SSE message, and the recent list a
    reloaded page draws from): the plate's own block, though its owner is not blocked."""
    site, url = owners_site
    guard = bearer(site.guard_token)
    if blocked:
        done = httpx2.post(
            f"{url}/api/credentials/block",
            json={"kind": "plate", "value": PLATE, "reason": "被盗"},
            headers=guard,
        )
        assert done.status_code == 200, done.text
    event_id = _refused_as_misread(site)
    done = httpx2.post(f"{url}/api/events/{event_id}/plate", json={"plate": PLATE}, headers=guard)
    assert done.status_code == 200, done.text
    assert done.json()["holder"]["kind"] == "resident"
    assert done.json()["holder"]["blocked"] is blocked
    recent = httpx2.get(f"{url}/api/live/recent?limit=5", headers=guard).json()
    shown = next(e for e in recent if e["event_id"] == event_id)
    assert shown["corrected"]["holder"]["blocked"] is blocked
