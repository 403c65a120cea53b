"""Plates pasted from a chat message carry an invisible zero-width character; a plate refused on the
register's routes is named as the plate."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.cli import main
from gateway.core import Presented
from gateway.store.database import open_database
from tests.conftest import site_toml, write_csv
from tests.ui.conftest import Site, bearer


def test_visitor_plate_pasted_from_wechat_with_zero_width_space_is_registered(
    client: TestClient, site: Site
) -> None:
    """The host sends the guard his visitor's plate over WeChat ("苏E5B123" followed by the
    zero-width space U+200B that WeChat/QQ messages carry); the guard pastes it into the visitor
    form. The gateway refused it as "车牌格式不对" (invalid plate) although the field shows exactly
    苏E5B123, so the guard could not see what to fix and the visitor waited. normalize() already
    drops the spaces and middle dots people type; an invisible character counts as nothing too:
    the pass is registered with plate 苏E5B123, and the camera's reading let in."""
    guard = bearer(site.guard_token)
    body = {"name": "王五", "plate": "苏E5B123\u200b", "host_building": "3栋", "host_unit": "2单元"}
    r = client.post("/api/visitors", json=body, headers=guard)
    assert r.status_code == 201, r.text
    assert r.json()["plate"] == "苏E5B123"
    gw = site.gw
    p = Presented("car-in", "plate", "苏E5B123", 0.99, gw.now(), "cam")  # type: ignore[arg-type]
    d = gw.on_worker(lambda c: gw.handle(p)).result(10)
    assert (d.admitted, d.holder_kind) == (True, "visitor")


def test_resident_lookup_by_plate_pasted_with_zero_width_space_finds_the_owner(
    client: TestClient, site: Site
) -> None:
    """A guard pastes a plate from a WeChat message (trailing U+200B) into 查询 Lookup to see whose
    car is blocking the fire lane. The resident with that car (皖A12345) was not found: the page
    said nobody, though the plate is registered. It finds R1, as a plate typed with spaces or a
    middle dot (or a Japanese input method's ・) does."""
    guard = bearer(site.guard_token)
    for typed in ("皖A·12345", "皖A・12345", "皖A12345\u200b", "\ufeff皖A 12345"):
        found = client.get("/api/lookup", params={"q": typed}, headers=guard).json()
        assert [x["ref"] for x in found] == ["R1"], typed


def test_an_import_whose_plate_cell_was_pasted_from_a_chat_is_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The office builds the vehicles sheet by pasting plates from the residents' WeChat messages;
    one cell ends in an invisible U+200B. `gateway import` refused the whole import ("'皖A12345'
    is not a Chinese licence plate", naming a plate that looks right), so nothing was imported. The
    car is imported under the plate the cell shows."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    people = write_csv(
        tmp_path / "people.csv",
        """
        ref,building,unit,room,name
        R1,3栋,2单元,301,张三
        """,
    )
    cars = write_csv(
        tmp_path / "cars.csv",
        """
        plate,resident_ref,class
        皖A12345\u200b,R1,car
        苏E・5B123,R1,car
        """,
    )
    assert main(["import", "-c", str(config), str(people), str(cars)]) == 0, capsys.readouterr().err
    conn = open_database(tmp_path / "data" / "gateway.db").conn
    try:
        plates = conn.execute("SELECT plate FROM vehicles ORDER BY plate").fetchall()
    finally:
        conn.close()
    assert plates == [("皖A12345",), ("苏E5B123",)]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/vehicles", {"resident_id": 1, "plate": "皖A1234O"}, "plate"),
        ("/api/slots", {"zone": "main", "number": "B009", "plates": ["皖A1234O"]}, "plates"),
        ("/api/credentials/block", {"kind": "plate", "value": "皖A1234O", "reason": "报失"}, "value"),
    ],
)
def test_a_refused_plate_on_the_register_is_named_as_the_plate(
    client: TestClient, site: Site, path: str, body: dict[str, object], field: str
) -> None:
    """An admin registers a car with 皖A1234O (the letter O for a 0). The answer was 422
    `invalid_value`, which the pages word as 号码格式不对 (a card number's words). It is
    `invalid_plate`, as at the lane's plate dialog, naming the field and how to type a plate."""
    r = client.post(path, json=body, headers=bearer(site.admin_token))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["fields"]) == ("invalid_plate", [field])
    assert "皖A1234O" in error["message"] and "plate" in error["fix"]
