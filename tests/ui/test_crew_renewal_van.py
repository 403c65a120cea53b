"""A crew's pass renewed (a new pass for the same van) while the van is parked: docs/parking.md,
*Registered while inside*: "a visit extended with a new pass ... is found at the exit and pays for
its stay as it came in". The van uses its pass's QR at one end (a lane with a QR scanner and no
camera of its own) and is read by the camera at the other: found at the exit, it pays its 08:30 to
17:30 and leaves, and nothing is left inside."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import bearer, make_config, start_site, stored

TZ = ZoneInfo("Asia/Shanghai")
VAN = "皖A8F123"
CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "phone": "13711112222",
    "host_building": "3栋",
    "host_unit": "2单元",
    "plate": VAN,
}


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 31, hour, minute, tzinfo=TZ)


def _present(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    p = Presented(lane, kind, value, 0.97, at, "test")  # type: ignore[arg-type]
    return gw.on_worker(lambda _: gw.handle(p)).result(10)


@pytest.mark.parametrize(
    ("came_in_on", "leaves_on"),
    [("qr", "plate"), ("plate", "qr")],
    ids=["in_on_qr_out_by_camera", "in_by_camera_out_on_qr"],
)
def test_van_parked_when_its_crews_pass_is_renewed_pays_its_stay_and_closes_it(
    tmp_path: Path, came_in_on: str, leaves_on: str
) -> None:
    site = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    gw = site.gw
    clock = {"at": _at(7)}
    gw.now = lambda: clock["at"]  # type: ignore[method-assign]
    try:
        admin = bearer(site.admin_token)
        with TestClient(create_app(gw)) as client:
            first = client.post("/api/contractors", json={**CREW, "valid_to": "2025-03-31"}, headers=admin)
            assert first.status_code == 201, first.text
            qr = first.json()["qr"]
            shown = {"qr": qr, "plate": VAN}
            came = _present(gw, "car-in", came_in_on, shown[came_in_on], _at(8, 30))
            assert (came.admitted, came.reason) == (True, "contractor")
            clock["at"] = _at(12)
            # The owner extends the job to the end of June: the office issues the renewal now.
            renewal = client.post("/api/contractors", json={**CREW, "valid_to": "2025-06-30"}, headers=admin)
            assert renewal.status_code == 201, renewal.text
            out = _present(gw, "car-out", leaves_on, shown[leaves_on], _at(17, 30))
            assert ("no_entry_record" in out.flags, out.reason, out.fee_fen) == (
                False,
                "payment_due",
                2100,
            ), f"the van parked 08:30-17:30 left as {out.reason} {out.flags}, asked {out.fee_fen} fen"
            clock["at"] = _at(17, 31)  # the guard takes what the van owes, by its plate
            due = client.get("/api/parking/quote", params={"plate": VAN}, headers=admin).json()["due_fen"]
            paid = client.post(
                "/api/parking/lanes/car-out/pay",
                json={"plate": VAN, "amount_fen": due, "method": "cash"},
                headers=admin,
            )
            assert paid.status_code == 200, paid.text
        still_open = stored(site, "SELECT id, subject, plate FROM stays WHERE exited_at IS NULL")
    finally:
        gw.stop()
    assert still_open == [], f"stays still open after the van paid and left: {still_open}"
