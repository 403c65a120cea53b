"""Review 67 J2: a green plate of the 2022 energy kinds typed without its province is no army car.

Since 2022 a small green new-energy plate's energy kind is any of A-H, J, K, not only D or F
(grammar._NEV_KIND). 皖AA12345 typed AA12345 still fitted the army's format, and the guard's typed
plate let the resident's car in as a temporary army car (its stay open for good) while the
camera's 皖AA12345 let it in again. It is refused as ED12345 is; the army's AA-12345 is taken."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from plates.grammar import as_written, province_left_out
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving

Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def app(make_gw: Callable[..., Gateway]) -> Iterator[Served]:  # noqa: F811
    with serving(make_gw()) as served:
        yield served


def test_every_energy_kind_without_its_province_is_caught_and_written_back() -> None:
    for kind in "ABCDEFGHJK":
        assert province_left_out(f"E{kind}12345"), kind
        assert not province_left_out(f"E{kind}-12345"), kind
        assert as_written(f"E{kind}12345") == f"E{kind}-12345"
    assert not province_left_out("EL12345") and as_written("VL12345") == "VL12345"  # L is no kind


def test_the_lane_refuses_aa12345_and_takes_the_army_plate_written_aa_12345(app: Served) -> None:
    _, client, auth = app
    typed = client.post("/api/lanes/car-in/plate", headers=auth, json={"plate": "AA12345"})
    assert typed.status_code == 422, typed.text
    assert (typed.json()["error"]["plate"], typed.json()["error"]["army"]) == ("AA12345", "AA-12345")
    army = client.post("/api/lanes/car-in/plate", headers=auth, json={"plate": "AA-12345"})
    assert army.status_code == 200 and army.json()["plate"] == "AA12345", army.text
