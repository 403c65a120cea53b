"""Review 67 G3: only the lookup (查询) read an O or I in a plate's number as the 0 or 1 a guard read
off a dirty plate. 按车牌查找 on the occupancy page, the plate log's and the visitors list's 查找 found
nothing for 苏E1OOO1 or E1OOO1, while the car 苏E10001 stood inside, read at the lane, and visiting."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, log_in

CAR, TYPED = "苏E10001", "E1OOO1"  # as a guard types it: letters O for the zeros, no province


def test_a_plate_typed_with_o_for_0_finds_the_car_on_every_page(client: TestClient) -> None:
    csrf = log_in(client, GUARD)
    let_in = client.post("/api/lanes/car-in/plate", headers=csrf, json={"plate": CAR})
    assert let_in.status_code == 200, let_in.text
    visitor = {"name": "王芳", "host_building": "3栋", "host_unit": "2单元", "plate": CAR}
    assert client.post("/api/visitors", headers=csrf, json=visitor).status_code == 201

    occupancy = client.get("/occupancy", params={"plate": TYPED}).text
    assert re.findall(r'<tr data-stay="\d+">\s*<td><strong>([^<]*)</strong>', occupancy) == [CAR]
    log = client.get("/plates", params={"plate": f"苏{TYPED}"}).text
    assert re.findall(r'data-event="([^"]+)"', log), f"the plate log found no reading for 苏{TYPED}"
    page = client.get("/visitors").text
    csrf_form = page.split('name="csrf" value="')[1].split('"')[0]
    found = client.post("/visitors", data={"csrf": csrf_form, "q": TYPED}).text
    assert len(re.findall(r'data-pass="(\d+)"', found)) == 1, f"the visitors list found none for {TYPED}"
