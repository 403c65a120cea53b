"""A visitor registration refused for a person's in the car ID or phone names that person's field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401
from tests.ui.test_guard_visitors import VISITOR


def test_a_bad_id_of_the_third_person_in_the_car_is_named_by_row_and_field(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    """A car with four people, the third's ID number with a wrong check character: the error named
    only `occupants`, and the page could say no more than 车上人员 (which of the four, which number?)."""
    people = [
        {"name": "李四", "id_number": "11010519491231002X"},
        {"name": "王驾驶", "id_number": "110101199003077774"},
        {"name": "赵六", "id_number": "110101199003074478", "phone": "12"},
        {"name": "钱七"},
    ]
    r = client.post(
        "/api/visitors",
        json={**VISITOR, "passengers": 4, "occupants": people},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_pass"
    assert error["fields"] == ["occupants.2.phone", "occupants.2.id_number"], error
    assert "occupants[2] (occupant 3) id_number" in error["message"]  # the message as before


def test_a_vehicle_field_of_the_whole_list_is_still_named_occupants(client: TestClient, site: Site) -> None:  # noqa: F811
    """People listed for a visitor on foot: the list as a whole is at fault, named as before."""
    r = client.post(
        "/api/visitors",
        json={**VISITOR, "plate": "", "passengers": 1, "occupants": [{"name": "李四"}]},
        headers=bearer(site.guard_token),
    )
    assert r.json()["error"]["fields"] == ["occupants"], r.text
