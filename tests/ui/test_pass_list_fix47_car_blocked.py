"""The lists of current passes (访客登记 and 施工人员) for a pass whose car is blocked: the row says so
beside the pass's own state, as the pass page and the pass check do (docs/guard-app.md)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.web.i18n import js_texts
from tests.ui.conftest import ADMIN, Site, bearer, log_in

CAR = "苏E66666"
WORDS = js_texts("zh")


def _row(page: str, pass_id: int) -> str:
    start = page.index(f'data-pass="{pass_id}"')
    return page[start : page.index("</tr>", start)]


def _block_car(client: TestClient, site: Site) -> None:
    block = {"kind": "plate", "value": CAR, "reason": "车辆被盗"}
    r = client.post("/api/credentials/block", json=block, headers=bearer(site.guard_token))
    assert r.is_success, r.text


def test_the_visitor_list_says_a_booked_visitors_car_is_blocked(client: TestClient, site: Site) -> None:
    """钱七 is booked for tomorrow with car 苏E66666, which a guard blocked (stolen). Before 377c381 the
    row said 车辆已禁用; after it only 未到时间, and the guard on the next shift reading the list was
    not told the car must be kept out."""
    tomorrow = site.gw.now() + timedelta(days=1)
    visit = {
        "name": "钱七", "host_building": "3栋", "host_unit": "2单元", "plate": CAR,
        "valid_from": tomorrow.isoformat(), "valid_to": (tomorrow + timedelta(hours=1)).isoformat(),
    }
    made = client.post("/api/visitors", json=visit, headers=bearer(site.guard_token))
    assert made.status_code == 201, made.text
    _block_car(client, site)
    log_in(client, ADMIN)
    row = _row(client.get("/visitors").text, made.json()["id"])
    assert WORDS["state.upcoming"] in row, row
    assert WORDS["pass.car_blocked"] in row, row


def test_an_active_pass_whose_car_is_blocked_says_it_once(client: TestClient, site: Site) -> None:
    """A visitor in his window: the state itself is 车辆已禁用，仅可步行入内, with no second pill."""
    visit = {"name": "钱七", "host_building": "3栋", "host_unit": "2单元", "plate": CAR}
    made = client.post("/api/visitors", json=visit, headers=bearer(site.guard_token))
    assert made.status_code == 201, made.text
    _block_car(client, site)
    log_in(client, ADMIN)
    row = _row(client.get("/visitors").text, made.json()["id"])
    assert WORDS["state.vehicle_blocked"] in row, row
    assert WORDS["pass.car_blocked"] not in row, row


def test_the_contractors_list_says_a_crews_car_is_blocked(client: TestClient, site: Site) -> None:
    """The same list on 施工人员: a crew's pass from next week, its van blocked."""
    starts = (site.gw.now() + timedelta(days=7)).date()
    crew = {
        "name": "赵装修", "company": "好家装饰", "host_building": "3栋", "host_unit": "2单元", "plate": CAR,
        "valid_from": starts.isoformat(), "valid_to": (starts + timedelta(days=30)).isoformat(),
    }
    made = client.post("/api/contractors", json=crew, headers=bearer(site.admin_token))
    assert made.status_code == 201, made.text
    _block_car(client, site)
    log_in(client, ADMIN)
    row = _row(client.get("/contractors").text, made.json()["id"])
    assert WORDS["state.upcoming"] in row, row
    assert WORDS["pass.car_blocked"] in row, row
