"""Review 65 D1: in a closed-management period that asks visitors for their ID number and phone
(the default `visitor_fields`), each person in a visitor's car gives them too, as each person on
foot does with a pass of their own (docs/parking.md, *One pass, several people on foot*). A car of
three registered with the visitor's numbers and two bare names is refused, each missing number
named by its row; a pass registered before the period with such a car is kept out at the car
entrance during it, while its visitor still walks in (REQUIREMENTS 9: "for a vehicle also the
driver and everyone in it")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config.models import ClosedManagement
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixtures)
from tests.ui.conftest import GUARD, Site, bearer, decided, log_in
from tests.ui.test_guard_visitor_edges import TZ, closed_site

VISITOR = {
    "name": "王五",
    "phone": "13800138000",
    "id_number": "11010519491231002X",
    "host_building": "3栋",
    "host_unit": "2单元",
    "destination": "3栋301",
    "reason": "探亲",
}
THE_VISITOR = {"name": "王五", "phone": VISITOR["phone"], "id_number": VISITOR["id_number"]}
FRIEND = {"name": "赵六", "phone": "13900139000", "id_number": "110101199003077774"}
H = timedelta(hours=1)


@pytest.fixture
def closed_all_day(tmp_path) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    today = datetime.now(TZ).date()
    site = closed_site(
        tmp_path, ClosedManagement(first_day=today - timedelta(days=1), last_day=today + timedelta(days=1))
    )
    yield site
    site.gw.stop()


def _register(site: Site, occupants: list[dict[str, str]], plate: str = "苏E12345") -> object:
    with TestClient(create_app(site.gw)) as client:
        return client.post(
            "/api/visitors",
            json={**VISITOR, "plate": plate, "occupants": occupants},
            headers=bearer(site.guard_token),
        )


def test_a_car_of_three_with_two_bare_names_is_refused_naming_each_missing_number(
    closed_all_day: Site,
) -> None:
    site = closed_all_day
    r = _register(site, [{"name": "赵六"}, THE_VISITOR, {"name": "孙七", "phone": "13700137000"}])
    assert r.status_code == 422, f"a car of three with two people unidentified was registered: {r.text}"  # type: ignore[attr-defined]
    error = r.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "refused"
    assert error["fields"] == ["occupants.0.id_number", "occupants.0.phone", "occupants.2.id_number"]
    car = decided(site, "car-in-camera", "plate", "苏E12345")
    assert (car["admitted"], car["reason"]) == (0, "closed_management")  # no pass was made


def test_a_car_whose_people_each_gave_their_numbers_is_registered_and_let_in(closed_all_day: Site) -> None:
    site = closed_all_day
    r = _register(site, [FRIEND, THE_VISITOR])
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    car = decided(site, "car-in-camera", "plate", "苏E12345")
    assert (car["admitted"], car["reason"]) == (1, "visitor")


def test_the_rules_the_page_marks_by_ask_each_person_in_the_car_for_their_numbers(
    closed_all_day: Site,
) -> None:
    with TestClient(create_app(closed_all_day.gw)) as client:
        log_in(client, GUARD)
        page = client.get("/visitors").text
    template = page.split('<template id="occupant-row">', 1)[1].split("</template>", 1)[0]
    assert 'data-field="id_number" maxlength="30" autocomplete="off" required' in template
    assert 'data-field="phone" inputmode="tel" maxlength="40" autocomplete="off" required' in template


# A period from 10:00 on T0's day, after the pass below was registered at 08:00, that asks what
# the default asks: the people in the car each with their ID number and phone.
LATER_PERIOD = """
[[policy.closed_management]]
first_day = 2025-03-03
last_day = 2025-03-09
hours = ["10:00-23:00"]
"""


def _visit(gw: Gateway, occupants: tuple[Occupant, ...]) -> str:
    visit = NewPass(
        "visitor", "王五", T0 - H, T0 + 12 * H, phone="13800138000", id_number="11010519491231002X",
        host_building="3栋", host_unit="2单元", destination="3栋301", reason="探亲",
        plate="苏E12345", occupants=occupants,
    )  # fmt: skip
    pid = create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    (qr,) = gw.conn.execute(
        "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,)
    ).fetchone()
    return str(qr)


def test_a_car_registered_before_the_period_with_a_passenger_unidentified_is_kept_out_in_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """As a pass with a plate and no driver listed is: the car waits at the entrance for the guard
    to register its people, while the visitor, whose own numbers are on record, walks in."""
    gw = make_gw(extra=LATER_PERIOD)
    qr = _visit(gw, (Occupant("赵六", "13900139000", "110101199003077774"), Occupant("孙七")))
    car = show(gw, "car-in", "苏E12345", T0 + 2 * H)
    assert (car.admitted, car.reason) == (False, "closed_management"), (
        f"a car with a passenger registered by name only came in during the period: {car.reason}"
    )
    walked = gw.handle(Presented("door", "qr", qr, 1.0, T0 + 2 * H, "door-scanner"))
    assert (walked.admitted, walked.reason) == (True, "visitor")


def test_a_car_registered_before_the_period_with_everyone_identified_comes_in_during_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw(extra=LATER_PERIOD)
    _visit(
        gw,
        (
            Occupant("赵六", "13900139000", "110101199003077774"),
            Occupant("王五", "13800138000", "11010519491231002X"),
        ),
    )
    car = show(gw, "car-in", "苏E12345", T0 + 2 * H)
    assert (car.admitted, car.reason) == (True, "visitor")
