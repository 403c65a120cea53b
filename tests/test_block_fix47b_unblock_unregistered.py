"""Lifting, by its typed value, a block on a card, QR or plate nobody holds (deleted since, or typed
wrong): the admin is told there is no block to lift, never how to keep a car out, which is what
blocking such a plate is told (tests/test_block_fix47_unregistered_plate.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer, make_config, start_site

GONE = "苏E77777"  # nobody's car on this register


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.gw)) as c:
        yield c


def _post(client: TestClient, token: str, action: str, kind: str, value: str) -> dict[str, str]:
    r = client.post(
        f"/api/credentials/{action}", json={"kind": kind, "value": value, "reason": "车辆已找回"},
        headers=bearer(token),
    )
    assert r.status_code == 404, r.text
    return dict(r.json()["error"])


def test_unblocking_an_unregistered_plate_is_not_answered_with_how_to_keep_the_car_out(
    client: TestClient, site: Site
) -> None:
    """He was told 404 unregistered_plate: "nothing to block: to keep this car out, close the car
    entrance when it comes, and call the police" (the page's words: 车牌…未登记，无法禁用). He
    asked to lift a block: there is none to lift."""
    error = _post(client, site.admin_token, "unblock", "plate", GONE)
    told = f"{error['code']}: {error['message']} — {error['fix']}"
    assert error["code"] == "not_found", f"the admin lifting a block was told: {told}"
    assert "close the car entrance" not in told and "no block to lift" in told, told


@pytest.mark.parametrize(("kind", "value"), [("card", "0099887766"), ("qr", "no-such-token")])
def test_unblocking_an_unknown_card_or_qr_says_there_is_no_block_to_lift(
    client: TestClient, site: Site, kind: str, value: str
) -> None:
    """Not "an unknown card is refused already", an answer to someone keeping it out."""
    error = _post(client, site.admin_token, "unblock", kind, value)
    told = f"{error['message']} — {error['fix']}"
    assert error["code"] == "not_found" and "refused already" not in told, told
    assert "no block to lift" in told, told


def test_blocking_an_unregistered_plate_still_says_how_to_keep_the_car_out(
    client: TestClient, site: Site
) -> None:
    error = _post(client, site.guard_token, "block", "plate", GONE)
    assert error["code"] == "unregistered_plate", error
    assert "close the car entrance" in error["fix"], error
