"""The live page at two exit lanes during the evening rush, in a real Chromium: what a dialog's
confirmation does once the car it was opened for has gone, and what the panel names at the barrier."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta

import httpx2
import pytest

from gateway.core import Presented
from tests.ui.conftest import PLATE, Site, bearer, script_errors, stored, wait_for
from tests.ui.rush_site_helpers import pulses, rush
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401


@pytest.fixture
def rush_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with rush(tmp_path / "data") as s:
        yield s


@pytest.fixture
def charging_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with rush(tmp_path / "data", 'exit_without_entry = "charge"') as s:
        yield s


def test_correct_and_decide_again_after_the_car_left_does_not_open_for_the_next_car(
    rush_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The guard opens 纠正车牌 on the resident misread at exit 1; meanwhile another tablet lets the
    resident out by hand and a temporary car owing 7元 drives up. 纠正并重新判断 raises the barrier
    for that car (it leaves unpaid, still 'inside'); the guard should be told the car has gone and
    the barrier should stay down for the car now waiting to pay."""
    site, url = rush_site
    page = page_at(browser, url, LANDSCAPE)
    now = site.gw.now()
    owes = "鲁B22222"
    site.gw.present(Presented("car-in", "plate", PLATE, 0.99, now - timedelta(hours=3), "cam"))
    site.gw.present(Presented("car-in", "plate", owes, 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", "皖B12345", 0.99, now, "cam"))  # the resident, misread
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=皖B12345")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    # Meanwhile: the guard at the barrier lets the resident out by hand, and the next car is held.
    other = httpx2.post(
        f"{url}/api/lanes/car-out/open", json={"reason": "业主"}, headers=bearer(site.guard_token)
    )
    assert other.status_code == 200, other.text
    site.gw.present(Presented("car-out", "plate", owes, 0.99, site.gw.now(), "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={owes}")
    opened = pulses(site, "car-out")
    page.fill("#plate-input", PLATE)
    page.click("#plate-decide")
    page.wait_for_selector("#toast")  # the page's only toast: what became of the guard's tap
    # A decision's answer comes once it is stored: the lane's records say what the tap did.
    let_out = stored(
        site, "SELECT count(*) FROM access_log WHERE lane = 'car-out' AND value = ? AND admitted = 1", PLATE
    )
    with suppress(AssertionError):  # the barrier is pulsed right after the decision is stored
        wait_for(lambda: pulses(site, "car-out") > opened, timeout=2)
    [(exited,)] = stored(site, "SELECT exited_at FROM stays WHERE plate = ?", owes)
    assert let_out == [(0,)] and pulses(site, "car-out") == opened, (
        f"the barrier was raised ({pulses(site, 'car-out') - opened} pulse) for {PLATE}, who had "
        f"left; {owes} (owing 7元) stood at it and drove out unpaid, still inside on record "
        f"(exited_at={exited}); the page said {page.inner_text('#toast')!r}"
    )
    assert page.inner_text("#toast") == "已纠正车牌；该车已离开通道，未重新判断"
    assert stored(site, "SELECT plate FROM latest_plate_corrections") == [(PLATE,)]  # the correction stands
    assert script_errors(page) == []


def test_a_car_let_through_free_after_validation_is_not_told_paid(
    rush_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The fee dialog is open for 鲁B11111 (7元) at exit 1; its stay is validated meanwhile (the host
    unit confirmed the visit), the camera lets it through free and the next car is held. 现金已收
    says 该车已缴费 - it paid nothing, and the guard books 7元 nobody took. He should be told it
    left without a fee taken (as for a car let out by hand), never 已缴费."""
    site, url = rush_site
    page = page_at(browser, url, LANDSCAPE)
    now = site.gw.now()
    car, behind = "鲁B11111", "鲁B22222"
    site.gw.present(Presented("car-in", "plate", car, 0.99, now - timedelta(minutes=90), "cam"))
    site.gw.present(Presented("car-in", "plate", behind, 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", car, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={car}")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    assert page.inner_text("#pay-summary") == f"{car} · 7元"
    [(stay_id,)] = stored(site, "SELECT id FROM stays WHERE plate = ?", car)
    validated = httpx2.post(
        f"{url}/api/parking/stays/{stay_id}/validate",
        json={"building": "3栋", "unit": "2单元"},
        headers=bearer(site.guard_token),
    )
    assert validated.status_code == 200, validated.text
    site.gw.present(Presented("car-out", "plate", car, 0.99, site.gw.now(), "cam"))  # free now: let through
    site.gw.present(Presented("car-out", "plate", behind, 0.99, site.gw.now(), "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={behind}")
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert stored(site, "SELECT count(*) FROM payments") == [(0,)]  # nothing was taken for it
    assert "已缴费" not in shown, f"told the car paid, which left free with no fee taken: {shown!r}"
    assert "该车已离场，未收费：请勿收费" in shown, shown
    assert script_errors(page) == []


def test_the_panel_keeps_the_corrected_plate_when_the_camera_decides_the_waiting_car_again(
    charging_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Exit 1's camera misreads 苏E12345 as 苏E12346; the guard corrects the panel to 苏E12345.
    Fifteen seconds later the camera decides the car still waiting again (as the corrected car:
    the quote names 苏E12345), and the panel shows 苏E12346 again, uncorrected. It should keep
    showing the car at the barrier as 苏E12345 (识别为 苏E12346)."""
    site, url = charging_site
    page = page_at(browser, url, LANDSCAPE)
    now = site.gw.now()
    real, misread = "苏E12345", "苏E12346"
    site.gw.present(Presented("car-in", "plate", real, 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", misread, 0.99, now - timedelta(seconds=20), "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={misread}")
    first = page.get_attribute("#lane-car-out [data-latest]", "data-event")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", real)
    page.click("#plate-ok")
    page.wait_for_selector(f"#lane-car-out [data-latest] .plate >> text={real}")
    # The camera's repeat timer: the car still stands at the barrier.
    site.gw.present(Presented("car-out", "plate", misread, 0.99, now - timedelta(seconds=5), "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest]:not([data-event='{first}'])")
    quote = httpx2.get(f"{url}/api/parking/lanes/car-out/quote", headers=bearer(site.guard_token)).json()
    assert quote["plate"] == real, quote  # the gateway knows it is the corrected car
    shown = page.inner_text("#lane-car-out [data-latest] .plate")
    assert shown == real, (
        f"the panel at exit 1 shows {shown} again for the car the guard corrected to {real} "
        f"(the 收费放行 quote names {quote['plate']}): {page.inner_text('#lane-car-out [data-latest]')!r}"
    )
    said = page.inner_text("#lane-car-out [data-latest]")
    # Said once, beside who corrected it: the repeat's read: flag is not said again in its flags.
    assert said.count(f"识别为 {misread}") == 1, said
    page.reload()  # the page drawn again from the lane's recent records says the same
    page.wait_for_selector(f"#lane-car-out [data-latest]:not([data-event='{first}']) .plate >> text={real}")
    assert script_errors(page) == []


def test_take_the_fee_for_a_car_that_paid_at_the_kiosk_does_not_say_no_car_is_waiting(
    rush_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """鲁B11111 waits at exit 1 to pay 7元; its driver pays at the QR kiosk (booth prepayment).
    收费放行 then says 该通道没有待缴费的车 (no car waiting at this lane) while the car stands at the
    shut barrier. The guard should be told that car owes nothing now and may be let out."""
    site, url = rush_site
    page = page_at(browser, url, LANDSCAPE)
    now = site.gw.now()
    car = "鲁B11111"
    site.gw.present(Presented("car-in", "plate", car, 0.99, now - timedelta(minutes=90), "cam"))
    site.gw.present(Presented("car-out", "plate", car, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={car}")
    kiosk = httpx2.post(
        f"{url}/api/parking/prepay",
        json={"plate": car, "amount_fen": 700, "method": "qr"},
        headers=bearer(site.guard_token),
    )
    assert kiosk.status_code == 200, kiosk.text
    quote = httpx2.get(f"{url}/api/parking/lanes/car-out/quote", headers=bearer(site.guard_token)).json()
    assert (quote["plate"], quote["due_fen"]) == (car, 0), quote  # still held there, owing nothing
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#toast")
    shown = page.inner_text("#toast")
    assert "没有待缴费的车" not in shown, (
        f"told no car waits at exit 1 while {car} (paid at the kiosk) stands held at its barrier: {shown!r}"
    )
    assert shown == f"{car} · 该车现在无需缴费，可开闸放行"
    assert script_errors(page) == []
