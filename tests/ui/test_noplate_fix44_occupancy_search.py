"""The 车位 page marks a car with no plate 无牌车; typed into 按车牌查找, 无牌车 finds no car."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, log_in


def _listed(client: TestClient, typed: str) -> list[str]:
    page = client.get("/occupancy", params={"plate": typed})
    assert page.status_code == 200
    return re.findall(r"<tr data-stay=\"\d+\">\s*<td><strong>([^<]*)</strong>", page.text)


def test_searching_the_mark_no_plate_cars_carry_finds_them(client: TestClient) -> None:
    """docs/parking.md: "the 车位 page lists the car under its ticket, its row marked 无牌车
    (searching 无牌 finds them all)". The guard looking for the van whose driver lost the paper
    ticket types what the rows are marked, 无牌车 (the word the plate dialog itself takes for such
    a car): the page says no car is found. It lists every car with no plate, as 无牌 does."""
    csrf = log_in(client, GUARD)
    given = client.post("/api/lanes/car-in/plate", headers=csrf, json={"no_plate": True})
    assert given.status_code == 200, given.text
    ticket = given.json()["plate"]
    assert client.post("/api/lanes/car-in/plate", headers=csrf, json={"plate": "苏E12345"}).status_code == 200
    assert _listed(client, "无牌") == [ticket]
    assert _listed(client, "无牌车") == [ticket], f"searching 无牌车 found {_listed(client, '无牌车')}"
